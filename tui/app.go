package tui

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/mailflow/mailflow/diag/wizard"
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
	// "jsonl") with meta in the header; the dialog has already asked
	// before overwriting. It runs inside a Cmd.
	Export func(path, format string, meta transcript.Meta, entries []transcript.Entry) error
	// Scenarios, when not empty, are the faults the lab can inject; the
	// Scenario key opens a picker and SwitchScenario applies the choice.
	// Both are nil outside the lab, and the key is then hidden.
	Scenarios      []ScenarioInfo
	SwitchScenario func(name string) error
	// Scenario is the scenario active at start, shown in the header.
	Scenario string
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

	// ExportDir is the export dialog's default directory (empty: the
	// working directory). mailflow serve sets each user's own.
	ExportDir string
	// StartLab, when set, lets the start screen (shown when Params name
	// neither a domain nor a server) offer the lab: it starts the lab
	// and returns the options of lab mode, which the model switches to.
	// It runs inside a Cmd; the lab must end when ctx does.
	StartLab func(ctx context.Context) (Options, error)
	// CheckNetwork, when set, tells the start screen quickly whether the
	// network is usable (nil error) or why not; the lab is then
	// suggested. It runs inside a Cmd and must honour ctx's deadline.
	CheckNetwork func(ctx context.Context) error
	// Replay, when set, shows a recorded conversation read-only: nothing
	// is looked up or sent.
	Replay *Replay
}

// Model is the root Bubble Tea model and the only tea.Model in mailflow.
type Model struct {
	opts   Options
	be     Backend
	keys   KeyMap
	st     Styles
	layout Layout
	w, h   int
	sized  bool // a WindowSizeMsg has arrived

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

	sid    int // current session id; stale messages carry older ids
	sess   Session
	store  *transcript.Store
	target Target

	rsteps    replaySteps // a replay's wizard rows, derived as entries arrive
	replayErr string      // why reading a replay stopped early
	protocol  string

	lookup     int // current MX lookup id
	lookupStep int // step waiting on the lookup, -1 none

	inflight   int // run id of the step in flight, -1 none, -2 a raw command
	stepCancel context.CancelFunc
	quitting   bool

	mach    wizard.Machine    // the procedure: the source of truth for the steps
	machErr string            // why the procedure could not start, if it could not
	results map[string]string // step id -> short outcome shown in the list
	verdict string            // reason of the latest verdict
	run     int               // id of the latest step run; stale replies carry older ones
	nullMX  bool              // the running lookup found "MX 0 ."

	picker   *scenarioPicker
	scenario string

	start       *startScreen // the start screen, while it is shown
	replay      *Replay      // the recorded conversation, in replay mode
	replayFacts *replayFacts // checkpoints of what the replay established (see replayFacts)
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
	m.scenario = opts.Scenario
	m.newMachine("", 0)
	switch {
	case opts.Replay != nil:
		m.initReplay(opts.Replay)
	case opts.Params.Domain == "" && opts.Params.Server == "":
		m.start = newStartScreen(opts.StartLab != nil, opts.CheckNetwork != nil)
	}
	return m
}

