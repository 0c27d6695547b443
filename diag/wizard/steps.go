package wizard

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"

	"github.com/mailflow/mailflow/assets"
	"github.com/mailflow/mailflow/diag/checklist"
)

// Proto is the protocol a guided run speaks.
type Proto string

// The protocols with a guided procedure.
const (
	SMTP Proto = "smtp"
	POP3 Proto = "pop3"
	IMAP Proto = "imap"
)

// ActionKind says what the caller has to do for a step.
type ActionKind string

// Action kinds. Only ActSend puts bytes on the wire.
const (
	ActNone      ActionKind = "none"      // nothing left to do
	ActLookupMX  ActionKind = "lookup-mx" // resolve the MX of Action.Domain, then call ObserveMX
	ActConnect   ActionKind = "connect"   // dial Action.Host:Action.Port, read the greeting, call Observe
	ActSend      ActionKind = "send"      // send Action.Lines (or Fill), then Observe or Sent
	ActHandshake ActionKind = "handshake" // run the TLS handshake, then Sent or ObserveFailure
	ActEvaluate  ActionKind = "evaluate"  // show Action.Summary; the run is done
)

// InputKind says what a person types at a step in practice mode; CheckTyped
// uses it to choose its checks.
type InputKind string

// Input kinds.
const (
	InputNone    InputKind = "none"    // nothing is typed (lookups, connect, handshake)
	InputCommand InputKind = "command" // a protocol command line
	InputHeader  InputKind = "header"  // a message header line inside DATA
	InputBlank   InputKind = "blank"   // the empty line that ends the headers
	InputBody    InputKind = "body"    // message body text
	InputEnd     InputKind = "end"     // the lone dot that ends DATA
)

// CommonReply is a reply often seen at a step, with its meaning.
type CommonReply struct {
	Reply   string `toml:"reply"`
	Meaning string `toml:"meaning"`
}

// Step is one step of a guided procedure, as written in the embedded data.
// Steps are plain values: copying one is cheap and safe.
type Step struct {
	Proto  Proto      `toml:"-"`
	ID     string     `toml:"id"`
	Title  string     `toml:"title"`
	Action ActionKind `toml:"action"`
	Input  InputKind  `toml:"input"`
	// Verb is the command this step expects, for practice-mode checks.
	Verb string `toml:"verb"`
	// Send is the template of what will be sent; see the placeholders in
	// the data files' header comments.
	Send string `toml:"send"`
	// When names the condition under which the step applies ("" = always).
	When string `toml:"when"`
	// Group names steps that are skipped together (tls, auth).
	Group string `toml:"group"`
	// Secret marks a step whose line carries a credential.
	Secret bool `toml:"secret"`
	// Expect lists the replies that mean success: SMTP codes ("250") or
	// POP3/IMAP status words ("+OK", "OK"). Empty when no reply comes.
	Expect  []string      `toml:"expect"`
	Why     string        `toml:"why"`
	Success string        `toml:"success"`
	Failure string        `toml:"failure"`
	Common  []CommonReply `toml:"common"`
	// Checklist is the failure checklist to open when this step fails.
	Checklist checklist.Step `toml:"checklist"`
}

// ExpectsReply reports whether the server answers this step.
func (s Step) ExpectsReply() bool { return len(s.Expect) > 0 }

type procFile struct {
	Proto Proto  `toml:"proto"`
	Step  []Step `toml:"step"`
}

var (
	placeholderRE = regexp.MustCompile(`\{[a-z0-9]+\}`)
	knownWhen     = []string{"", "tls", "tls-handshake", "tls-ehlo", "auth", "helo-fallback", "messages"}
	placeholders  = map[Proto][]string{
		SMTP: {"{from}", "{to}", "{helo}", "{subject}", "{body}", "{notify}", "{user64}", "{password64}"},
		POP3: {"{user}", "{password}", "{msg}"},
		IMAP: {"{tag}", "{quser}", "{qpassword}", "{last}"},
	}
)

