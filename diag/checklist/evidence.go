package checklist

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Fact is a yes/no answer that may not be known yet. The zero value is
// FactUnknown, so an Evidence literal only needs the facts that were
// actually observed.
type Fact int8

// The three states of a Fact.
const (
	FactUnknown Fact = iota // not looked up or not observed yet
	FactYes                 // observed and true
	FactNo                  // observed and false
)

// DNS is what the MX and address lookups found for the destination.
type DNS struct {
	// DomainExists is FactNo when the domain got NXDOMAIN.
	DomainExists Fact
	// MXFound is FactYes when the domain has at least one MX record.
	MXFound Fact
	// NullMX is true when the domain publishes "MX 0 ." (RFC 7505):
	// it declares that it accepts no mail at all.
	NullMX bool
	// HostResolved is FactNo when the chosen mail host has no A/AAAA record.
	HostResolved Fact
	// Addresses are the addresses the mail host resolved to.
	Addresses []string
}

// ConnectOutcome is how the TCP (or implicit-TLS) connection attempt ended.
type ConnectOutcome string

// Connection outcomes. The session layer maps its errors onto these; the
// empty value means no attempt has been recorded yet.
const (
	ConnectNone        ConnectOutcome = ""
	ConnectOK          ConnectOutcome = "ok"
	ConnectRefused     ConnectOutcome = "refused"     // RST in answer to SYN: the host is up
	ConnectTimeout     ConnectOutcome = "timeout"     // no answer at all: dropped somewhere
	ConnectReset       ConnectOutcome = "reset"       // accepted, then reset by the peer or a middlebox
	ConnectUnreachable ConnectOutcome = "unreachable" // ICMP host/network unreachable
	ConnectDNSError    ConnectOutcome = "dns-error"   // the name did not resolve
	ConnectTLSError    ConnectOutcome = "tls-error"   // implicit TLS (465/993/995) failed
)

// TLSReason says why a TLS handshake (implicit or after STARTTLS) failed.
type TLSReason string

// TLS failure reasons. The empty value means no TLS failure was seen.
const (
	TLSNone             TLSReason = ""
	TLSExpired          TLSReason = "expired"
	TLSUnknownAuthority TLSReason = "unknown-authority"
	TLSNameMismatch     TLSReason = "name-mismatch"
	TLSHandshake        TLSReason = "handshake"        // any other handshake failure
	TLSProtocolVersion  TLSReason = "protocol-version" // no TLS version in common
)

// Reply is the server's answer to the step being evaluated. For SMTP, Code
// and Enhanced are set; for POP3 and IMAP, Status holds "+OK", "-ERR", "OK",
// "NO" or "BAD". Category is the reply-code explainer's category (the
// string values of diag/replycode's categories, such as "mailbox-unknown").
//
// Text is server-supplied and untrusted: Evaluate matches words in it but
// never copies it into a Why sentence.
type Reply struct {
	Code     int
	Enhanced string
	Text     string
	Status   string
	Category string
}

// Present reports whether a reply was received at all.
func (r Reply) Present() bool { return r.Code != 0 || r.Status != "" }

// Failed reports whether the reply is a transient or permanent failure:
// a 4xx or 5xx code (RFC 5321 section 4.2.1), POP3 "-ERR", or IMAP "NO"/"BAD".
func (r Reply) Failed() bool {
	if r.Code >= 400 {
		return true
	}
	switch strings.ToUpper(r.Status) {
	case "-ERR", "NO", "BAD", "BYE":
		return true
	}
	return false
}

// Succeeded reports whether the reply is a positive completion or an
// intermediate "go on" (2xx, 3xx, "+OK", "OK", "PREAUTH", "+").
func (r Reply) Succeeded() bool {
	if r.Code >= 200 && r.Code < 400 {
		return true
	}
	switch strings.ToUpper(r.Status) {
	case "+OK", "OK", "PREAUTH", "+":
		return true
	}
	return false
}

var enhancedRE = regexp.MustCompile(`^[245]\.[0-9]{1,3}\.[0-9]{1,3}$`)

// label renders the reply for a Why sentence from trusted parts only: the
// numeric code, the enhanced code when it is well formed, the POP3/IMAP
// status word when it is one we know, and the category.
func (r Reply) label() string {
	var b strings.Builder
	switch {
	case r.Code != 0:
		fmt.Fprintf(&b, "%d", r.Code)
		if enhancedRE.MatchString(r.Enhanced) {
			b.WriteString(" " + r.Enhanced)
		}
	default:
		switch s := strings.ToUpper(r.Status); s {
		case "+OK", "-ERR", "OK", "NO", "BAD", "BYE", "PREAUTH", "+":
			b.WriteString(s)
		default:
			b.WriteString("a reply")
		}
	}
	if r.Category != "" && validCategory(r.Category) {
		b.WriteString(" (" + r.Category + ")")
	}
	return b.String()
}

// Capabilities is what the server advertised: the SMTP EHLO list, or the
// POP3 CAPA / IMAP CAPABILITY list.
type Capabilities struct {
	// Seen is true once a capability list was received; without it the
	// other fields mean nothing.
	Seen bool
	// STARTTLS is true when STARTTLS (SMTP, IMAP) or STLS (POP3) was offered.
	STARTTLS bool
	// Auth lists the SASL mechanisms offered (AUTH=PLAIN, AUTH LOGIN ...),
	// upper case.
	Auth []string
	// Size is the SIZE limit in bytes (RFC 1870); 0 when not advertised.
	Size int64
	// LoginDisabled is true when IMAP listed LOGINDISABLED (RFC 9051
	// section 6.2.3): LOGIN is refused until TLS is active.
	LoginDisabled bool
}

// Evidence is everything collected so far about one conversation. Only the
// fields that were observed need to be filled in; Evaluate treats zero
// values as "not known yet".
type Evidence struct {
	DNS DNS
	// Port is the destination port; it sharpens the wording of the
	// port-25 and implicit-TLS reasons.
	Port    int
	Connect ConnectOutcome
	// TLSError is set when a TLS handshake failed, with implicit TLS or
	// after STARTTLS.
	TLSError TLSReason
	// Reply is the answer to the step being evaluated.
	Reply Reply
	// Closed is true when the server closed the connection instead of
	// answering the step.
	Closed bool
	// ConnectTime is how long the TCP connect took (or ran until it failed).
	ConnectTime time.Duration
	// BannerDelay is the time from connect to the first byte of the greeting.
	BannerDelay time.Duration
	Caps        Capabilities
	TLSActive   bool
	// Authenticated is true after a successful AUTH / PASS / LOGIN.
	Authenticated bool
	// Helo is the name sent in EHLO/HELO.
	Helo string
	// AuthMechanism is the SASL mechanism that was tried, such as "LOGIN".
	AuthMechanism string
	// MessageSize is the size in bytes of the message sent in DATA.
	MessageSize int64
}