// Init asks the terminal for its background colour (the answer arrives
// as a tea.BackgroundColorMsg and is never waited for) and, on the start
// screen, starts the network check.
func (m *Model) Init() tea.Cmd {
	if r := m.replay; r != nil && r.Store != nil {
		cmds := []tea.Cmd{tea.RequestBackgroundColor, waitTranscript(m.ctx, m.sid, r.Store, m.transcript.LastSeq())}
		if r.Load != nil {
			cmds = append(cmds, loadReplay(m.ctx, r.Load))
		}
		return tea.Batch(cmds...)
	}
	if m.start != nil && m.opts.CheckNetwork != nil {
		return tea.Batch(tea.RequestBackgroundColor, checkNetwork(m.ctx, m.opts.CheckNetwork))
	}
	return tea.RequestBackgroundColor
}

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
	m.sized = true
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
	if m.start != nil {
		m.start.input.SetWidth(max(1, m.w-4))
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
	msg, ok := m.filterInput(msg)
	if !ok {
		return m, nil
	}
	switch msg.(type) {
	case tea.KeyPressMsg, tea.PasteMsg:
		defer m.screenInputs()
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
	case tea.BackgroundColorMsg:
		m.setStyles(NewStyles(msg.IsDark()))
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	case tea.PasteMsg:
		if m.tooSmall() {
			return m, nil
		}
		if m.start != nil && !m.start.labBusy {
			var cmd tea.Cmd
			m.start.input, cmd = m.start.input.Update(msg)
			m.start.validate()
			return m, cmd
		}
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
		if m.mouse && !m.tooSmall() {
			return m, m.transcript.Update(msg)
		}
	case transcriptMsg:
		return m, m.onTranscript(msg)
	case replayLoadedMsg:
		m.onReplayLoaded(msg)
	case mxMsg:
		return m, m.onMX(msg)
	case connectedMsg:
		return m, m.onConnected(msg)
	case replyMsg:
		return m, m.onReply(msg)
	case tlsMsg:
		return m, m.onTLS(msg)
	case connectRequestMsg:
		if m.replay != nil {
			return m, nil
		}
		return m, m.restartOn(msg.row.Host, 0)
	case scenarioMsg:
		m.onScenario(msg)
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
	case netMsg:
		m.onNet(msg)
	case labMsg:
		return m, m.onLab(msg)
	case closedMsg:
	}
	return m, nil
}

