// Package replycode explains mail server replies: SMTP reply codes and
// enhanced status codes, POP3 status indicators and response codes, and IMAP
// status responses and response codes. Explain turns a raw reply (and,
// when known, the command it answered) into a class, one of a fixed list of
// failure categories, a one-line summary, what the reply means at that step,
// the likely causes and concrete next steps.
//
// The knowledge base is data, embedded by package assets (one TOML file per
// table) and loaded once. Lookups go from the most specific evidence to the
// least: vendor patterns (code plus text), the enhanced status code, generic
// keyword patterns, the basic code for the command, and finally the meaning
// of each digit. The basic code always decides the class, as RFC 5321
// §4.2 requires of clients.
//
// Standards used:
//   - RFC 5321 §4.2 and §4.3 (SMTP reply codes and the meaning of each digit)
//   - RFC 3463, RFC 5248 and the IANA "SMTP Enhanced Status Codes" registry
//     (including RFC 7372 for X.7.20 to X.7.26, RFC 7505 for null MX, RFC 8617
//     for ARC and RFC 8689 for REQUIRETLS)
//   - RFC 2034 (ENHANCEDSTATUSCODES), RFC 3207 (STARTTLS), RFC 4954 (AUTH),
//     RFC 7504 (521 and 556)
//   - RFC 1939, RFC 2449 and RFC 3206 (POP3 status and response codes),
//     RFC 5034 (POP3 SASL continuations)
//   - RFC 3501, RFC 9051 and RFC 5530 (IMAP status responses and response
//     codes)
//
// The package is pure: it does no I/O after the knowledge base is loaded
// and never imports the session or UI packages.
package replycode
