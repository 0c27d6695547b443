package tui

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/mailflow/mailflow/session/transcript"
)

// Options configure a Model.
type Options struct {
	// Backend does every lookup and conversation. Required.
	Backend Backend
	// Params come from the command line.
	Params Params
	// Keys replaces DefaultKeyMap.
	Keys *KeyMap
	// Export writes entries to path in format ("text", "markdown" or
	// "jsonl"). It runs inside a Cmd.
	Export func(path, format string, entries []transcript.Entry) error
	// OnQuit is called once when the user quits, before the program
	// ends, so that the caller can cancel whatever it started.
	OnQuit func()
	// Context is the parent of every session context; cancelling it ends
	// all network work. Defaults to context.Background().
	Context context.Context
	// StepTimeout bounds one wizard step (default 2 minutes); the
	// session's own per-command deadlines are usually shorter.
	StepTimeout time.Duration
	// Now is the clock, for export file names in tests.
	Now func() time.Time
	// Light starts with the light-background styles; the default is
	// dark until the terminal reports its background colour.
	Light bool
}

// Model is the root Bubble Tea model and the only tea.Model in mailflow.
type Model struct {
	opts   Options
	be     Backend
	keys   KeyMap
	st     Styles
	layout Layout
	w, h   int

	wizard     *wizardPane
	transcript *transcriptPane
	explain    *explainPane
	checklist  *checklistPane
	mx         *mxPane
	focus      PaneID

	help     help.Model
	showHelp bool
	mouse    bool
	dialog   *exportDialog
	status   string
	errText  string

	ctx    context.Context
	cancel context.CancelFunc

	sid      int // current session id; stale messages carry older ids
	sess     Session
	store    *transcript.Store
	target   Target
	protocol string

	lookup     int // current MX lookup id
	lookupStep int // step waiting on the lookup, -1 none

	inflight   int // step index in flight, -1 none, -2 a raw command
	stepCancel context.CancelFunc
	quitting   bool
}

const (
	noStep  = -1
	rawStep = -2
)

