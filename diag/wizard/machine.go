package wizard

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/mailflow/mailflow/diag/checklist"
)

// Params are the operator's choices for a guided run.
type Params struct {
	From    string // envelope sender for MAIL FROM (may be empty: the null sender <>)
	To      string // recipient for RCPT TO; its domain is looked up for MX
	Helo    string // name for EHLO/HELO: your fully qualified host name
	Subject string
	Body    string // may hold several lines; lines starting with "." are dot-stuffed
	// Notify is the DSN NOTIFY value for RCPT TO, such as "success,failure"
	// (RFC 3461); empty sends no NOTIFY parameter.
	Notify string
	// UseTLS requires STARTTLS (SMTP, IMAP) or STLS (POP3). SMTP also uses
	// STARTTLS when the server offers it, whether or not this is set.
	UseTLS bool
	// NoTLS forbids the STARTTLS/STLS steps even when the server offers
	// them (the operator asked for a plain-text session, --tls none).
	NoTLS bool
	// ImplicitTLS means the connection is TLS from the first byte (465,
	// 993, 995), so no STARTTLS step runs.
	ImplicitTLS bool
	// UseAuth runs AUTH LOGIN (SMTP). POP3 and IMAP always log in.
	UseAuth bool
	User    string
	// Host skips the MX lookup and connects here; required for POP3 and
	// IMAP. Port defaults to the protocol's usual port.
	Host string
	Port int
}

// Reply is a server answer as the session layer read it. Lines are the raw
// lines without CRLF (for SMTP "250-SIZE 1000", for POP3 "+OK 2 320" and
// any data lines, for IMAP the untagged lines then the tagged one). Code,
// Enhanced and Status may be left empty: Observe derives them from Lines.
type Reply struct {
	Code     int
	Enhanced string
	Status   string // "+OK", "-ERR" (POP3); "OK", "NO", "BAD", "BYE", "PREAUTH" (IMAP)
	Lines    []string
}

// VerdictKind is the outcome of one step.
type VerdictKind string

// Verdict kinds.
const (
	VerdictOK    VerdictKind = "ok"    // the step succeeded; the machine moved on
	VerdictFail  VerdictKind = "fail"  // the step failed; the machine stopped on it
	VerdictRetry VerdictKind = "retry" // try again (4xx, HELO fallback) or wait
)

// Verdict says how a step went and why, in words for a junior operator.
// Reason is built from codes and the machine's own words, never from
// server text, so it can be shown as is.
type Verdict struct {
	Kind   VerdictKind
	Reason string
	// Checklist names the failure checklist to open (set on fail and retry).
	Checklist checklist.Step
	// Offer is a command the machine switched to, such as "HELO" after EHLO
	// was not understood.
	Offer string
	// StartTLS asks the caller to start the TLS handshake now (the server
	// accepted STARTTLS/STLS); the next action is ActHandshake.
	StartTLS bool
	// Closing is true when the server is ending the session (221, 421, BYE).
	Closing bool
}

// Result is the recorded outcome of a step, for the summary.
type Result struct {
	StepID  string
	Verdict VerdictKind // or "skipped"
	Code    string      // reply code or status, "" when none
}

// Action is what to do next. For ActSend, Lines are the exact lines to
// send (without CRLF) and Display is what to show; for a Secret step
// Lines is nil and Fill produces them from the password the caller
// prompts for, so the Machine never holds a password.
type Action struct {
	Kind   ActionKind
	StepID string
	// Domain is set for ActLookupMX.
	Domain string
	// Host and Port are set for ActConnect and ActHandshake (TLS server name).
	Host        string
	Port        int
	ImplicitTLS bool
	Lines       []string
	Display     []string
	Secret      bool
	// ExpectReply tells the caller to read a reply and call Observe; when
	// false it calls Sent after sending.
	ExpectReply bool
	// Tag is the IMAP tag of the command, for matching the tagged reply.
	Tag string
	// Warning is a caution to show before sending (no TLS before a
	// password, STARTTLS not advertised ...); it does not block.
	Warning string
	// Summary holds the result lines for ActEvaluate.
	Summary []string

	pending string // expanded template with the password placeholder still in it
}

