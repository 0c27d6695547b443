package tui

import (
	"context"

	"github.com/mailflow/mailflow/diag/checklist"
	"github.com/mailflow/mailflow/session/transcript"
)

// Backend is everything the interface needs from the rest of mailflow
// that does I/O or needs the session layer. The real implementation
// (cmd/mailflow/backend.go) adapts diag/mx, diag/replycode,
// diag/checklist and the session clients; tests use a fake. The
// procedure itself is not here: the model drives a diag/wizard.Machine,
// which is pure logic. Every method that does I/O takes a context and is
// only ever called from inside a tea.Cmd body, never from Update. Explain
// and Checklist must be pure and quick: Update calls them.
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
}

// Session is one open conversation with a server.
type Session interface {
	// Transcript returns the store the session records into. It is
	// closed when the session ends.
	Transcript() *transcript.Store
	// Greeting returns the server's greeting, read by Connect.
	Greeting() transcript.Reply
	// Send writes lines and returns the reply to the last one. Inside
	// SMTP DATA the message lines get no reply (the zero Reply comes
	// back) until the line ".". A negative reply is a Reply, not an
	// error; errors are transport or input failures.
	Send(ctx context.Context, lines ...string) (transcript.Reply, error)
	// StartTLS completes the TLS upgrade after the server accepted
	// STARTTLS (SMTP, IMAP) or STLS (POP3); the command itself goes
	// through Send. It returns the handshake's error, if any.
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
	From, To string // To defaults to postmaster@Domain
	HELO     string
	TLS      string // "starttls" (default), "implicit" or "none"
	User     string // login name for AUTH (SMTP), POP3 and IMAP
	Auth     bool   // run AUTH LOGIN in the SMTP procedure
	Subject  string // test message subject; a default is used when empty
	Body     string // test message body; a default is used when empty
}

// Evidence is what the checklist is evaluated against.
type Evidence struct {
	Protocol string
	Step     string // checklist step, such as "rcpt"
	Command  string // the command line sent, redacted when secret
	Reply    *transcript.Reply
	Err      error  // a transport error, if any (classified by the backend)
	Target   Target // where the session went
	// Facts is what the wizard learnt so far (capabilities, TLS and
	// login state, HELO name); the backend adds what only the session
	// layer can tell (the kind of a connect failure, the TLS reason,
	// the explainer's category).
	Facts checklist.Evidence
}

// MXEvent is one update of the MX picture.
type MXEvent struct {
	// Row, when set, adds a row or replaces the row with the same Host.
	Row *MXRow
	// Problem, when set, is shown above the table ("null MX", "no MX:
	// falling back to A").
	Problem string
	// NullMX reports that the domain publishes "MX 0 ." (RFC 7505): it
	// accepts no mail, and there are no rows.
	NullMX bool
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

// WizardStep is one row of the wizard pane: a step of the
// diag/wizard procedure with where it stands. The model rebuilds the rows
// from its wizard.Machine after every change; the pane only draws them.
type WizardStep struct {
	ID      string
	Title   string // short label for the step list
	Long    string // the procedure's own title, shown under the list
	Action  StepAction
	Verb    string   // the command verb practice mode expects
	Send    []string // what will be sent, as displayed (secrets masked)
	Secret  bool     // the line carries a credential: typed at a prompt
	Why     string
	Success string
	Warning string // a caution from the wizard, shown before sending
	State   StepState
	Result  string // short outcome, e.g. "250 2.1.0 ok"
}
