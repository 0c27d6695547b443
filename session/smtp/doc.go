// Package smtp is a recording SMTP client for troubleshooting: every line
// it sends or receives goes into a transcript (session/transcript) with
// its step, its parsed reply, its round-trip time and, for secrets, only a
// redacted form.
//
// It offers a raw mode (Client.Do sends a line exactly as typed, the way
// an engineer uses telnet) and typed helpers (Hello, StartTLS, Auth, Mail,
// Rcpt, Data, Rset, Noop, Vrfy, Quit, Transaction) that check every
// argument before anything is sent.
//
// Implemented:
//   - RFC 5321: commands, the reply grammar (§4.2), multi-line replies,
//     dot-stuffing (§4.5.2), the null reverse-path (§4.5.5), the 554
//     greeting (§3.1) and HELO fallback (§3.2).
//   - RFC 3463 and RFC 2034: enhanced status codes.
//   - RFC 3207: STARTTLS, with the capabilities before and after TLS kept
//     apart as §4.2 requires.
//   - RFC 4954: AUTH with PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login)
//     and CRAM-MD5 (RFC 2195); base64 challenges are decoded into
//     annotations and every payload that carries a secret is recorded
//     redacted.
//   - RFC 2920: PIPELINING in Transaction.
//   - RFC 1870 SIZE, RFC 3461 DSN (NOTIFY, ORCPT, RET, ENVID), RFC 6152
//     8BITMIME, RFC 6531 SMTPUTF8, RFC 3030 CHUNKING/BINARYMIME (recognised
//     in EHLO only).
package smtp