const mask = "********"

// Fill returns the lines to send for a Secret action, with the password
// encoded as the step requires (base64 for AUTH LOGIN, quoted for IMAP,
// raw for POP3 PASS). For other actions it returns Lines. A password with
// CR, LF or NUL is refused: it would smuggle a second command.
func (a Action) Fill(password string) ([]string, error) {
	if !a.Secret {
		return a.Lines, nil
	}
	if strings.ContainsAny(password, "\r\n\x00") {
		return nil, errors.New("wizard: password contains a line break or NUL")
	}
	r := strings.NewReplacer(
		"{password64}", base64.StdEncoding.EncodeToString([]byte(password)),
		"{qpassword}", imapQuote(password),
		"{password}", password,
	)
	return strings.Split(r.Replace(a.pending), "\n"), nil
}

// caps is what the server advertised.
type caps struct {
	seen, starttls, dsn, loginDisabled bool
	auth                               []string
	size                               int64
}

// Machine walks one guided run. It is a plain value with no goroutines, no
// I/O and no clock: a bubbletea model can hold it by value and replace it
// with the copy returned by its methods' receivers (all mutating methods
// use a pointer receiver, so call them on an addressable field).
type Machine struct {
	proto  Proto
	steps  []Step
	p      Params
	cur    int
	host   string
	caps   caps
	tag    int
	msgs   int // messages in the mailbox, -1 until known
	inData bool

	tlsStarted, tlsActive, authenticated, heloFallback, closed, failed bool

	last    Reply
	results []Result
}

var lineBreak = regexp.MustCompile("[\r\n\x00]")

// New starts a guided run of proto with the given parameters. It checks
// that the parameters the procedure needs are there and that single-line
// fields hold no line breaks (which would inject extra commands).
func New(proto Proto, p Params) (Machine, error) {
	switch proto {
	case SMTP, POP3, IMAP:
	default:
		return Machine{}, fmt.Errorf("wizard: unknown protocol %q", proto)
	}
	for name, v := range map[string]string{"from": p.From, "to": p.To, "helo": p.Helo, "subject": p.Subject, "user": p.User, "host": p.Host, "notify": p.Notify} {
		if lineBreak.MatchString(v) {
			return Machine{}, fmt.Errorf("wizard: %s contains a line break", name)
		}
	}
	if p.NoTLS && (p.UseTLS || p.ImplicitTLS) {
		return Machine{}, errors.New("wizard: NoTLS contradicts UseTLS and ImplicitTLS")
	}
	if strings.ContainsRune(p.Body, 0) {
		return Machine{}, errors.New("wizard: body contains NUL")
	}
	switch proto {
	case SMTP:
		if p.To == "" || domainOf(p.To) == "" {
			return Machine{}, errors.New("wizard: smtp needs a recipient address with a domain")
		}
		if p.Helo == "" {
			return Machine{}, errors.New("wizard: smtp needs a HELO name")
		}
		if p.UseAuth && p.User == "" {
			return Machine{}, errors.New("wizard: auth needs a user name")
		}
	default:
		if p.Host == "" || p.User == "" {
			return Machine{}, fmt.Errorf("wizard: %s needs a host and a user name", proto)
		}
	}
	if p.Port == 0 {
		p.Port = defaultPort(proto, p.ImplicitTLS)
	}
	m := Machine{proto: proto, steps: Steps(proto), p: p, host: p.Host, msgs: -1}
	m.tlsActive = p.ImplicitTLS
	if proto == SMTP && p.Host != "" {
		m.record("mx", "skipped", "")
		m.cur = 1 // the MX step is first; the operator named the host
	}
	m.settle()
	return m, nil
}

