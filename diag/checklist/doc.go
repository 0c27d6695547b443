// Package checklist lists the usual reasons a mail conversation fails at
// each step (connect, greeting, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, the
// final dot, QUIT, POP3 and IMAP login) and rates them against what has been
// observed so far.
//
// The reasons, with a concrete way to check each one by hand, live in
// embedded TOML under assets/checklists; the tests validate that data and
// prove that every item can be reached. Evaluate is pure: it takes the step
// and an Evidence value (DNS results, how the connect ended, TLS errors, the
// reply and the explainer's category for it, timings, capabilities) and
// returns every item of the step with a Status (likely, unknown, ruled-out)
// and a Why sentence, likely first.
//
// The central distinction is between a refused and a timed-out connection:
// a refusal (RST) comes from a live host with nothing listening on the port,
// while a timeout means the packets were dropped (a firewall at either end,
// an ISP blocking port 25, a wrong or dead address).
//
// Why sentences are built from trusted parts only (numeric codes, validated
// enhanced codes, category names); server text is matched but never copied,
// so the TUI can show them without sanitising.
//
// Example:
//
//	ev := checklist.Evidence{Port: 25, Connect: checklist.ConnectTimeout, ConnectTime: 30 * time.Second}
//	for _, it := range checklist.Evaluate(checklist.StepConnect, ev) {
//		fmt.Printf("[%s] %s: %s\n", it.Status, it.Title, it.Why)
//	}
//
// RFCs the reasons and rules rely on: RFC 5321 (SMTP, reply codes, address
// literals, implicit MX, timeouts), RFC 3463 (enhanced status codes),
// RFC 3207 (STARTTLS), RFC 4954 (AUTH), RFC 1870 (SIZE), RFC 7505 (null MX),
// RFC 7208 (SPF), RFC 6376 (DKIM), RFC 7489 (DMARC), RFC 5322 (message
// format), RFC 1939 and RFC 2449/3206 (POP3 and its response codes),
// RFC 2595 (STLS), RFC 9051 and RFC 5530 (IMAP and its response codes).
package checklist