// New returns the root model.
func New(opts Options) *Model {
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	if opts.StepTimeout <= 0 {
		opts.StepTimeout = 2 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	keys := DefaultKeyMap()
	if opts.Keys != nil {
		keys = *opts.Keys
	}
	proto := opts.Params.Protocol
	if proto == "" {
		proto = "smtp"
	}
	opts.Params.Protocol = proto
	st := NewStyles(!opts.Light)
	ctx, cancel := context.WithCancel(opts.Context)
	m := &Model{
		opts: opts, be: opts.Backend, keys: keys, st: st,
		wizard:     newWizardPane(keys.Wizard, st),
		transcript: newTranscriptPane(keys.Transcript, st),
		explain:    newExplainPane(keys.List, st),
		checklist:  newChecklistPane(keys.List, st),
		mx:         newMXPane(keys.List, st),
		help:       help.New(),
		ctx:        ctx, cancel: cancel,
		protocol: proto,
		inflight: noStep, lookupStep: noStep,
		focus: PaneWizard,
	}
	m.help.Styles = help.DefaultStyles(!opts.Light)
	if m.be != nil {
		m.wizard.SetSteps(proto, m.be.Procedure(opts.Params))
	}
	return m
}

// Init asks the terminal for its background colour; the answer arrives
// as a tea.BackgroundColorMsg and is never waited for.
func (m *Model) Init() tea.Cmd { return tea.RequestBackgroundColor }

// Focus returns the focused pane.
func (m *Model) Focus() PaneID { return m.focus }

// Layout returns the current layout.
func (m *Model) Layout() Layout { return m.layout }

func (m *Model) panes() [numPanes]interface {
	Update(tea.Msg) tea.Cmd
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
} {
	return [numPanes]interface {
		Update(tea.Msg) tea.Cmd
		ShortHelp() []key.Binding
		FullHelp() [][]key.Binding
	}{PaneWizard: m.wizard, PaneTranscript: m.transcript, PaneExplain: m.explain, PaneChecklist: m.checklist, PaneMX: m.mx}
}

func (m *Model) resize(w, h int) {
	m.w, m.h = max(0, w), max(0, h)
	m.layout = Compute(m.w, m.h)
	m.help.SetWidth(m.w)
	border := m.layout.Bordered()
	size := func(r Rect) (int, int) {
		if m.layout.Mode == ModeTabs {
			return r.W, r.H
		}
		return innerSize(r.W, r.H, border)
	}
	m.wizard.SetSize(size(m.layout.Panes[PaneWizard]))
	m.transcript.SetSize(size(m.layout.Panes[PaneTranscript]))
	m.explain.SetSize(size(m.layout.Panes[PaneExplain]))
	m.checklist.SetSize(size(m.layout.Panes[PaneChecklist]))
	m.mx.SetSize(size(m.layout.Panes[PaneMX]))
	if m.dialog != nil {
		m.dialog.SetWidth(m.w)
	}
}

func (m *Model) setStyles(st Styles) {
	m.st = st
	m.wizard.SetStyles(st)
	m.transcript.SetStyles(st)
	m.explain.SetStyles(st)
	m.checklist.SetStyles(st)
	m.mx.SetStyles(st)
	m.help.Styles = help.DefaultStyles(st.IsDark)
}

// Update is the only place state changes.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
	case tea.BackgroundColorMsg:
		m.setStyles(NewStyles(msg.IsDark()))
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	case tea.PasteMsg:
		if m.dialog != nil {
			_, cmd := m.dialog.Update(msg)
			return m, cmd
		}
		if m.wizard.Typing() && m.focus == PaneWizard {
			return m, m.wizard.Update(msg)
		}
		if m.transcript.Searching() {
			return m, m.transcript.Update(msg)
		}
	case tea.MouseWheelMsg:
		if m.mouse {
			return m, m.transcript.Update(msg)
		}
	case transcriptMsg:
		return m, m.onTranscript(msg)
	case mxMsg:
		return m, m.onMX(msg)
	case connectedMsg:
		return m, m.onConnected(msg)
	case replyMsg:
		m.onReply(msg)
	case tlsMsg:
		m.onTLS(msg)
	case connectRequestMsg:
		return m, m.connectTo(Target{Host: msg.row.Host, Protocol: m.protocol, TLS: m.opts.Params.TLS}, noStep)
	case existsMsg:
		return m, m.onExists(msg)
	case exportedMsg:
		if m.dialog != nil {
			m.dialog.busy = false
			if msg.err != nil {
				m.dialog.err = msg.err.Error()
				return m, nil
			}
			m.dialog = nil
		}
		if msg.err == nil {
			m.status = "exported to " + msg.path
		}
	case closedMsg:
	}
	return m, nil
}

