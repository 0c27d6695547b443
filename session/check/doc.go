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
// MX, and the null MX of RFC 7505). Like an MTA it moves on to the next
// server after a connection failure or a session-level 4xx (a 421 or 4xx
// greeting, 4xx to EHLO or STARTTLS) and stops at the first server that
// completes or refuses for good; with Options.AllMX every address of
// every MX is tried concurrently and each gets a verdict, summarised per
// host and per address family.
//
// Options.QuitAfter stops the procedure after any step. "data" sends
// DATA and, after the 354, drops the connection without a message: once
// DATA is accepted every line is message text, so the only clean ways
// out are sending a message or closing the connection, and a server acts
// on a transaction only when its end-of-data "." arrives (RFC 5321
// §4.1.1.4). DSN parameters follow RFC 3461 (NOTIFY, RET, ENVID in
// xtext); free MAIL and RCPT parameters are checked against the
// esmtp-param grammar of RFC 5321 §4.1.2 before anything is sent.
//
// Derived facts are filled in from the steps: the capabilities before
// and after STARTTLS and their difference, the banner delay (a slow
// banner, typically a postscreen greet pause or a tarpit, is a warning,
// not a failure), one answer per recipient, and the explanation of the
// failing reply by diag/replycode.
package check
