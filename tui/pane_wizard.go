package tui

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// WizardMode is how the operator drives the procedure.
type WizardMode int

// Wizard modes, cycled with the Mode key.
const (
	// ModeGuided: enter runs the current step with the prepared line.
	ModeGuided WizardMode = iota
	// ModePractice: the operator types each command; mailflow checks the
	// verb against the step and explains the reply. Message bodies are
	// still sent for the operator (they get no reply line by line).
	ModePractice
	// ModeRaw: whatever is typed is sent, like telnet; steps do not
	// advance.
	ModeRaw
)

// String returns "guided", "practice" or "raw".
func (m WizardMode) String() string {
	switch m {
	case ModePractice:
		return "practice"
	case ModeRaw:
		return "raw"
	}
	return "guided"
}

// verbs are the completions offered per protocol.
var verbs = map[string][]string{
	"smtp": {"EHLO ", "HELO ", "STARTTLS", "AUTH LOGIN", "AUTH PLAIN ", "MAIL FROM:<", "RCPT TO:<", "DATA", "RSET", "NOOP", "QUIT", "VRFY ", "HELP"},
	"pop3": {"CAPA", "STLS", "USER ", "PASS ", "STAT", "LIST", "UIDL", "RETR ", "TOP ", "DELE ", "NOOP", "RSET", "QUIT"},
	"imap": {"a1 CAPABILITY", "a2 STARTTLS", "a3 LOGIN ", "a4 SELECT INBOX", "a5 FETCH 1 (FLAGS)", "a6 NOOP", "a7 LOGOUT"},
}

// wizardPane shows the procedure's steps and, in practice and raw modes,
// a command prompt with history and verb completion.
type wizardPane struct {
	keys     WizardKeys
	st       Styles
	w, h     int
	protocol string
	steps    []WizardStep
	cur      int
	mode     WizardMode
	input    textinput.Model
	history  []string
	hist     int // index into history while browsing; len(history) when not
	draft    string
	hint     string
	lastCode string
	running  bool
	secret   bool // the prompt asks for a password
	progress string
	verdict  string
	summary  []string
	readOnly bool // a replay: the rows are what was recorded
}

func newWizardPane(keys WizardKeys, st Styles) *wizardPane {
	in := textinput.New()
	in.Prompt = "> "
	in.Placeholder = "type a command"
	s := in.Styles()
	s.Cursor.Blink = false
	in.SetStyles(s)
	in.CharLimit = 998 // RFC 5321 §4.5.3.1.6: text line limit without CRLF
	return &wizardPane{keys: keys, st: st, input: in, protocol: "smtp"}
}

func (p *wizardPane) SetSize(w, h int) {
	p.w, p.h = max(0, w), max(0, h)
	p.input.SetWidth(max(1, w-3))
}

func (p *wizardPane) SetStyles(st Styles) { p.st = st }

// SetRows replaces the step rows (rebuilt from the wizard machine) and
// the index of the current one (len(rows) when the run is over).
func (p *wizardPane) SetRows(protocol string, rows []WizardStep, cur int) {
	p.protocol = protocol
	p.steps = rows
	p.cur = max(0, min(cur, len(rows)))
}

// SetInfo sets the progress shown in the title ("5/12"), the latest
// verdict's reason and the evaluate step's summary.
func (p *wizardPane) SetInfo(progress, verdict string, summary []string) {
	p.progress, p.verdict, p.summary = progress, verdict, summary
}

// SetReadOnly marks the rows as a recording (replay mode).
func (p *wizardPane) SetReadOnly(ro bool) { p.readOnly = ro }

// Steps returns the rows.
func (p *wizardPane) Steps() []WizardStep { return p.steps }

// Current returns the index of the current row (len(rows) when the
// procedure is finished).
func (p *wizardPane) Current() int { return p.cur }

// CurrentStep returns the current row.
func (p *wizardPane) CurrentStep() (WizardStep, bool) {
	if p.cur < 0 || p.cur >= len(p.steps) {
		return WizardStep{}, false
	}
	return p.steps[p.cur], true
}

// Mode returns the mode.
func (p *wizardPane) Mode() WizardMode { return p.mode }

// CycleMode switches guided → practice → raw → guided. It returns the
// focus command for the prompt when the new mode has one.
func (p *wizardPane) CycleMode() tea.Cmd {
	p.endSecret()
	p.mode = (p.mode + 1) % 3
	p.hint = ""
	if p.mode == ModeGuided {
		p.input.Blur()
		return nil
	}
	return p.input.Focus()
}

// Typing reports whether keys go to the prompt.
func (p *wizardPane) Typing() bool { return (p.mode != ModeGuided || p.secret) && p.input.Focused() }

// Blur leaves the prompt so global keys work again; a password prompt
// is abandoned.
func (p *wizardPane) Blur() {
	p.endSecret()
	p.input.Blur()
}

// Focus returns to the prompt.
func (p *wizardPane) Focus() tea.Cmd {
	if p.mode == ModeGuided {
		return nil
	}
	return p.input.Focus()
}

