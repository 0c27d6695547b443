// Package realpeers runs real mail and DNS servers (Debian's Postfix, Dovecot
// and NSD) on 127.0.0.1 for integration tests, from private configuration
// directories and on free high ports picked at run time. Nothing it starts
// listens beyond loopback, and no mail ever leaves the machine.
//
// # Use from a test package
//
// Every package that uses the harness stops the daemons at the end of its
// test binary with:
//
//	func TestMain(m *testing.M) { os.Exit(realpeers.Main(m)) }
//
// (A package with its own TestMain calls realpeers.Shutdown after m.Run.) If
// a binary dies without that (panic, go test -timeout, SIGKILL), a small
// watchdog process notices the end of the binary, sends SIGTERM to the
// daemons it started, identified by their own pid files and executables, and
// removes their base directories. Nothing else is ever signalled.
//
// Then, in a test:
//
//	m := realpeers.Postfix(t)  // shared Postfix+Dovecot, started on first use
//	m.LogOnFailure(t)          // print Postfix/Dovecot log tails if t fails
//	// talk SMTP to m.SMTP, send to m.Address("kate") with a unique marker,
//	// or let the harness do it with net/smtp:
//	m.Send(t, m.Address("kate"), "Subject: "+marker+"\r\n\r\nhello\r\n")
//	msg := m.WaitMessage(t, "kate", marker, 10*time.Second)
//
//	d := realpeers.NSD(t, map[string]string{"example.test": zoneText})
//	// query d.Addr over UDP or TCP; stopped automatically when t ends
//
// # Skip or fail
//
// When a binary is missing, or the test does not run as root, Postfix, NSD
// and Require call t.Skip, unless CI=true or MAILFLOW_REAL_PEERS=1 is set:
// then they call t.Fatal, so CI cannot silently skip real-peer tests. In
// -short mode they skip unless one of those variables is set. .ci/run
// installs the packages. MAILFLOW_REAL_PEERS_KEEP=1 keeps the base
// directories under /tmp after the run for inspection.
//
// # What the mail peer does
//
// Postfix accepts mail for Domain ("realpeers.test") at Mail.SMTP and
// delivers it with virtual(8) to maildirs (uid/gid 65534) that Dovecot
// serves over POP3 and IMAP. Users are kate/kate-pass, chris/chris-pass and
// postmaster/postmaster-pass; user+tag@Domain reaches user (recipient
// delimiter "+"). Behaviour tests can rely on:
//
//   - STARTTLS is offered on Mail.SMTP, AUTH is not.
//   - An unknown user at RCPT TO gets 550 5.1.1 (smtpd_reject_unlisted_recipient).
//   - Any other domain gets 554 5.7.1 Relay access denied (reject_unauth_destination,
//     relay_domains_reject_code = 554; loopback is not trusted).
//   - message_size_limit is 1 MiB: a larger message gets 552 5.3.4, and EHLO
//     advertises SIZE 1048576.
//   - DSN is on (Postfix's default); bounces and any mail for other
//     domains go to the discard transport, never to the network.
//   - Mail.Submission requires STARTTLS before anything else (530 5.7.0),
//     then offers AUTH PLAIN and LOGIN, checked by Dovecot's SASL service;
//     unauthenticated RCPT is refused.
//   - Mail.Submissions is the same with implicit TLS (RFC 8314), no STARTTLS.
//   - Mail.ExpiredCertSMTP presents an expired certificate signed by the test
//     CA; Mail.SelfSignedSMTP a self-signed one. Both behave like Mail.SMTP.
//   - The servers' certificate is signed by a CA generated at start (CAFile,
//     Mail.TLSConfig, Mail.RootCAs) and names ServerName, localhost,
//     127.0.0.1 and ::1.
//
// Dovecot counts a connection from 127.0.0.1 to 127.0.0.1 as secured (its
// rule is remote IP equal to local IP), so plaintext LOGIN/USER+PASS work
// without TLS here even though disable_plaintext_auth = yes; bind the client
// to 127.0.0.2 to see LOGINDISABLED and "Plaintext authentication
// disallowed".
//
// # Time budget
//
// Starting Postfix+Dovecot takes about 1 s on an idle machine and 2-3 s on
// a busy one (mostly "postfix start" checking its installation), once per
// test binary; stopping them takes about 1 s more at the end (Dovecot's
// master waits for its children). An NSD starts and stops in about 0.2-0.4
// s. Each failed login costs about 2 s in Dovecot (its authentication failure
// delay, which also applies to failed AUTH on Mail.Submission, since Postfix
// asks Dovecot), so keep wrong-password tests few. Dovecot's growing per-IP
// penalty (up to 15 s) is switched off, so failures in one test do not slow
// down the next one. Figures come from
// "go test -run '^$' -bench . ./internal/realpeers/".
//
// # Sharing
//
// One Mail serves every test of a binary, including parallel tests: never
// assume an empty mailbox. Give each message a unique marker and use
// WaitMessage, or count with Delivered before sending. Test binaries of
// different packages run concurrently and each gets its own instance (own
// base directory under /tmp, own ports, Postfix queue and data directories,
// Dovecot instance_name and base_dir).
//
// This package implements no protocol itself; it configures servers that
// implement SMTP (RFC 5321), SMTP STARTTLS (RFC 3207), SMTP AUTH (RFC 4954),
// DSN (RFC 3461), SIZE (RFC 1870), POP3 (RFC 1939, STLS RFC 2595), IMAP4rev1
// (RFC 3501) and DNS (RFC 1035).
package realpeers
