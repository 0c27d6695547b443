// Package peertest is a scripted loopback server for client tests: a test
// writes the server side of one conversation as a script of Send and
// Expect calls, points the client under test at the returned address,
// and afterwards reads back every line the client sent.
//
// It speaks no protocol of its own, so the POP3 (RFC 1939, RFC 2449),
// IMAP (RFC 9051) and SMTP (RFC 5321) client tests can all script their
// peer with it. It covers what those scripts need: line exchange with a
// CRLF check (every one of those protocols ends lines with CRLF), raw
// writes for partial lines, the server side of a STARTTLS/STLS upgrade
// (RFC 3207, RFC 2595) with certificates from a throw-away authority
// (see internal/pki), and a connection reset.
//
// Failures in the script are reported with testing.TB.Errorf from the
// script's goroutine; the cleanup that Start registers waits for the
// script to end, so no report arrives after the test has finished.
package peertest
