// Package hostile holds mailflow's hostile-peer test suite and nothing
// else: in-process servers on loopback that each misbehave in one way (a
// 10 MB line, an endless continuation, a byte per second, no banner,
// invalid UTF-8, terminal escape sequences, an IMAP literal announcing a
// terabyte, TLS where plain text is expected and the reverse, a reset in
// the middle of a reply, a close during DATA, garbage after STARTTLS), and
// tests that drive the real SMTP, POP3 and IMAP clients and the check
// runner against them.
//
// Each test asserts a specific error (the session/wire error types and
// wire.Classify), an end within the step's deadline, bounded memory, no
// panic, no leaked goroutine, and a transcript that is kept and exports
// inert (no raw escape, bell, backspace, carriage return or C1 bytes).
// Further tests check that credentials never reach a transcript, an export,
// the journal or a check result, that TLS verification never falls back to
// insecure silently, and that user input carrying CR, LF or NUL is refused.
//
// The package has no exported API; SECURITY.md at the repository root
// describes the guarantees these tests back. Relevant RFCs: RFC 5321
// §4.5.3 (size limits and timeouts), RFC 3207 §4.2 and CVE-2011-0411
// (STARTTLS injection), RFC 9051 §4.3 (IMAP literals), RFC 4954 and
// RFC 4616 (AUTH, PLAIN), RFC 2195 (CRAM-MD5).
package hostile
