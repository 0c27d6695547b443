// Package lab runs a complete, self-contained mail system in memory for
// learning and testing: a DNS server for lab.test, SMTP (MX role, with
// STARTTLS), submission (STARTTLS then AUTH PLAIN/LOGIN), SMTPS (implicit
// TLS), POP3 with STLS, POP3S, IMAP with STARTTLS and IMAPS, all on
// loopback with free ports by default, all backed by one in-memory
// mailbox store. Nothing is written to disk.
//
// Start returns a Lab; Close stops everything and waits for every
// goroutine. The lab makes its own CA and server certificate (ECDSA P-256)
// at start; CAPool and CAPEM hand the CA to clients.
//
// # Scenarios
//
// SetScenario injects one fault at a time (see Scenarios for the list and
// what each teaches). A connection keeps the scenario that was active
// when it was accepted; DNS answers always follow the active scenario.
// Faults that belong to the receiving side of Internet mail (greylisting,
// blocklists, SPF, banner delays, anonymous and STARTTLS policy, a closed
// port) apply to the MX-facing SMTP endpoint; recipient, size and
// connection faults apply to all three SMTP endpoints; certificate faults
// apply to every TLS service.
//
// mailbox-full is modelled as a quota: kate@lab.test is already over
// quota, so RCPT gets 452 4.2.2 (temporary: the mailbox may be emptied);
// chris@lab.test has 1 KiB left, so RCPT is accepted but a message larger
// than that gets 552 5.2.2 after DATA (permanent for this message).
//
// # Ports and MX
//
// DNS names a host, not a port, and every lab service has one port. So
// Endpoints().MX lists each exchanger with the HOST:PORT that plays its
// port 25: for dead-primary, MX 10 maps to a port where nothing listens
// and MX 20 to the SMTP endpoint; for no-mx, the implicit MX (the domain's
// A record) maps to the SMTP endpoint; for null-mx the list is empty.
// The DNS answers themselves (MX, A, TXT for SPF and DMARC, PTR in
// 127.in-addr.arpa) are real and can be queried with dig.
//
// Standards: RFC 5321 (SMTP), RFC 3207 (STARTTLS), RFC 4954 (AUTH),
// RFC 6409 (submission), RFC 8314 (implicit TLS), RFC 1870 (SIZE),
// RFC 3463 (enhanced status codes), RFC 7505 (null MX), RFC 7208 (SPF
// record form), RFC 1939, 2449, 2595 and 3206 (POP3, see package pop3d),
// RFC 3501 (IMAP4rev1, via go-imap), RFC 1035 and 2308 (DNS answers and
// negative answers).
package lab
