// Package wire is the transport under mailflow's SMTP, POP3 and IMAP
// clients: a line-oriented connection with a connect timeout, a deadline
// per step and per session, limits on line and reply sizes, implicit TLS
// and in-place upgrades (STARTTLS, STLS), TLS facts with a verification
// verdict, and a transcript of every line sent and received.
//
// The transcript tap sits above TLS, so after an upgrade the transcript
// keeps showing plain protocol lines, never ciphertext. Lines are recorded
// by the protocol packages, which know when a line carries a secret and
// hand wire the redacted form to record (RFC 4954 AUTH payloads, POP3 PASS,
// IMAP LOGIN).
//
// Every blocking call takes a context. Cancelling it closes the socket at
// once; Cmds in a TUI cannot be cancelled, contexts can. Each limit, when
// hit, ends the step with a *LimitError or *TimeoutError that names the
// limit and where it was hit.
//
// Relevant RFCs: RFC 5321 §4.5.3 (line length limits and timeouts),
// RFC 3207 (SMTP STARTTLS), RFC 2595 (POP3 STLS, IMAP STARTTLS), RFC 8314
// (implicit TLS for submission and access), RFC 5280 (certificate
// validation).
package wire