func (m *Model) handleKey(k tea.KeyPressMsg) tea.Cmd {
	g := m.keys.Global
	if k.String() == "ctrl+c" {
		return m.quit()
	}
	if m.tooSmall() {
		// Nothing but the "too small" message is on screen, so a key
		// would act on state the operator cannot see; only quit works.
		if key.Matches(k, g.Quit) {
			return m.quit()
		}
		return nil
	}
	if m.start != nil {
		return m.updateStart(k)
	}
	if m.dialog != nil {
		return m.updateDialog(k)
	}
	if m.picker != nil {
		return m.updatePicker(k)
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
		case key.Matches(k, g.NextPane) && !m.wizard.AskingSecret():
			m.cycleFocus(1)
			return nil
		case key.Matches(k, g.PrevPane) && !m.wizard.AskingSecret():
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
	if m.replayBlocked(k) {
		return nil
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
		m.dialog.setDir(m.opts.ExportDir)
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
	case key.Matches(k, g.Skip):
		m.skipStep()
	case key.Matches(k, g.GoQuit):
		m.goQuit()
	case key.Matches(k, g.Scenario) && m.hasScenarios():
		m.openPicker()
	case key.Matches(k, g.Mouse):
		m.mouse = !m.mouse
		if m.mouse {
			m.status = "mouse on (wheel scrolls; hold shift to select text)"
		} else {
			m.status = "mouse off (the terminal selects text)"
		}
	case key.Matches(k, g.Run) && m.focus != PaneMX:
		if m.wizard.Mode() == ModeGuided {
			return m.runCurrent("", "")
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

// tooSmall reports whether the terminal (once its size is known) is
// below the minimum, so that only the "too small" message is shown.
func (m *Model) tooSmall() bool { return m.sized && m.layout.Mode == ModeTooSmall }

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
	if m.replay != nil {
		m.replayChecklist()
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

// cancelStep abandons the step in flight; the machine stays on it, so
// enter runs it again.
func (m *Model) cancelStep() {
	if m.stepCancel != nil {
		m.stepCancel()
		m.stepCancel = nil
	}
	if m.inflight >= 0 {
		m.status = "step cancelled"
		if m.machErr == "" && !m.mach.Done() {
			m.results[m.mach.Current().ID] = "cancelled"
		}
	}
	if m.lookupStep != noStep {
		m.lookup++ // drop the rest of the lookup's events
		m.mx.Finish(nil)
		m.lookupStep = noStep
	}
	m.inflight = noStep
	m.syncWizard()
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

// submitTyped handles enter at the wizard prompt: a password for the
// current step, a line checked against the step (practice), or anything
// (raw).
func (m *Model) submitTyped() tea.Cmd {
	if m.wizard.AskingSecret() {
		pw, ok := m.wizard.Submit()
		if !ok {
			return nil
		}
		return m.runCurrent("", pw)
	}
	line, ok := m.wizard.Submit()
	practice := m.wizard.Mode() == ModePractice && m.machErr == "" && !m.mach.Done()
	var cur wizard.Step
	if practice {
		cur = m.mach.Current()
	}
	if !ok {
		// An empty line in practice mode runs a step the operator does
		// not type (lookup, connect, TLS handshake), or sends the empty
		// line that ends the message headers.
		if practice && (cur.Input == wizard.InputNone || cur.Input == wizard.InputBlank || cur.Input == "") {
			return m.runCurrent("", "")
		}
		return nil
	}
	if practice {
		if cur.Input == wizard.InputNone || cur.Input == "" {
			m.wizard.SetHint("this step is run for you: press enter on an empty prompt")
			return nil
		}
		if m.inflight != noStep {
			m.wizard.SetHint("wait for the reply (esc cancels)")
			return nil
		}
		hints := wizard.CheckTyped(cur, line)
		if wizard.Blocks(hints) {
			m.wizard.SetHint("not sent: " + hints[0].Message)
			return nil
		}
		cmd := m.runCurrent(line, "")
		if len(hints) > 0 {
			m.wizard.SetHint("sent, but: " + hints[0].Message)
		}
		return cmd
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
	return sendLines(m.stepContext(), m.sess, m.sid, rawStep, line, []string{line}, "")
}

// connectTo closes the current session and opens a new one for the
// machine's connect step.
func (m *Model) connectTo(t Target) tea.Cmd {
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
	m.run++
	m.inflight = m.run
	m.status = "connecting to " + t.Host
	m.syncWizard()
	cmds = append(cmds, connect(m.stepContext(), m.be, m.sid, t))
	return tea.Batch(cmds...)
}

// restartOn starts the procedure again against host (the MX step is
// skipped) and runs its connect step.
func (m *Model) restartOn(host string, port int) tea.Cmd {
	if m.inflight != noStep {
		m.cancelStep()
	}
	m.newMachine(host, port)
	if m.machErr != "" {
		return nil
	}
	return m.runCurrent("", "")
}

func (m *Model) reconnect() tea.Cmd {
	if m.target.Host == "" {
		if m.machErr == "" && m.mach.Next().Kind == wizard.ActConnect {
			return m.runCurrent("", "")
		}
		m.status = "nothing to reconnect to"
		return nil
	}
	port := 0
	if _, p, err := net.SplitHostPort(m.target.Addr); err == nil {
		port, _ = strconv.Atoi(p)
	}
	return m.restartOn(m.target.Host, port)
}

func (m *Model) onConnected(msg connectedMsg) tea.Cmd {
	if msg.sid != m.sid {
		if msg.sess != nil { // a connect that finished after it was abandoned
			return closeSession(msg.sess, msg.sid)
		}
		return nil
	}
	m.endStep()
	if msg.err != nil {
		m.status = ""
		m.errText = msg.err.Error()
		v, _ := m.mach.ObserveFailure(failureReason(msg.err))
		return m.afterVerdict("connect", v, "failed", Evidence{Err: msg.err})
	}
	m.errText = ""
	m.sess = msg.sess
	m.store = msg.sess.Transcript()
	m.status = "connected to " + msg.target.Host
	g := msg.sess.Greeting()
	m.explain.SetExplanation(m.be.Explain(m.protocol, "", g))
	m.wizard.SetLastCode(g.Code)
	v, _ := m.mach.Observe(wizardReply(g))
	cmd := m.afterVerdict("connect", v, replySummary(g), Evidence{Reply: &g})
	return tea.Batch(waitTranscript(m.ctx, m.sid, m.store, 0), cmd)
}

func (m *Model) onTranscript(msg transcriptMsg) tea.Cmd {
	if msg.sid != m.sid || m.store == nil {
		return nil // stale: from a session that was replaced
	}
	if m.replay != nil {
		m.replayEntries(msg.entries)
		m.replayStatus()
		if msg.err != nil || msg.closed {
			return nil
		}
		return waitTranscript(m.ctx, m.sid, m.store, m.transcript.LastSeq())
	}
	m.transcript.SetEntries(msg.entries)
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
	for _, ev := range msg.events {
		if ev.NullMX {
			m.nullMX = true
		}
	}
	m.mx.Apply(msg.events)
	if !msg.done {
		return waitMX(m.ctx, msg.lookup, msg.feed, msg.next)
	}
	m.mx.Finish(msg.err)
	run := m.lookupStep
	m.lookupStep = noStep
	if run == noStep || run != m.inflight {
		return nil
	}
	m.endStep()
	rows := slices.Clone(m.mx.Rows())
	slices.SortStableFunc(rows, func(a, b MXRow) int { return a.Pref - b.Pref })
	var hosts []string
	for _, r := range rows {
		hosts = append(hosts, r.Host)
	}
	if m.nullMX {
		hosts = []string{"."}
	}
	result := fmt.Sprintf("%d host(s)", len(rows))
	ev := Evidence{Err: msg.err}
	if msg.err != nil {
		result = "lookup failed"
		m.errText = msg.err.Error()
	}
	v, _ := m.mach.ObserveMX(hosts, msg.err)
	if v.Kind == wizard.VerdictOK {
		m.status = ""
	}
	return m.afterVerdict("mx", v, result, ev)
}

func (m *Model) onReply(msg replyMsg) tea.Cmd {
	if msg.sid != m.sid {
		return nil
	}
	if msg.step != m.inflight { // cancelled meanwhile: the transcript still shows it
		return nil
	}
	m.endStep()
	if msg.err != nil {
		m.errText = msg.err.Error()
	} else {
		m.errText = ""
	}
	hasReply := len(msg.reply.Lines) > 0 || msg.reply.Code != ""
	if hasReply {
		m.explain.SetExplanation(m.be.Explain(m.protocol, msg.command, msg.reply))
		m.wizard.SetLastCode(msg.reply.Code)
	}
	if msg.step == rawStep {
		return nil
	}
	a := m.mach.Next()
	ev := Evidence{Command: msg.command, Err: msg.err}
	if hasReply {
		r := msg.reply
		ev.Reply = &r
	}
	var v wizard.Verdict
	result := replySummary(msg.reply)
	switch {
	case hasReply && (a.ExpectReply || msg.err != nil):
		v, _ = m.mach.Observe(wizardReply(msg.reply))
	case msg.err != nil:
		v, _ = m.mach.ObserveFailure(failureReason(msg.err))
		result = "error"
	case a.ExpectReply:
		v, _ = m.mach.ObserveFailure("no reply arrived")
		result = "no reply"
	default:
		v, _ = m.mach.Sent()
		result = "sent"
	}
	return m.afterVerdict(a.StepID, v, result, ev)
}

func (m *Model) onTLS(msg tlsMsg) tea.Cmd {
	if msg.sid != m.sid || msg.step != m.inflight {
		return nil
	}
	m.endStep()
	id := m.mach.Current().ID
	if msg.err != nil {
		m.errText = msg.err.Error()
		v, _ := m.mach.ObserveFailure(failureReason(msg.err))
		return m.afterVerdict(id, v, "handshake failed", Evidence{Err: msg.err})
	}
	v, _ := m.mach.Sent()
	return m.afterVerdict(id, v, "TLS up", Evidence{})
}

// showChecklist evaluates the failure checklist named in ev.Step against
// what the machine learnt and what the session saw.
func (m *Model) showChecklist(ev Evidence) {
	ev.Protocol = m.protocol
	ev.Target = m.target
	ev.Facts = m.mach.Evidence()
	m.checklist.SetItems(ev.Step, m.be.Checklist(ev))
}

// replySummary is the step's short outcome: the code and the start of
// the last line, sanitised.
func replySummary(r transcript.Reply) string {
	if len(r.Lines) == 0 {
		return display(r.Code)
	}
	return ansiCut(display(r.Lines[len(r.Lines)-1]), 40)
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
	meta := transcript.Meta{Title: "mailflow " + strings.ToUpper(m.protocol) + " session", Target: m.target.Addr}
	if m.target.Host != "" {
		meta.Title += " with " + m.target.Host
	}
	if meta.Target == "" {
		meta.Target = m.opts.Params.Domain
	}
	return export(m.opts.Export, m.dialog.Path(), m.dialog.Format(), meta, es)
}
