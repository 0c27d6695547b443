package lab

import (
	"fmt"
	"strings"
)

// Scenario describes one fault the lab can inject.
type Scenario struct {
	// Name is the identifier passed to SetScenario and --scenario.
	Name string `json:"name"`
	// Description says in one line what the lab does differently.
	Description string `json:"description"`
	// Conclusion is what a learner should conclude after watching a
	// client fail (or succeed) against this scenario.
	Conclusion string `json:"conclusion"`
}

// Scenario names. They are part of the command-line interface.
const (
	Healthy           = "healthy"
	UserUnknown       = "user-unknown"
	RelayDenied       = "relay-denied"
	AnonymousRejected = "anonymous-rejected"
	BadHelo           = "bad-helo"
	StartTLSRequired  = "starttls-required"
	AuthFailed        = "auth-failed"
	Greylisted        = "greylisted"
	MailboxFull       = "mailbox-full"
	MessageTooBig     = "message-too-big"
	Blocklisted       = "blocklisted"
	SPFFail           = "spf-fail"
	SlowBanner        = "slow-banner"
	NoBanner          = "no-banner"
	ConnRefused       = "connection-refused"
	DeadPrimary       = "dead-primary"
	NullMX            = "null-mx"
	NoMX              = "no-mx"
	UntrustedCert     = "untrusted-cert"
	ExpiredCert       = "expired-cert"
	POP3LoginFailed   = "pop3-login-failed"
	IMAPLoginFailed   = "imap-login-failed"
	DisconnectMidData = "disconnect-mid-data"
)

// scenarios is the catalogue, in the order lists show it.
var scenarios = []Scenario{
	{Healthy, "Every service works: mail to kate@lab.test or chris@lab.test is delivered and readable over POP3 and IMAP.",
		"This is the baseline: compare every other scenario's transcript with this one."},
	{UserUnknown, "The lab.test mailboxes no longer exist: RCPT TO for any lab.test address gets 550 5.1.1.",
		"The address is wrong or the mailbox was removed; fix the recipient, retrying will not help."},
	{RelayDenied, "Recipients outside lab.test get 554 5.7.1 Relay access denied, even after AUTH on submission.",
		"This server is not a relay for that domain: send to the domain's own MX, or fix the relay permissions."},
	{AnonymousRejected, "The MX (SMTP) endpoint refuses MAIL FROM from unauthenticated clients with 530 5.7.1.",
		"The receive connector does not accept anonymous senders: authenticate, or ask for anonymous receipt to be allowed."},
	{BadHelo, "The SMTP endpoints reject HELO/EHLO names that are not fully-qualified domain names with 501 5.5.4.",
		"Your client announces itself with a bare or malformed name: configure a real FQDN as its HELO name."},
	{StartTLSRequired, "The MX (SMTP) endpoint answers MAIL FROM with 530 5.7.0 until the client has issued STARTTLS.",
		"The server insists on encryption: the client must use STARTTLS before the envelope."},
	{AuthFailed, "Submission (and SMTPS) answers every AUTH attempt with 535 5.7.8, even with correct credentials.",
		"The server rejects the credentials: check user name form, password, and whether the account may use SMTP AUTH."},
	{Greylisted, "The MX (SMTP) endpoint answers RCPT with 451 4.7.1 the first time it sees an (IP, sender, recipient) triplet; a retry after a short wait is accepted.",
		"A 4xx is temporary: a real MTA queues and retries, and the retry succeeds. Do not treat greylisting as a failure."},
	{MailboxFull, "kate@lab.test is over quota (452 4.2.2 at RCPT); chris@lab.test has 1 KiB left, so a larger message gets 552 5.2.2 after DATA.",
		"The recipient must clean up the mailbox or get a larger quota; the sender can only wait (4xx) or give up (5xx)."},
	{MessageTooBig, "The SMTP endpoints advertise SIZE 10240 and refuse larger messages with 552 5.3.4.",
		"Send a smaller message (shrink attachments) or raise the server's size limit."},
	{Blocklisted, "The MX (SMTP) endpoint refuses RCPT with 554 5.7.1 because the client's IP is listed on the fictional bl.lab.test DNSBL.",
		"Your sending IP has a bad reputation: get it delisted (and fix the cause) before mail will flow."},
	{SPFFail, "The MX (SMTP) endpoint rejects the message after DATA with 550 5.7.23 because the SPF check fails.",
		"The sending IP is not in the sender domain's SPF record: fix the SPF record or send through an authorised server."},
	{SlowBanner, "The MX (SMTP) endpoint waits a few seconds (postscreen-style) before sending its 220 greeting.",
		"Slow greetings are deliberate or a sign of load/DNS trouble: the client must wait for the banner before talking."},
	{NoBanner, "The MX (SMTP) endpoint accepts the TCP connection and never says anything.",
		"Something (a firewall, proxy or a hung daemon) accepts connections without an SMTP server behind it."},
	{ConnRefused, "Nothing listens on the MX (SMTP) port: connections are refused.",
		"The service is down or the port is wrong/blocked; check the daemon and firewall before SMTP details."},
	{DeadPrimary, "MX 10 (mx1.lab.test) points at a port where nothing listens; MX 20 (mx2.lab.test) works.",
		"Senders fall back to the next MX by preference; the primary must still be fixed."},
	{NullMX, "lab.test publishes a null MX (MX 0 .): the domain says it accepts no mail at all.",
		"A null MX (RFC 7505) means mail to that domain must not be attempted; senders bounce at once."},
	{NoMX, "lab.test has no MX records, only an A record.",
		"Without MX records senders fall back to the domain's A/AAAA address (RFC 5321 section 5.1)."},
	{UntrustedCert, "Every TLS service presents a certificate issued by a CA the client does not trust.",
		"The certificate chain does not lead to a trusted root: install the right chain or trust the issuing CA."},
	{ExpiredCert, "Every TLS service presents a certificate that expired yesterday.",
		"The server's certificate must be renewed; clients that verify certificates will refuse it."},
	{POP3LoginFailed, "POP3 refuses every login with -ERR [AUTH], even with correct credentials.",
		"The POP3 server rejects the account: check the user name form, password, and whether POP3 is enabled for it."},
	{IMAPLoginFailed, "IMAP refuses every login with NO [AUTHENTICATIONFAILED], even with correct credentials.",
		"The IMAP server rejects the account: check the user name form, password, and whether IMAP is enabled for it."},
	{DisconnectMidData, "The SMTP endpoints drop the connection in the middle of DATA.",
		"A connection lost during DATA means the message was not accepted: the sender must retry it."},
}

// Scenarios returns the catalogue of scenarios, healthy first.
func Scenarios() []Scenario {
	out := make([]Scenario, len(scenarios))
	copy(out, scenarios)
	return out
}

// LookupScenario returns the scenario called name.
func LookupScenario(name string) (Scenario, error) {
	for _, s := range scenarios {
		if s.Name == name {
			return s, nil
		}
	}
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.Name
	}
	return Scenario{}, fmt.Errorf("lab: unknown scenario %q (known: %s)", name, strings.Join(names, ", "))
}