func (m *Model) handleKey(k tea.KeyPressMsg) tea.Cmd {
	g := m.keys.Global
	if k.String() == "ctrl+c" {
		return m.quit()
	}
	if m.dialog != nil {
		return m.updateDialog(k)
	}
	if m.transcript.Searching() {
		cmd := m.transcript.Update(k)
		m.explainSelection()
		return cmd
	}
	if m.showHelp {
		if key.Matches(k, g.Help, g.Cancel) {
			m.showHelp = false
		} else if key.Matches(k, g.Quit) {
			return m.quit()
		}
		return nil
	}
	if m.focus == PaneWizard && m.wizard.Typing() {
		switch {
		case key.Matches(k, g.NextPane):
			m.cycleFocus(1)
			return nil
		case key.Matches(k, g.PrevPane):
			m.cycleFocus(-1)
			return nil
		case key.Matches(k, m.keys.Wizard.Submit):
			return m.submitTyped()
		case key.Matches(k, g.Cancel):
			if m.inflight != noStep {
				m.cancelStep()
			} else {
				m.wizard.Blur()
			}
			return nil
		}
		return m.wizard.Update(k)
	}
	switch {
	case key.Matches(k, g.Quit):
		return m.quit()
	case key.Matches(k, g.Help):
		m.showHelp = true
	case key.Matches(k, g.NextPane):
		m.cycleFocus(1)
	case key.Matches(k, g.PrevPane):
		m.cycleFocus(-1)
	case key.Matches(k, g.Cancel):
		m.cancelStep()
	case key.Matches(k, g.Search):
		m.focus = PaneTranscript
		return m.transcript.StartSearch()
	case key.Matches(k, g.Export):
		m.dialog = newExportDialog(m.keys.Dialog, m.exportName(), m.opts.Now())
		m.dialog.SetWidth(m.w)
		return m.dialog.input.Focus()
	case key.Matches(k, g.Copy):
		if e, ok := m.transcript.Selected(); ok {
			m.status = "copied 1 line (OSC 52)"
			return tea.SetClipboard(e.Marker() + " " + e.Text())
		}
	case key.Matches(k, g.CopyAll):
		es := m.transcript.Entries()
		if len(es) > 0 {
			var b strings.Builder
			for _, e := range es {
				b.WriteString(e.Marker() + " " + e.Text() + "\n")
			}
			m.status = fmt.Sprintf("copied %d lines (OSC 52)", len(es))
			return tea.SetClipboard(b.String())
		}
	case key.Matches(k, g.Mode):
		cmd := m.wizard.CycleMode()
		if m.wizard.Mode() != ModeGuided {
			m.focus = PaneWizard
		}
		return cmd
	case key.Matches(k, g.Reconnect):
		return m.reconnect()
	case key.Matches(k, g.Mouse):
		m.mouse = !m.mouse
		if m.mouse {
			m.status = "mouse on (wheel scrolls; hold shift to select text)"
		} else {
			m.status = "mouse off (the terminal selects text)"
		}
	case key.Matches(k, g.Run) && m.focus != PaneMX:
		if m.wizard.Mode() == ModeGuided {
			return m.runCurrent("")
		}
		m.focus = PaneWizard
		return m.wizard.Focus()
	default:
		cmd := m.panes()[m.focus].Update(k)
		if m.focus == PaneTranscript {
			m.explainSelection()
		}
		return cmd
	}
	return nil
}

func (m *Model) cycleFocus(d int) {
	m.focus = PaneID((int(m.focus) + d + int(numPanes)) % int(numPanes))
}

// explainSelection shows the reply under the transcript selection.
func (m *Model) explainSelection() {
	if m.be == nil {
		return
	}
	if r, cmd, ok := m.transcript.SelectedReply(); ok {
		m.explain.SetExplanation(m.be.Explain(m.protocol, cmd, r))
	}
}

func (m *Model) quit() tea.Cmd {
	if m.quitting {
		return tea.Quit
	}
	m.quitting = true
	if m.opts.OnQuit != nil {
		m.opts.OnQuit()
	}
	m.cancel() // ends every Cmd waiting on the network or the store
	if m.sess != nil {
		return tea.Sequence(closeSession(m.sess, m.sid), tea.Quit)
	}
	return tea.Quit
}

func (m *Model) cancelStep() {
	if m.stepCancel != nil {
		m.stepCancel()
		m.stepCancel = nil
	}
	if m.inflight >= 0 {
		m.wizard.Cancel(m.inflight)
		m.status = "step cancelled"
	}
	if m.lookupStep != noStep {
		m.lookup++ // drop the rest of the lookup's events
		m.mx.Finish(nil)
		m.lookupStep = noStep
	}
	m.inflight = noStep
}

// stepContext starts the context of one step; esc cancels it.
func (m *Model) stepContext() context.Context {
	if m.stepCancel != nil {
		m.stepCancel()
	}
	ctx, cancel := context.WithTimeout(m.ctx, m.opts.StepTimeout)
	m.stepCancel = cancel
	return ctx
}

func (m *Model) endStep() {
	if m.stepCancel != nil {
		m.stepCancel()
		m.stepCancel = nil
	}
	m.inflight = noStep
}