// AskSecret turns the prompt into a password prompt: what is typed is
// masked, kept out of the history, and handed back once by Submit.
func (p *wizardPane) AskSecret(label string) tea.Cmd {
	p.secret = true
	p.input.SetValue("")
	p.input.EchoMode = textinput.EchoPassword
	p.input.Prompt = label + ": "
	p.input.Placeholder = ""
	p.hint = "the password is sent once and never recorded (esc cancels)"
	return p.input.Focus()
}

// AskingSecret reports whether the prompt is a password prompt.
func (p *wizardPane) AskingSecret() bool { return p.secret }

func (p *wizardPane) endSecret() {
	if !p.secret {
		return
	}
	p.secret = false
	p.input.SetValue("")
	p.input.EchoMode = textinput.EchoNormal
	p.input.Prompt = "> "
	p.input.Placeholder = "type a command"
	p.hint = ""
	if p.mode == ModeGuided {
		p.input.Blur()
	}
}

// SetRunning marks whether a step is in flight.
func (p *wizardPane) SetRunning(running bool) { p.running = running }

// SetLastCode tells the prompt which reply came last, so it can offer
// the AUTH LOGIN base64 helper after a 334 challenge (RFC 4954 §4).
func (p *wizardPane) SetLastCode(code string) {
	p.lastCode = code
	if code == "334" && p.mode != ModeGuided {
		p.hint = "334 challenge: type the answer, ctrl+b encodes it as base64"
	} else if strings.HasPrefix(p.hint, "334") {
		p.hint = ""
	}
}

// Submit takes the typed line, stores it in the history and clears the
// prompt. A password (see AskSecret) is returned once and forgotten: it
// never enters the history.
func (p *wizardPane) Submit() (string, bool) {
	v := p.input.Value()
	if p.secret {
		p.endSecret()
		return v, v != ""
	}
	if strings.TrimSpace(v) == "" {
		return "", false
	}
	if len(p.history) == 0 || p.history[len(p.history)-1] != v {
		p.history = append(p.history, v)
	}
	p.hist = len(p.history)
	p.draft = ""
	p.input.SetValue("")
	p.hint = ""
	return v, true
}

// SetHint shows a one-line hint under the prompt.
func (p *wizardPane) SetHint(s string) { p.hint = s }

// Update handles prompt keys.
func (p *wizardPane) Update(msg tea.Msg) tea.Cmd {
	if !p.Typing() {
		if k, ok := msg.(tea.KeyPressMsg); ok && p.mode != ModeGuided && key.Matches(k, p.keys.Focus) {
			return p.input.Focus()
		}
		return nil
	}
	if k, ok := msg.(tea.KeyPressMsg); ok && !p.secret {
		switch {
		case key.Matches(k, p.keys.HistoryPrev):
			p.browse(-1)
			return nil
		case key.Matches(k, p.keys.HistoryNext):
			p.browse(1)
			return nil
		case key.Matches(k, p.keys.Base64):
			if v := p.input.Value(); v != "" {
				p.input.SetValue(base64.StdEncoding.EncodeToString([]byte(v)))
				p.input.CursorEnd()
				p.hint = "encoded as base64; enter sends it"
			}
			return nil
		case key.Matches(k, p.keys.Complete) && (k.String() != "right" || p.input.Position() == len([]rune(p.input.Value()))):
			p.complete()
			return nil
		}
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return cmd
}

func (p *wizardPane) browse(d int) {
	if len(p.history) == 0 {
		return
	}
	if p.hist == len(p.history) {
		p.draft = p.input.Value()
	}
	p.hist = max(0, min(len(p.history), p.hist+d))
	if p.hist == len(p.history) {
		p.input.SetValue(p.draft)
	} else {
		p.input.SetValue(p.history[p.hist])
	}
	p.input.CursorEnd()
}

// complete extends the typed verb to the only candidate, or to the
// candidates' common prefix and lists them in the hint.
func (p *wizardPane) complete() {
	v := p.input.Value()
	var cands []string
	for _, c := range verbs[p.protocol] {
		if len(c) >= len(v) && strings.EqualFold(c[:len(v)], v) {
			cands = append(cands, c)
		}
	}
	switch len(cands) {
	case 0:
		p.hint = "no command starts with " + display(v)
		return
	case 1:
		p.input.SetValue(cands[0])
		p.hint = ""
	default:
		pre := cands[0]
		for _, c := range cands[1:] {
			for !strings.HasPrefix(strings.ToUpper(c), strings.ToUpper(pre)) {
				pre = pre[:len(pre)-1]
			}
		}
		if len(pre) > len(v) {
			p.input.SetValue(pre)
		}
		p.hint = strings.Join(trimAll(cands), " ")
	}
	p.input.CursorEnd()
}

func trimAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.TrimSpace(v)
	}
	return out
}

func (p *wizardPane) stepGlyph(s StepState) (string, lipgloss.Style) {
	st := p.st.State
	switch s {
	case StepDone:
		return "✓", st.Done
	case StepFailed:
		return "✗", st.Failed
	case StepRunning:
		return "▸", st.Current
	case StepSkipped:
		return "-", st.Pending
	}
	return "·", st.Pending
}