// LoadSteps reads and validates the procedure for proto from fsys (a file
// named after the protocol, such as smtp.toml).
func LoadSteps(fsys fs.FS, proto Proto) ([]Step, error) {
	name := string(proto) + ".toml"
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("wizard: read %s: %w", name, err)
	}
	var f procFile
	md, err := toml.Decode(string(b), &f)
	if err != nil {
		return nil, fmt.Errorf("wizard: parse %s: %w", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("wizard: %s: unknown key %s", name, und[0])
	}
	if f.Proto != proto {
		return nil, fmt.Errorf("wizard: %s: proto %q, want %q", name, f.Proto, proto)
	}
	if len(f.Step) == 0 || f.Step[len(f.Step)-1].Action != ActEvaluate {
		return nil, fmt.Errorf("wizard: %s: the last step must be an evaluate step", name)
	}
	seen := map[string]bool{}
	for i := range f.Step {
		s := &f.Step[i]
		s.Proto = proto
		if err := s.validate(); err != nil {
			return nil, fmt.Errorf("wizard: %s: step %q: %w", name, s.ID, err)
		}
		if seen[s.ID] {
			return nil, fmt.Errorf("wizard: %s: duplicate step %q", name, s.ID)
		}
		seen[s.ID] = true
	}
	return f.Step, nil
}

func (s Step) validate() error {
	if s.ID == "" || s.Title == "" || s.Why == "" {
		return fmt.Errorf("id, title and why are required")
	}
	switch s.Action {
	case ActLookupMX, ActConnect, ActHandshake, ActEvaluate:
		if s.Send != "" {
			return fmt.Errorf("action %s sends nothing, but send is set", s.Action)
		}
	case ActSend:
		if s.Input == InputCommand && !s.ExpectsReply() {
			return fmt.Errorf("a command step needs expect")
		}
	default:
		return fmt.Errorf("unknown action %q", s.Action)
	}
	switch s.Input {
	case InputNone, InputCommand, InputHeader, InputBlank, InputBody, InputEnd:
	default:
		return fmt.Errorf("unknown input %q", s.Input)
	}
	if !slices.Contains(knownWhen, s.When) {
		return fmt.Errorf("unknown when %q", s.When)
	}
	for _, ph := range placeholderRE.FindAllString(s.Send, -1) {
		if !slices.Contains(placeholders[s.Proto], ph) {
			return fmt.Errorf("unknown placeholder %s for %s", ph, s.Proto)
		}
	}
	secretPH := (strings.Contains(s.Send, "{password64}") || strings.Contains(s.Send, "{password}") || strings.Contains(s.Send, "{qpassword}"))
	if secretPH != s.Secret {
		return fmt.Errorf("secret must be true exactly when the template carries a password")
	}
	if s.Action != ActEvaluate && s.Action != ActLookupMX && s.Checklist == "" {
		return fmt.Errorf("checklist is required")
	}
	if s.Checklist != "" && !slices.Contains(checklist.Steps(), s.Checklist) {
		return fmt.Errorf("unknown checklist step %q", s.Checklist)
	}
	for _, e := range s.Expect {
		if !expectRE.MatchString(e) {
			return fmt.Errorf("bad expect %q", e)
		}
	}
	return nil
}

var expectRE = regexp.MustCompile(`^([2-5][0-9][0-9]|\+OK|OK|PREAUTH)$`)

var embedded = sync.OnceValues(func() (map[Proto][]Step, error) {
	out := map[Proto][]Step{}
	for _, p := range []Proto{SMTP, POP3, IMAP} {
		steps, err := LoadSteps(assets.ProcedureFiles(), p)
		if err != nil {
			return nil, err
		}
		out[p] = steps
	}
	return out, nil
})

// Steps returns a copy of the embedded procedure for proto. The data is
// fixed at build time and validated by the tests, so a load failure is a
// build defect and panics.
func Steps(proto Proto) []Step {
	m, err := embedded()
	if err != nil {
		panic(err)
	}
	return slices.Clone(m[proto])
}