// runCurrent runs the current wizard step; typed replaces the prepared
// line in practice mode.
func (m *Model) runCurrent(typed string) tea.Cmd {
	if m.inflight != noStep {
		m.status = "a step is running (esc cancels it)"
		return nil
	}
	s, ok := m.wizard.CurrentStep()
	if !ok {
		m.status = "procedure finished"
		return nil
	}
	i := m.wizard.Current()
	if m.be == nil {
		m.status = "no backend"
		return nil
	}
	switch s.Action {
	case ActionLookupMX:
		domain := m.opts.Params.Domain
		if domain == "" {
			m.wizard.Finish(i, false, "no domain given")
			return nil
		}
		m.lookup++
		m.lookupStep = i
		m.inflight = i
		m.wizard.SetRunning(i, true)
		m.mx.Start(domain)
		return lookupMX(m.stepContext(), m.be, m.lookup, domain)
	case ActionConnect:
		t, ok := m.defaultTarget()
		if !ok {
			m.wizard.Finish(i, false, "no server: run the MX step or pass --server")
			return nil
		}
		return m.connectTo(t, i)
	case ActionSend:
		if m.sess == nil {
			m.wizard.Finish(i, false, "not connected")
			return nil
		}
		lines := s.Send
		cmdText := strings.Join(s.Send, "")
		if len(s.Send) > 0 {
			cmdText = s.Send[0]
		}
		if typed != "" {
			lines, cmdText = []string{typed}, typed
		}
		if s.Secret {
			cmdText = "(credential)"
		}
		m.inflight = i
		m.wizard.SetRunning(i, true)
		return send(m.stepContext(), m.sess, m.sid, i, cmdText, lines)
	case ActionStartTLS:
		if m.sess == nil {
			m.wizard.Finish(i, false, "not connected")
			return nil
		}
		m.inflight = i
		m.wizard.SetRunning(i, true)
		return startTLS(m.stepContext(), m.sess, m.sid, i)
	default: // evaluate and unknown actions complete at once
		m.wizard.Finish(i, true, "")
		return nil
	}
}

// submitTyped sends what was typed at the wizard prompt.
func (m *Model) submitTyped() tea.Cmd {
	line, ok := m.wizard.Submit()
	s, hasStep := m.wizard.CurrentStep()
	singleSend := hasStep && s.Action == ActionSend && len(s.Send) <= 1
	if !ok {
		// An empty line in practice mode runs a step the operator does
		// not type (lookup, connect, TLS handshake, message body).
		if m.wizard.Mode() == ModePractice && hasStep && !singleSend {
			return m.runCurrent("")
		}
		return nil
	}
	if m.wizard.Mode() == ModePractice && hasStep {
		if singleSend {
			if s.Verb == "" || strings.HasPrefix(strings.ToUpper(strings.TrimSpace(line)), strings.ToUpper(s.Verb)) {
				return m.runCurrent(line)
			}
			m.wizard.SetHint("this step expects " + s.Verb + "; sent as a raw command")
		} else {
			m.wizard.SetHint("this step is run for you: press enter on an empty prompt")
			return nil
		}
	}
	if m.sess == nil {
		m.wizard.SetHint("not connected: r connects")
		return nil
	}
	if m.inflight != noStep {
		m.wizard.SetHint("wait for the reply (esc cancels)")
		return nil
	}
	m.inflight = rawStep
	return send(m.stepContext(), m.sess, m.sid, rawStep, line, []string{line})
}

// defaultTarget picks the server: --server first, then the selected MX
// row.
func (m *Model) defaultTarget() (Target, bool) {
	p := m.opts.Params
	if p.Server != "" {
		host := p.Server
		if h, _, err := net.SplitHostPort(p.Server); err == nil {
			host = h
		}
		return Target{Host: host, Addr: p.Server, Protocol: m.protocol, TLS: p.TLS}, true
	}
	if r, ok := m.mx.SelectedRow(); ok {
		return Target{Host: r.Host, Protocol: m.protocol, TLS: p.TLS}, true
	}
	if m.target.Host != "" {
		return m.target, true
	}
	return Target{}, false
}