// Title returns the pane title with the mode.
func (p *wizardPane) Title() string {
	if p.readOnly {
		return "Steps (replay, read-only)"
	}
	t := "Wizard [" + p.mode.String() + "]"
	if p.progress != "" {
		t += " " + p.progress
	}
	return t
}

// View draws the step list, the current step's details and the prompt.
func (p *wizardPane) View() string {
	if p.w <= 0 || p.h <= 0 {
		return ""
	}
	st := p.st
	var bottom []string
	if p.mode != ModeGuided || p.secret {
		bottom = append(bottom, p.input.View())
		if p.hint != "" {
			bottom = append(bottom, st.Text.Dim.Render(display(p.hint)))
		}
	}
	var detail []string
	if p.verdict != "" {
		if p.h < roomyWizardH {
			// Small screen: the first sentence on one line; the
			// explainer shows the whole verdict.
			short := para(st, "result:", shortVerdict(p.verdict), p.w)
			if len(short) > 2 {
				short = short[:2]
				short[1] = ansiCut(short[1], max(1, p.w-1)) + "…"
			}
			detail = append(detail, short...)
		} else {
			detail = append(detail, para(st, "result:", p.verdict, p.w)...)
		}
	}
	if s, ok := p.CurrentStep(); ok && s.Action != ActionEvaluate {
		switch {
		case s.Secret:
			detail = append(detail, para(st, "will send:", "(a credential, typed at a prompt, never shown)", p.w)...)
		case len(s.Send) == 1:
			detail = append(detail, para(st, "will send:", s.Send[0], p.w)...)
		case len(s.Send) > 1:
			detail = append(detail, para(st, "will send:", fmt.Sprintf("%s (+%d lines)", s.Send[0], len(s.Send)-1), p.w)...)
		}
		if s.Warning != "" {
			detail = append(detail, para(st, "caution:", s.Warning, p.w)...)
		}
		if s.Long != "" {
			detail = append(detail, para(st, "step:", s.Long, p.w)...)
		}
		detail = append(detail, para(st, "why:", s.Why, p.w)...)
		if s.Success != "" {
			detail = append(detail, para(st, "success:", s.Success, p.w)...)
		}
	} else if len(p.steps) > 0 {
		if p.readOnly {
			detail = append(detail, st.Text.Label.Render("recorded steps"))
		} else {
			detail = append(detail, st.Text.Good.Render("procedure finished"))
		}
		for _, l := range p.summary {
			detail = append(detail, wrapPlain(l, p.w)...)
		}
	}
	// The list gets at least a third of the pane; details fill the rest
	// and are cut, not the list.
	listH := p.h - len(bottom)
	minList := min(len(p.steps), max(3, p.h/2))
	detailH := max(0, min(len(detail), listH-minList))
	listH -= detailH
	var list []string
	if len(p.steps) == 0 {
		list = append(list, st.Text.Dim.Render("no procedure loaded"))
	}
	// Keep the current step in the middle, so what comes next shows.
	start := max(0, min(p.cur-(listH-1)/2, len(p.steps)-listH))
	for i := start; i < len(p.steps) && len(list) < listH; i++ {
		s := p.steps[i]
		g, gs := p.stepGlyph(s.State)
		if i == p.cur && s.State == StepPending {
			g, gs = "▸", st.State.Current
		}
		line := gs.Render(g) + " " + display(s.Title)
		if s.Result != "" {
			line += st.Text.Dim.Render("  " + display(s.Result))
		}
		list = append(list, fit(line, p.w))
	}
	out := append(list, detail[:detailH]...)
	for len(out) < p.h-len(bottom) { // the prompt sits on the last lines
		out = append(out, "")
	}
	out = append(out, bottom...)
	return strings.Join(fitLines(out, p.w, p.h), "\n")
}

// roomyWizardH is the pane height from which the verdict is shown whole
// (the wizard pane is 11 lines high at 80×24).
const roomyWizardH = 16

// quotedRE matches a step title the machine quotes in its verdicts.
var quotedRE = regexp.MustCompile(` at "[^"]*"|"[^"]*"`)

// shortVerdict is the gist of a verdict for a small wizard pane: its
// first sentence without the quoted step title (the list shows which
// step it was).
func shortVerdict(s string) string {
	s = quotedRE.ReplaceAllString(s, "")
	for i := 0; i+1 < len(s); i++ {
		if (s[i] == '.' || s[i] == ':' || s[i] == ';') && s[i+1] == ' ' {
			s = s[:i+1]
			break
		}
	}
	return strings.TrimSuffix(s, ":")
}

func (p *wizardPane) ShortHelp() []key.Binding {
	if p.Typing() {
		return []key.Binding{p.keys.Submit, p.keys.HistoryPrev, p.keys.Complete, p.keys.Base64, p.keys.Blur}
	}
	if p.mode != ModeGuided {
		return []key.Binding{p.keys.Focus}
	}
	return nil
}

func (p *wizardPane) FullHelp() [][]key.Binding {
	k := p.keys
	return [][]key.Binding{{k.Submit, k.HistoryPrev, k.HistoryNext, k.Complete, k.Base64, k.Blur, k.Focus}}
}
