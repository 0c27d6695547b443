// Package labbench load-tests the embedded lab (session/lab): hundreds of
// simultaneous SMTP, POP3 and IMAP sessions against one lab on loopback.
// Run it with run.sh; the figures are reported by TestLoad (sessions/s,
// most sessions held at once) and by the Benchmark functions.
package labbench
