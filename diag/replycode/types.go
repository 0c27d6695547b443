package replycode

// Protocol names the mail protocol a reply belongs to.
type Protocol string

// The protocols the explainer knows. ProtocolUnknown in an Input asks
// Explain to infer the protocol from the reply itself.
const (
	ProtocolUnknown Protocol = ""
	ProtocolSMTP    Protocol = "smtp"
	ProtocolPOP3    Protocol = "pop3"
	ProtocolIMAP    Protocol = "imap"
)

// Class says how the exchange went, in the terms of RFC 5321 §4.2.1: done,
// waiting for more input, failed for now, or failed for good.
type Class string

// The reply classes. ClassUnknown is only used when no status could be
// found in the reply at all.
const (
	ClassSuccess      Class = "success"
	ClassIntermediate Class = "intermediate"
	ClassTransient    Class = "transient"
	ClassPermanent    Class = "permanent"
	ClassUnknown      Class = "unknown"
)

// Category is the troubleshooting bucket a reply falls into. The list is
// fixed: other packages (checklists, the wizard, the UI) switch on it.
type Category string

// The categories, in the order they are documented.
const (
	CategoryOK                 Category = "ok"
	CategoryMailboxUnknown     Category = "mailbox-unknown"
	CategoryMailboxFull        Category = "mailbox-full"
	CategoryMailboxDisabled    Category = "mailbox-disabled"
	CategoryMailboxLocked      Category = "mailbox-locked"
	CategorySenderInvalid      Category = "sender-invalid"
	CategoryRelayDenied        Category = "relay-denied"
	CategoryAuthRequired       Category = "auth-required"
	CategoryAuthFailed         Category = "auth-failed"
	CategoryTLSRequired        Category = "tls-required"
	CategorySPFFail            Category = "spf-fail"
	CategoryDKIMFail           Category = "dkim-fail"
	CategoryDMARCFail          Category = "dmarc-fail"
	CategoryReverseDNS         Category = "reverse-dns"
	CategoryBlocklisted        Category = "blocklisted"
	CategoryRateLimited        Category = "rate-limited"
	CategoryGreylisted         Category = "greylisted"
	CategoryMessageTooBig      Category = "message-too-big"
	CategoryContentRejected    Category = "content-rejected"
	CategorySyntax             Category = "syntax"
	CategoryBadSequence        Category = "bad-sequence"
	CategoryHELORejected       Category = "helo-rejected"
	CategoryPolicy             Category = "policy"
	CategoryRouting            Category = "routing"
	CategoryServiceUnavailable Category = "service-unavailable"
	CategoryOther              Category = "other"
)

// Categories lists every category, so that callers (and tests) can check
// that a value is one of them.
var Categories = []Category{
	CategoryOK, CategoryMailboxUnknown, CategoryMailboxFull, CategoryMailboxDisabled,
	CategoryMailboxLocked, CategorySenderInvalid, CategoryRelayDenied, CategoryAuthRequired,
	CategoryAuthFailed, CategoryTLSRequired, CategorySPFFail, CategoryDKIMFail,
	CategoryDMARCFail, CategoryReverseDNS, CategoryBlocklisted, CategoryRateLimited,
	CategoryGreylisted, CategoryMessageTooBig, CategoryContentRejected, CategorySyntax,
	CategoryBadSequence, CategoryHELORejected, CategoryPolicy, CategoryRouting,
	CategoryServiceUnavailable, CategoryOther,
}

// Valid reports whether c is one of the fixed categories.
func (c Category) Valid() bool {
	for _, k := range Categories {
		if c == k {
			return true
		}
	}
	return false
}

// Input is one reply to explain.
type Input struct {
	// Protocol is the protocol the reply came from; leave it empty to infer
	// it from the reply.
	Protocol Protocol
	// Command is the command (or step) the reply answered: "connect",
	// "EHLO", "MAIL", "RCPT", "DATA", "." (end of data), "USER", "LOGIN",
	// "SELECT" and so on. A full command line such as "MAIL FROM:<a@b>" or
	// "a1 LOGIN u p" is accepted too. Empty means unknown; Explain then
	// looks for hints such as Postfix's "(in reply to RCPT TO command)".
	Command string
	// Lines are the raw reply lines. A multi-line reply may come as several
	// elements or as one string with newlines.
	Lines []string
}

// Explanation is what Explain found out about a reply.
type Explanation struct {
	// Protocol is the protocol used to read the reply (given or inferred).
	Protocol Protocol `json:"protocol"`
	// Command is the canonical name of the command the reply answered, or
	// empty when unknown. End of data is ".", the greeting is "CONNECT".
	Command string `json:"command,omitempty"`
	// Code is the status: a three-digit SMTP code, "+OK", "-ERR" or "+" for
	// POP3, "OK", "NO", "BAD", "BYE", "PREAUTH" or "+" for IMAP.
	Code string `json:"code"`
	// EnhancedCode is the RFC 3463 enhanced status code of an SMTP reply,
	// such as "5.7.26", when the server sent one.
	EnhancedCode string `json:"enhanced_code"`
	// ResponseCode is the bracketed POP3 (RFC 2449) or IMAP (RFC 5530,
	// RFC 9051) response code, such as "IN-USE" or "AUTHENTICATIONFAILED".
	ResponseCode string `json:"response_code,omitempty"`
	// Class is success, intermediate, transient or permanent (unknown only
	// when no status was found).
	Class Class `json:"class"`
	// Category is the troubleshooting bucket.
	Category Category `json:"category"`
	// Summary is a one-line description.
	Summary string `json:"summary"`
	// Meaning says what the reply means at this step of the conversation.
	Meaning string `json:"meaning"`
	// Causes lists likely causes, the most likely first.
	Causes []string `json:"causes"`
	// NextSteps lists concrete things to check or try.
	NextSteps []string `json:"next_steps"`
	// Notes lists oddities worth knowing, such as a basic code and an
	// enhanced code that disagree.
	Notes []string `json:"notes,omitempty"`
	// Generic is true when no specific entry matched and the answer was
	// built from the meaning of the digits alone.
	Generic bool `json:"generic"`
	// Decoded holds the printable text of base64 challenges (SMTP 334, POP3
	// and IMAP "+ " continuations).
	Decoded []string `json:"decoded"`
	// Matched names the table entries or patterns used, for debugging, for
	// example "enhanced-codes:X.7.26" or "vendor-postfix:relay-access-denied".
	Matched string `json:"matched"`
	// Vendor names the vendor whose pattern matched, when one did.
	Vendor string `json:"vendor,omitempty"`
	// Text is the human-readable reply text with status codes and repeated
	// continuation prefixes removed.
	Text string `json:"text"`
}
