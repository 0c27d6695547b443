// Package check runs a mail-server test procedure without a user at the
// keyboard and reports every step as data: the `mailflow check` command
// prints a Result as a table or as JSON, and the tests assert on it.
//
// The result types (Result, Step, HostResult) are shared by every
// protocol: RunSMTP (this package, over session/smtp) and RunPOP3 and
// RunIMAP (over session/pop3 and session/imap) all fill the same shape, so
// that one renderer and one JSON schema serve all three.
//
// The SMTP procedure follows the classic manual test (RFC 5321 §3 and §4):
// connect and read the greeting, EHLO (RFC 5321 §4.1.1.1), STARTTLS
// (RFC 3207) and EHLO again, AUTH (RFC 4954), MAIL FROM, one RCPT TO per
// recipient, then either RSET and QUIT (a probe, which must never deliver
// mail) or DATA with a short RFC 5322 test message and QUIT. RunDomain
// picks the servers the way a sending MTA would (RFC 5321 §5.1: MX
// records in preference order, every address of each host, the implicit
// MX, and the null MX of RFC 7505).
package check