func defaultPort(proto Proto, implicit bool) int {
	switch {
	case proto == SMTP && implicit:
		return 465
	case proto == SMTP:
		return 25
	case proto == POP3 && implicit:
		return 995
	case proto == POP3:
		return 110
	case implicit:
		return 993
	default:
		return 143
	}
}

// Proto returns the protocol of the run.
func (m Machine) Proto() Proto { return m.proto }

// Steps returns the whole procedure, including steps that will not apply.
func (m Machine) Steps() []Step { return slices.Clone(m.steps) }

// Current returns the step the run is on. After Done it returns the
// evaluate step.
func (m Machine) Current() Step {
	if m.cur >= len(m.steps) {
		return m.steps[len(m.steps)-1]
	}
	return m.steps[m.cur]
}

// Done reports whether nothing is left to send: the run reached its
// evaluate step.
func (m Machine) Done() bool {
	return m.cur >= len(m.steps) || m.steps[m.cur].Action == ActEvaluate
}

// Failed reports whether the last step failed and the run is stopped on it.
// Retrying (Next again), Skip and Quit are the ways on.
func (m Machine) Failed() bool { return m.failed }

// Results returns the outcome of every step so far, in order.
func (m Machine) Results() []Result { return slices.Clone(m.results) }

// Host returns the host the run connects to (from Params or the MX lookup).
func (m Machine) Host() string { return m.host }

// Progress returns the 1-based position of the current step and the number
// of steps the run is expected to take, given what is known so far.
func (m Machine) Progress() (n, total int) {
	for i := range m.steps {
		if i < m.cur && m.passed(i) || i >= m.cur && m.planned(i) {
			total++
			if i <= m.cur {
				n = total
			}
		}
	}
	if m.cur >= len(m.steps) {
		n = total
	}
	return n, total
}

// Planned returns the steps the run will take from the current one on
// (the current step first, the evaluate step last), given what is known
// so far. Branches are resolved as far as the facts allow: the STARTTLS
// group appears once TLS is required or the server advertised it (and
// never with NoTLS or implicit TLS), the handshake and second EHLO
// follow a STARTTLS still ahead, HELO appears only after EHLO was
// refused, AUTH only when asked for and not yet done, and the message
// steps of POP3/IMAP go once the mailbox turned out empty. It agrees with
// Progress: len(Planned()) is total minus the steps already passed.
func (m Machine) Planned() []Step {
	var out []Step
	for i := m.cur; i < len(m.steps); i++ {
		if m.planned(i) {
			out = append(out, m.steps[i])
		}
	}
	return out
}

func (m Machine) passed(i int) bool {
	return slices.ContainsFunc(m.results, func(r Result) bool { return r.StepID == m.steps[i].ID && r.Verdict != "skipped" })
}

// planned is applies with a look-ahead for steps that follow a step not
// taken yet (the handshake and second EHLO follow an accepted STARTTLS).
func (m Machine) planned(i int) bool {
	switch m.steps[i].When {
	case "tls-handshake", "tls-ehlo":
		if !m.tlsStarted {
			j := slices.IndexFunc(m.steps, func(s Step) bool { return s.When == "tls" })
			return j >= m.cur && m.applies(j)
		}
		if m.steps[i].When == "tls-ehlo" && !m.tlsActive {
			return true // after the handshake still to come
		}
	}
	return m.applies(i)
}

// applies reports whether step i is part of the run in the current state.
func (m Machine) applies(i int) bool {
	s := m.steps[i]
	switch s.When {
	case "":
		return true
	case "helo-fallback":
		return m.heloFallback
	case "tls":
		return !m.p.NoTLS && !m.tlsActive && !m.tlsStarted && (m.p.UseTLS || m.caps.starttls)
	case "tls-handshake":
		return m.tlsStarted && !m.tlsActive
	case "tls-ehlo":
		return m.tlsStarted && m.tlsActive
	case "auth":
		return m.p.UseAuth && !m.authenticated
	case "messages":
		return m.msgs != 0
	}
	return false
}

