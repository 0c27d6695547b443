package check

import (
	"time"

	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// Exit statuses of a check. They match the documented exit statuses of the
// mailflow batch commands, so a Result's Exit can be returned as is.
const (
	// ExitOK means every step succeeded.
	ExitOK = 0
	// ExitRefused means a server answered but refused a step (a 4xx or
	// 5xx reply, -ERR, NO/BAD), or DNS said the domain takes no mail.
	ExitRefused = 1
	// ExitUsage means the options or an argument were invalid; nothing
	// was sent, or the client refused to send it.
	ExitUsage = 2
	// ExitUnreachable means no server could be reached or talked to:
	// connection refused, timeout, DNS failure, TLS failure or a broken
	// protocol.
	ExitUnreachable = 3
)

// Step is one command of the procedure and the server's answer to it. It
// is protocol-neutral: for SMTP Name is "ehlo", "mail", "rcpt", ...; for
// POP3 "user", "pass", "stat"; for IMAP "login", "select". The pseudo
// step "connect" holds the greeting.
type Step struct {
	// Name is the step's name, lower case, as used in the transcript's
	// Entry.Step.
	Name string `json:"name"`
	// Command is the client line as recorded in the transcript, that is
	// with any secret already replaced ("AUTH PLAIN <redacted>"). It is
	// empty for the greeting. Several lines (an AUTH LOGIN exchange) are
	// joined with " / ".
	Command string `json:"command,omitempty"`
	// ReplyCode is the reply's code: "250" for SMTP, "+OK"/"-ERR" for
	// POP3, "OK"/"NO"/"BAD" for IMAP. Empty when no reply arrived.
	ReplyCode string `json:"reply_code,omitempty"`
	// EnhancedCode is the RFC 3463 enhanced status code ("5.1.1") or, for
	// POP3 and IMAP, the bracketed response code ("AUTH", "IN-USE").
	EnhancedCode string `json:"enhanced_code,omitempty"`
	// Reply holds the reply's lines as received. They come from the
	// network: pass them through transcript.Printable before showing them.
	Reply []string `json:"reply,omitempty"`
	// OK reports whether the step succeeded.
	OK bool `json:"ok"`
	// RTT is the time from sending the command to the reply's last line
	// (for the greeting: from the TCP connection).
	RTT time.Duration `json:"-"`
	// RTTms is RTT in milliseconds, for JSON.
	RTTms float64 `json:"rtt_ms"`
	// Err describes a failure that is not a plain refusal: a timeout, a
	// closed connection, a limit, a refused input. Empty otherwise.
	Err string `json:"error,omitempty"`
	// ErrKind is the wire.Kind of Err ("timeout", "closed", "input", ...)
	// or "refused-by-server" for a refusal reply.
	ErrKind string `json:"error_kind,omitempty"`
	// Skipped marks a step that was not run because an earlier one
	// failed or because the options did not ask for it.
	Skipped bool `json:"skipped,omitempty"`
}

// KindServerRefused is the ErrKind of a step the server refused with an
// error reply, as opposed to a transport failure.
const KindServerRefused = "refused-by-server"

// SetRTT sets RTT and its JSON twin RTTms together.
func (s *Step) SetRTT(d time.Duration) {
	s.RTT = d
	s.RTTms = float64(d.Microseconds()) / 1000
}

// FromReply fills the reply fields of s from a parsed reply: code,
// enhanced or response code, lines and OK.
func (s *Step) FromReply(r transcript.Reply) {
	s.ReplyCode = r.Code
	s.EnhancedCode = r.Enhanced
	if s.EnhancedCode == "" {
		s.EnhancedCode = r.RespCode
	}
	s.Reply = append([]string(nil), r.Lines...)
	s.OK = r.OK
	if !r.OK {
		s.ErrKind = KindServerRefused
	}
}

// HostResult is the verdict for one server tried in domain mode (one MX
// host and address).
type HostResult struct {
	// Host is the MX host name (or the domain itself for an implicit MX).
	Host string `json:"host"`
	// Preference is the MX preference; -1 for an implicit MX.
	Preference int `json:"preference"`
	// Address is the "ip:port" that was dialled; empty when the host
	// did not resolve.
	Address string `json:"address,omitempty"`
	// Verdict is "ok" (every step succeeded), "refused" (the server
	// answered and refused a step for good, or failed TLS verification),
	// "deferred" (the server answered with a temporary 4xx refusal),
	// "unreachable" (no conversation), or "not-tried" (an earlier host
	// decided the result).
	Verdict string `json:"verdict"`
	// Err explains a verdict other than "ok".
	Err string `json:"error,omitempty"`
	// Family is "ipv4" or "ipv6" for the address dialled; empty when the
	// host name was handed to a SOCKS5 proxy to resolve.
	Family string `json:"family,omitempty"`
	// ReplyCode is the code of the reply that decided the verdict (the
	// failing reply, or the last one on success).
	ReplyCode string `json:"reply_code,omitempty"`
	// Reply is the first line of that reply, as received (untrusted).
	Reply string `json:"reply,omitempty"`
	// GreetingMs is how long the banner took after the TCP connection, in
	// milliseconds; 0 when none arrived.
	GreetingMs float64 `json:"greeting_ms,omitempty"`
	// ElapsedMs is the time this attempt took, in milliseconds.
	ElapsedMs float64 `json:"elapsed_ms,omitempty"`
	// Exit is the exit status this host alone would give.
	Exit int `json:"exit"`
	// Warnings are notes about this host that are not failures (a slow
	// banner).
	Warnings []string `json:"warnings,omitempty"`
	// Steps are this attempt's steps (see Result.Steps).
	Steps []Step `json:"steps,omitempty"`
}

// Host verdicts.
const (
	VerdictOK          = "ok"
	VerdictRefused     = "refused"
	VerdictDeferred    = "deferred"
	VerdictUnreachable = "unreachable"
	VerdictNotTried    = "not-tried"
)

// MXSummary is the verdict for one MX host over all its addresses, and
// per address family.
type MXSummary struct {
	// Host is the MX host name.
	Host string `json:"host"`
	// Preference is the MX preference; -1 for an implicit MX.
	Preference int `json:"preference"`
	// Verdict is the best verdict of the host's addresses.
	Verdict string `json:"verdict"`
	// IPv4 and IPv6 are the best verdicts of the host's addresses of
	// that family; empty (absent) when no address of that family was in
	// the plan (none in DNS, or excluded by --4/--6).
	IPv4 string `json:"ipv4,omitempty"`
	IPv6 string `json:"ipv6,omitempty"`
}

// RecipientResult is the server's answer for one recipient.
type RecipientResult struct {
	// Address is the recipient as given.
	Address string `json:"address"`
	// Verdict is "accepted", "refused", "deferred" (4xx) or "not-tried".
	Verdict string `json:"verdict"`
	// ReplyCode and EnhancedCode are the reply's codes.
	ReplyCode    string `json:"reply_code,omitempty"`
	EnhancedCode string `json:"enhanced_code,omitempty"`
	// Reply holds the reply lines as received (untrusted).
	Reply []string `json:"reply,omitempty"`
}

// CapsDiff says how the capabilities changed between CapsBefore and
// CapsAfter (typically: STARTTLS disappears and AUTH appears once TLS is
// active). Capabilities are matched by their first word, case-insensitive.
type CapsDiff struct {
	// Added are the lines announced only after.
	Added []string `json:"added"`
	// Removed are the lines announced only before.
	Removed []string `json:"removed"`
	// Changed are keywords announced both times with different
	// parameters.
	Changed []CapChange `json:"changed"`
}

// CapChange is one capability whose parameters changed.
type CapChange struct {
	Keyword string `json:"keyword"`
	Before  string `json:"before"`
	After   string `json:"after"`
}

// Empty reports whether nothing changed.
func (d *CapsDiff) Empty() bool {
	return d == nil || len(d.Added)+len(d.Removed)+len(d.Changed) == 0
}

// Greeting describes how long the server took to send its banner.
type Greeting struct {
	// DelayMs is the time from the TCP connection (after the TLS
	// handshake for implicit TLS) to the banner's last line.
	DelayMs float64 `json:"delay_ms"`
	// Slow is set when the delay reached Options.SlowBanner. A slow
	// banner is not a failure: the server answered.
	Slow bool `json:"slow"`
	// Note explains a slow banner.
	Note string `json:"note,omitempty"`
}

// Explanation is what diag/replycode says about the failing reply.
type Explanation struct {
	// Step is the step whose reply is explained.
	Step string `json:"step"`
	// Code and EnhancedCode are the reply's codes.
	Code         string `json:"code"`
	EnhancedCode string `json:"enhanced_code,omitempty"`
	// Class is "success", "intermediate", "transient" or "permanent".
	Class string `json:"class"`
	// Category is the troubleshooting bucket (replycode.Category).
	Category string `json:"category"`
	// Summary is one line; Meaning says what the reply means at that step.
	Summary string `json:"summary"`
	Meaning string `json:"meaning,omitempty"`
	// Causes are the likely causes, most likely first; NextSteps what to
	// check or try.
	Causes    []string `json:"causes,omitempty"`
	NextSteps []string `json:"next_steps,omitempty"`
}

// Result is the outcome of one check: the steps in order, the TLS facts,
// and an overall verdict and exit status.
type Result struct {
	// Protocol is "smtp", "pop3" or "imap".
	Protocol string `json:"protocol"`
	// Server is the server as asked for ("mx.example.net:25"), or the
	// domain in domain mode.
	Server string `json:"server"`
	// Address is the remote address actually talked to ("192.0.2.1:25").
	Address string `json:"address,omitempty"`
	// TLS holds the TLS facts when TLS was started (or attempted and
	// failed at verification), nil otherwise.
	TLS *wire.TLSInfo `json:"tls"`
	// CapsBefore are the capabilities announced before TLS (EHLO
	// keywords, CAPA lines, IMAP CAPABILITY atoms), verbatim.
	CapsBefore []string `json:"caps_before,omitempty"`
	// CapsAfter are the capabilities announced after STARTTLS or
	// authentication, when asked again.
	CapsAfter []string `json:"caps_after,omitempty"`
	// Steps are the steps in the order they ran, followed by skipped ones.
	Steps []Step `json:"steps"`
	// Hosts are the per-server verdicts in domain mode.
	Hosts []HostResult `json:"hosts,omitempty"`
	// Error is the first failure, as a sentence; empty on success.
	Error string `json:"error"`
	// ErrorKind is Error's kind: a wire.Kind, KindServerRefused,
	// "usage", or "null-mx"/"no-mx" in domain mode.
	ErrorKind string `json:"error_kind,omitempty"`
	// Exit is the exit status: ExitOK, ExitRefused, ExitUsage or
	// ExitUnreachable.
	Exit int `json:"exit"`
	// MessageID is the Message-ID of the test message an SMTP check
	// sent, so that its delivery can be traced in logs and mailboxes.
	MessageID string `json:"message_id,omitempty"`
	// Domain is the domain checked in domain mode (and in batch mode).
	Domain string `json:"domain,omitempty"`
	// QuitAfter is the last step the check was asked to run.
	QuitAfter string `json:"quit_after,omitempty"`
	// CapsDiff is the difference between CapsBefore and CapsAfter, when
	// both were read.
	CapsDiff *CapsDiff `json:"caps_diff,omitempty"`
	// Greeting is the banner's delay, when a banner arrived.
	Greeting *Greeting `json:"greeting,omitempty"`
	// Warnings are notes that are not failures.
	Warnings []string `json:"warnings,omitempty"`
	// Recipients is the answer for each SMTP recipient, in order.
	Recipients []RecipientResult `json:"recipients,omitempty"`
	// MXHosts summarises Hosts per MX host and address family.
	MXHosts []MXSummary `json:"mx_hosts,omitempty"`
	// Families is the best verdict per address family tried ("ipv4",
	// "ipv6") in domain mode.
	Families map[string]string `json:"families,omitempty"`
	// Explanation explains the failing reply, when a reply failed.
	Explanation *Explanation `json:"explanation,omitempty"`
	// ElapsedMs is the time the whole check took, in milliseconds.
	ElapsedMs float64 `json:"elapsed_ms"`
	// Transcript is the store the conversation was recorded in.
	Transcript *transcript.Store `json:"-"`
}

// OK reports whether every step succeeded.
func (r *Result) OK() bool { return r.Exit == ExitOK && r.Error == "" }

// AddStep appends s and returns a pointer to the stored copy so that the
// caller can fill in the reply after sending.
func (r *Result) AddStep(s Step) *Step {
	r.Steps = append(r.Steps, s)
	return &r.Steps[len(r.Steps)-1]
}

// Skip appends skipped steps with the given names.
func (r *Result) Skip(names ...string) {
	for _, n := range names {
		r.Steps = append(r.Steps, Step{Name: n, Skipped: true})
	}
}

// Fail records the first failure: its message, kind and exit status.
// Later calls do not overwrite an earlier failure.
func (r *Result) Fail(exit int, kind, msg string) {
	if r.Error != "" {
		return
	}
	r.Exit, r.ErrorKind, r.Error = exit, kind, msg
}

// ExitForKind maps a transport failure kind to an exit status: input
// errors are usage errors (2); a certificate that fails verification is
// the server's answer (1: it was reached, and what it presented is
// wrong); everything else that ends a conversation without a server
// verdict is "unreachable" (3).
func ExitForKind(k wire.Kind) int {
	switch k {
	case wire.KindNone:
		return ExitOK
	case wire.KindInput:
		return ExitUsage
	case wire.KindTLSVerify:
		return ExitRefused
	}
	return ExitUnreachable
}

// Options configures a check. Zero values mean defaults.
type Options struct {
	// Server is "host:port", "host" (default port for the protocol and
	// TLS mode) or "[v6]:port".
	Server string
	// Protocol is "smtp" (default), "pop3" or "imap".
	Protocol string
	// TLS selects no TLS, STARTTLS/STLS, or implicit TLS.
	TLS wire.TLSMode
	// TLSOptions configures certificate verification (CA file, insecure).
	TLSOptions wire.TLSOptions
	// Limits bounds sizes and times.
	Limits wire.Limits
	// Transcript receives every line; nil means a private store, returned
	// in Result.Transcript.
	Transcript *transcript.Store
	// Network is "tcp" (default), "tcp4" or "tcp6".
	Network string
	// Dialer replaces the default dialer (a SOCKS5 proxy).
	Dialer wire.ContextDialer

	// From is the SMTP reverse-path (MAIL FROM). With recipients but no
	// From, the null reverse-path <> is sent (RFC 5321 §4.5.5, what a
	// bounce or a callout uses). With neither, the check ends after
	// EHLO/STARTTLS/AUTH: a pure connectivity test.
	From string
	// To are the SMTP recipients, one RCPT TO each.
	To []string
	// Send delivers a short test message with DATA. Without it the
	// transaction is reset with RSET: a probe never delivers mail.
	Send bool
	// Helo is the EHLO/HELO name; default "mailflow.localhost" style
	// name derived from the local host name.
	Helo string
	// Notify is the DSN NOTIFY parameter for every RCPT (RFC 3461), such
	// as "SUCCESS,FAILURE"; empty sends none.
	Notify string
	// Ret is the DSN RET parameter of MAIL FROM, "FULL" or "HDRS" (RFC
	// 3461 §4.3); empty sends none.
	Ret string
	// EnvID is the DSN ENVID parameter of MAIL FROM (RFC 3461 §4.4),
	// printable ASCII; it is sent xtext-encoded.
	EnvID string
	// MailParams and RcptParams are further "KEY" or "KEY=VALUE"
	// parameters for MAIL FROM and every RCPT TO (RFC 5321 §4.1.2
	// esmtp-param), sent as given after validation.
	MailParams []string
	RcptParams []string
	// QuitAfter ends the SMTP procedure after a step: "connect" (TCP, and
	// the handshake for implicit TLS; closed before the banner without
	// QUIT), "banner", "ehlo", "tls", "auth", "mail", "rcpt" or "data"
	// (DATA is sent and, after 354, the connection is dropped without a
	// message: see smtp.Tx.DropAfterData). Empty means "rcpt", or the
	// whole transaction with Send.
	QuitAfter string
	// SlowBanner is the banner delay from which a greeting is reported
	// as slow (a greet pause or a tarpit); zero means 2 s, negative never.
	SlowBanner time.Duration
	// Subject replaces the test message's subject.
	Subject string

	// User is the login name (SMTP AUTH, POP3 USER, IMAP LOGIN); empty
	// skips authentication.
	User string
	// Password is the secret. It is never logged, recorded or printed.
	Password string `json:"-"`
	// AuthMech forces an SMTP AUTH mechanism ("PLAIN", "LOGIN",
	// "CRAM-MD5"); empty picks the strongest one offered.
	AuthMech string

	// Mailbox is the IMAP mailbox to select (default INBOX).
	Mailbox string

	// Resolver lists "host:port" DNS servers for domain mode; empty
	// means the system resolver.
	Resolver []string
	// Port replaces the protocol's default port (25 for SMTP MX hosts in
	// domain mode).
	Port int
	// AllMX, in domain mode, tries every address of every MX host
	// concurrently (at most MXParallel at once) instead of stopping at
	// the first host that decides the result.
	AllMX bool
	// MXParallel bounds the concurrent attempts of AllMX; zero means
	// every address at once, so that slow servers cost one delay, not
	// several. It is capped at MaxMXParallel either way.
	MXParallel int
	// DialNames says that Dialer resolves host names itself (a SOCKS5
	// proxy): in domain mode an MX host without a local address is then
	// dialled by name instead of being reported unreachable.
	DialNames bool
}

// DefaultSlowBanner is the banner delay from which a greeting is reported
// as slow. Postfix's postscreen greet pause is 6 s by default; a normal
// server greets within a few hundred milliseconds.
const DefaultSlowBanner = 2 * time.Second
