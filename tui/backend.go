package tui

import (
	"context"

	"github.com/mailflow/mailflow/session/transcript"
)

// Backend is everything the interface needs from the rest of mailflow.
// The real implementation (wired in cmd/mailflow) adapts diag/mx,
// diag/replycode, diag/checklist, diag/wizard and the session clients;
// tests use a fake. Every method that does I/O takes a context and is only
// ever called from inside a tea.Cmd body, never from Update. Explain,
// Checklist and Procedure must be pure and quick: Update calls them.
type Backend interface {
	// LookupMX resolves domain's mail servers and calls emit for each
	// piece of the picture as it arrives (a row, an updated row, a
	// problem). emit may be called from any goroutine until LookupMX
	// returns.
	LookupMX(ctx context.Context, domain string, emit func(MXEvent)) error
	// Connect opens a session to t and reads the server's greeting.
	Connect(ctx context.Context, t Target) (Session, error)
	// Explain explains a complete reply to command (empty for a
	// greeting) in the given protocol.
	Explain(protocol, command string, reply transcript.Reply) Explanation
	// Checklist returns the possible reasons for a failure at a step,
	// evaluated against the evidence.
	Checklist(ev Evidence) []ChecklistItem
	// Procedure returns the wizard's steps for p.Protocol, with the
	// lines to send already filled in from p.
	Procedure(p Params) []WizardStep
}

// Session is one open conversation with a server.
type Session interface {
	// Transcript returns the store the session records into. It is
	// closed when the session ends.
	Transcript() *transcript.Store
	// Greeting returns the server's greeting, read by Connect.
	Greeting() transcript.Reply
	// Send writes lines (one command, or a message body ending in ".")
	// and returns the one reply that follows them.
	Send(ctx context.Context, lines ...string) (transcript.Reply, error)
	// StartTLS performs the TLS handshake after the server accepted
	// STARTTLS (SMTP, IMAP) or STLS (POP3); the command itself goes
	// through Send.
	StartTLS(ctx context.Context) error
	// Close ends the session; it must return promptly.
	Close() error
}

// Target says where to connect.
type Target struct {
	Host     string // name shown to the user and used for TLS verification
	Addr     string // host:port to dial; empty means Host on the default port
	Protocol string // "smtp", "pop3" or "imap"
	TLS      string // "starttls", "implicit" or "none"
}

// Params are the inputs of a procedure, from the command line.
type Params struct {
	Domain   string
	Server   string // host:port given with --server, if any
	Protocol string
	From, To string
	HELO     string
	TLS      string
}

// Evidence is what the checklist is evaluated against.
type Evidence struct {
	Protocol string
	Step     string // checklist step, such as "rcpt"
	Command  string // the command line sent, redacted when secret
	Reply    *transcript.Reply
	Err      string // a transport error, if there was no reply
	TLS      bool   // the session was inside TLS
}

// MXEvent is one update of the MX picture.
type MXEvent struct {
	// Row, when set, adds a row or replaces the row with the same Host.
	Row *MXRow
	// Problem, when set, is shown above the table ("null MX", "no MX:
	// falling back to A").
	Problem string
}

// Verdict grades a check shown in the MX table.
type Verdict int

// Verdicts. Pending is the zero value: the check has not finished.
const (
	Pending Verdict = iota
	Good
	Warn
	Bad
)

// MXRow is one mail server of the MX picture.
type MXRow struct {
	Pref         int
	Host         string
	Addrs        []string
	RDNS         string // the reverse name(s), or what went wrong
	RDNSVerdict  Verdict
	Probe        string // "220 in 45ms", "refused", "timeout"
	ProbeVerdict Verdict
}

// Explanation is the explainer's view of one reply.
type Explanation struct {
	Command   string
	Code      string
	Enhanced  string
	Class     string // success, intermediate, transient, permanent
	Category  string
	Summary   string
	Causes    []string
	NextSteps []string
	// Decoded is the decoded text of a base64 challenge (AUTH), if any.
	Decoded string
	// Lines are the reply's lines as received; they are sanitised with
	// transcript.PrintableString before display.
	Lines []string
}

// CheckStatus is where a checklist item stands.
type CheckStatus int

// Checklist statuses.
const (
	StatusUnknown CheckStatus = iota
	StatusLikely
	StatusRuledOut
)

// ChecklistItem is one possible reason for a failure.
type ChecklistItem struct {
	Title  string
	Status CheckStatus
	Why    string
	Check  string // how to confirm it by hand
}

// StepAction is what running a wizard step does.
type StepAction string

// Step actions, as in the procedure data.
const (
	ActionLookupMX StepAction = "lookup-mx"
	ActionConnect  StepAction = "connect"
	ActionSend     StepAction = "send"
	ActionStartTLS StepAction = "handshake"
	ActionEvaluate StepAction = "evaluate"
)

// StepState is how a wizard step went.
type StepState int

// Step states, each drawn with its own glyph.
const (
	StepPending StepState = iota
	StepRunning
	StepDone
	StepFailed
	StepSkipped
)

// WizardStep is one step of the procedure.
type WizardStep struct {
	ID        string
	Title     string
	Action    StepAction
	Verb      string   // the command verb practice mode expects
	Send      []string // lines to send (already filled in)
	Secret    bool     // Send carries a credential: never shown
	Expect    []string // reply codes that mean success; empty: any OK reply
	Why       string
	Success   string
	Checklist string // checklist step to evaluate when this step fails
	State     StepState
	Result    string // short outcome, e.g. "250 2.1.0 ok"
}