// connectTo closes the current session and opens a new one. step is the
// wizard step that asked, or noStep.
func (m *Model) connectTo(t Target, step int) tea.Cmd {
	if m.be == nil {
		return nil
	}
	var cmds []tea.Cmd
	if m.sess != nil {
		cmds = append(cmds, closeSession(m.sess, m.sid))
		m.sess = nil
	}
	if m.stepCancel != nil {
		m.stepCancel()
	}
	m.sid++ // everything still in flight for the old session is now stale
	m.target = t
	m.store = nil
	m.transcript.Reset()
	if step == noStep {
		step = slices.IndexFunc(m.wizard.Steps(), func(s WizardStep) bool { return s.Action == ActionConnect })
		if step >= 0 {
			m.wizard.Restart(step)
		}
	}
	m.inflight = step
	if step >= 0 {
		m.wizard.SetRunning(step, true)
	}
	m.status = "connecting to " + t.Host
	cmds = append(cmds, connect(m.stepContext(), m.be, m.sid, t))
	return tea.Batch(cmds...)
}

func (m *Model) reconnect() tea.Cmd {
	t, ok := m.defaultTarget()
	if m.target.Host != "" {
		t, ok = m.target, true
	}
	if !ok {
		m.status = "nothing to reconnect to"
		return nil
	}
	return m.connectTo(t, noStep)
}

func (m *Model) onConnected(msg connectedMsg) tea.Cmd {
	if msg.sid != m.sid {
		if msg.sess != nil { // a connect that finished after it was abandoned
			return closeSession(msg.sess, msg.sid)
		}
		return nil
	}
	step := m.inflight
	m.endStep()
	if msg.err != nil {
		m.status = ""
		m.errText = msg.err.Error()
		if step >= 0 {
			m.wizard.Finish(step, false, "failed")
			m.showChecklist(step, Evidence{Err: msg.err.Error()})
		}
		return nil
	}
	m.errText = ""
	m.sess = msg.sess
	m.store = msg.sess.Transcript()
	m.status = "connected to " + msg.target.Host
	g := msg.sess.Greeting()
	if len(g.Lines) > 0 || g.Code != "" {
		m.explain.SetExplanation(m.be.Explain(m.protocol, "", g))
		m.wizard.SetLastCode(g.Code)
	}
	if step >= 0 {
		s := m.wizard.Steps()[step]
		ok := replyOK(s, g)
		m.wizard.Finish(step, ok, replySummary(g))
		if !ok {
			m.showChecklist(step, Evidence{Reply: &g})
		}
	}
	return waitTranscript(m.ctx, m.sid, m.store, 0)
}

func (m *Model) onTranscript(msg transcriptMsg) tea.Cmd {
	if msg.sid != m.sid || m.store == nil {
		return nil // stale: from a session that was replaced
	}
	m.transcript.Append(msg.entries)
	if msg.err != nil || msg.closed {
		if msg.closed {
			m.status = "session closed"
		}
		return nil
	}
	return waitTranscript(m.ctx, m.sid, m.store, m.transcript.LastSeq())
}

func (m *Model) onMX(msg mxMsg) tea.Cmd {
	if msg.lookup != m.lookup {
		return nil
	}
	m.mx.Apply(msg.events)
	if !msg.done {
		return waitMX(m.ctx, msg.lookup, msg.feed, msg.next)
	}
	m.mx.Finish(msg.err)
	step := m.lookupStep
	m.lookupStep = noStep
	if step >= 0 && step == m.inflight {
		m.endStep()
		n := len(m.mx.Rows())
		switch {
		case msg.err != nil:
			m.wizard.Finish(step, false, "lookup failed")
			m.showChecklist(step, Evidence{Err: msg.err.Error()})
		case n == 0:
			m.wizard.Finish(step, false, "no mail servers")
			m.showChecklist(step, Evidence{Err: "no mail servers"})
		default:
			m.wizard.Finish(step, true, fmt.Sprintf("%d host(s)", n))
		}
	}
	return nil
}