// settle moves cur forward over steps that do not apply.
func (m *Machine) settle() {
	for m.cur < len(m.steps) && !m.applies(m.cur) {
		m.cur++
	}
}

func (m *Machine) advance() {
	m.cur++
	m.settle()
}

func (m *Machine) record(id string, v VerdictKind, code string) {
	m.results = append(slices.Clip(m.results), Result{StepID: id, Verdict: v, Code: code})
}

// Next returns what to do for the current step. It does not change the
// machine, so calling it twice gives the same action.
func (m Machine) Next() Action {
	if m.cur >= len(m.steps) {
		return Action{Kind: ActNone}
	}
	s := m.steps[m.cur]
	a := Action{Kind: s.Action, StepID: s.ID, ExpectReply: s.ExpectsReply(), Secret: s.Secret}
	switch s.Action {
	case ActLookupMX:
		a.Domain = domainOf(m.p.To)
	case ActConnect, ActHandshake:
		a.Host, a.Port, a.ImplicitTLS = m.host, m.p.Port, m.p.ImplicitTLS
	case ActEvaluate:
		a.Summary = m.summary()
	case ActSend:
		m.fillSend(&a, s)
	}
	return a
}

func (m Machine) fillSend(a *Action, s Step) {
	if strings.Contains(s.Send, "{tag}") {
		a.Tag = fmt.Sprintf("a%03d", m.tag+1)
	}
	notify := ""
	if m.p.Notify != "" {
		if m.caps.seen && !m.caps.dsn {
			a.Warning = "The server does not list DSN, so NOTIFY is left out (it would be refused with 555)."
		} else {
			notify = " NOTIFY=" + m.p.Notify
		}
	}
	last := "*"
	if m.msgs > 0 {
		last = strconv.Itoa(min(m.msgs, 10))
	}
	r := strings.NewReplacer(
		"{from}", m.p.From, "{to}", m.p.To, "{helo}", m.p.Helo,
		"{subject}", m.p.Subject, "{body}", dotStuff(m.p.Body), "{notify}", notify,
		"{user}", m.p.User, "{user64}", base64.StdEncoding.EncodeToString([]byte(m.p.User)),
		"{quser}", imapQuote(m.p.User), "{tag}", a.Tag, "{msg}", "1", "{last}", last,
	)
	a.pending = r.Replace(s.Send)
	hide := strings.NewReplacer("{password64}", mask, "{qpassword}", `"`+mask+`"`, "{password}", mask)
	a.Display = strings.Split(hide.Replace(a.pending), "\n")
	if !s.Secret {
		a.Lines = a.Display
	}
	switch {
	case s.ID == "starttls" && m.proto == SMTP && m.caps.seen && !m.caps.starttls:
		a.Warning = "The EHLO reply did not list STARTTLS; the server will probably refuse it."
	case s.ID == "auth" && !m.tlsActive:
		a.Warning = "TLS is not active: the user name and password will cross the network base64-encoded, which anyone can decode."
	case s.ID == "auth" && m.caps.seen && !slices.Contains(m.caps.auth, "LOGIN"):
		a.Warning = "The server does not list AUTH LOGIN; it will probably answer 504."
	case (s.ID == "pass" || s.ID == "login") && !m.tlsActive:
		a.Warning = "TLS is not active: the password will be sent in clear text."
	}
	if s.ID == "login" && m.caps.loginDisabled && !m.tlsActive {
		a.Warning = "The server lists LOGINDISABLED: it refuses LOGIN until TLS is active."
	}
}

// dotStuff doubles a leading dot on every line (RFC 5321 section 4.5.2) and
// normalises line ends, so a body line "." cannot end the message early.
func dotStuff(body string) string {
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	for i, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		if strings.HasPrefix(l, ".") {
			l = "." + l
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

// imapQuote writes s as an IMAP quoted string (RFC 9051 section 4.3).
func imapQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func domainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.TrimSuffix(strings.Trim(addr[i+1:], "<> "), ".")
}