func (m *Model) onReply(msg replyMsg) {
	if msg.sid != m.sid {
		return
	}
	if msg.step != m.inflight { // cancelled meanwhile: the transcript still shows it
		return
	}
	m.endStep()
	if msg.err != nil {
		m.errText = msg.err.Error()
	} else {
		m.errText = ""
	}
	if msg.err == nil || len(msg.reply.Lines) > 0 {
		m.explain.SetExplanation(m.be.Explain(m.protocol, msg.command, msg.reply))
		m.wizard.SetLastCode(msg.reply.Code)
	}
	if msg.step < 0 {
		return
	}
	s := m.wizard.Steps()[msg.step]
	ok := msg.err == nil && replyOK(s, msg.reply)
	res := replySummary(msg.reply)
	if msg.err != nil && res == "" {
		res = "error"
	}
	m.wizard.Finish(msg.step, ok, res)
	if !ok {
		ev := Evidence{Command: msg.command}
		if msg.err != nil {
			ev.Err = msg.err.Error()
		}
		if len(msg.reply.Lines) > 0 || msg.reply.Code != "" {
			r := msg.reply
			ev.Reply = &r
		}
		m.showChecklist(msg.step, ev)
	}
}

func (m *Model) onTLS(msg tlsMsg) {
	if msg.sid != m.sid || msg.step != m.inflight {
		return
	}
	m.endStep()
	if msg.step < 0 {
		return
	}
	if msg.err != nil {
		m.errText = msg.err.Error()
		m.wizard.Finish(msg.step, false, "handshake failed")
		m.showChecklist(msg.step, Evidence{Err: msg.err.Error()})
		return
	}
	m.wizard.Finish(msg.step, true, "TLS up")
}

func (m *Model) showChecklist(step int, ev Evidence) {
	s := m.wizard.Steps()[step]
	ev.Protocol = m.protocol
	ev.Step = s.Checklist
	if ev.Step == "" {
		ev.Step = s.ID
	}
	if m.sess != nil && m.target.TLS != "" {
		ev.TLS = m.target.TLS == "implicit"
	}
	m.checklist.SetItems(ev.Step, m.be.Checklist(ev))
}

// replyOK says whether r is the success step s expects.
func replyOK(s WizardStep, r transcript.Reply) bool {
	if len(s.Expect) == 0 {
		return r.OK
	}
	return slices.Contains(s.Expect, r.Code)
}

// replySummary is the step's short outcome: the code and the start of
// the last line, sanitised.
func replySummary(r transcript.Reply) string {
	if len(r.Lines) == 0 {
		return transcript.PrintableString(r.Code)
	}
	return ansiCut(transcript.PrintableString(r.Lines[len(r.Lines)-1]), 40)
}

func (m *Model) exportName() string {
	switch {
	case m.opts.Params.Domain != "":
		return m.opts.Params.Domain
	case m.target.Host != "":
		return m.target.Host
	}
	return ""
}

func (m *Model) updateDialog(k tea.KeyPressMsg) tea.Cmd {
	act, cmd := m.dialog.Update(k)
	switch act {
	case dialogClose:
		m.dialog = nil
	case dialogCheck:
		return checkExists(m.dialog.Path())
	case dialogWrite:
		return m.writeExport()
	}
	return cmd
}

func (m *Model) onExists(msg existsMsg) tea.Cmd {
	if m.dialog == nil || msg.path != m.dialog.Path() {
		return nil
	}
	m.dialog.busy = false
	switch {
	case msg.err != nil:
		m.dialog.err = msg.err.Error()
	case msg.exists:
		m.dialog.confirm = true
	default:
		m.dialog.busy = true
		return m.writeExport()
	}
	return nil
}

func (m *Model) writeExport() tea.Cmd {
	es := m.transcript.Entries()
	es = es[:len(es):len(es)] // entries never change; the cap stops appends sharing memory
	return export(m.opts.Export, m.dialog.Path(), m.dialog.Format(), es)
}
