package tui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/mailflow/mailflow/diag/checklist"
	"github.com/mailflow/mailflow/session/transcript"
)

// Replay is a recorded conversation (a JSON-lines export or a journal)
// shown read-only: the transcript pane holds its entries, selecting a
// reply explains it and evaluates the checklist of its step from what
// the entries show, and the wizard pane lists the steps that ran.
type Replay struct {
	// Source names where the entries came from (a file name).
	Source string
	// Meta is the export's header.
	Meta transcript.Meta
	// Entries are the recorded entries, in order, for a replay read in
	// full before it is shown. Store replaces it for one read while it
	// is shown.
	Entries []transcript.Entry
	// Store, when set, holds the entries read so far; the view follows
	// it as it fills, as for a live session, and Load fills it.
	Store *transcript.Store
	// Load, when set, reads the rest of the recording into Store and
	// closes Store (also on error). The model runs it in a Cmd from
	// Init; its error (naming the line) is shown, not fatal.
	Load func(ctx context.Context) error
}

// maxReplayRows caps the wizard pane's rows in a replay: a recording
// of a million lines holds hundreds of thousands of replies, and the
// pane shows a screenful. The summary counts them all.
const maxReplayRows = 500

// replaySteps derives the wizard pane's rows of a replay incrementally,
// from the entries not seen yet (transcript.Steps, one pass in all).
type replaySteps struct {
	scanned   int    // entries looked at
	lastCmd   int    // index of the last client line not answered yet, or -1
	replies   int    // replies seen
	failed    string // the first failed step, "(step (code))"
	firstFail int    // index of the first failure (isFailure), or -1
	rows      []WizardStep
}

// replayLoadedMsg reports the end of reading a replay.
type replayLoadedMsg struct{ err error }

func loadReplay(ctx context.Context, load func(context.Context) error) tea.Cmd {
	return func() tea.Msg { return replayLoadedMsg{err: load(ctx)} }
}

// initReplay puts the model in replay mode.
func (m *Model) initReplay(r *Replay) {
	m.replay = r
	for _, e := range r.Entries {
		if e.Proto == "smtp" || e.Proto == "pop3" || e.Proto == "imap" {
			m.protocol = e.Proto
			break
		}
	}
	m.target = Target{Addr: r.Meta.Target, Protocol: m.protocol}
	m.target.Host = r.Meta.Target
	if h, _, err := net.SplitHostPort(r.Meta.Target); err == nil {
		m.target.Host = h
	}
	m.mx.SetNote("replay: no live DNS")
	m.rsteps = replaySteps{lastCmd: -1, firstFail: -1}
	es := r.Entries
	if r.Store != nil {
		m.store = r.Store
		es = r.Store.Since(0)
	}
	p := m.transcript
	p.SetEntries(es)
	p.follow, p.sel, p.top, p.topOff = false, 0, 0, 0
	p.status = ""
	m.focus = PaneTranscript
	m.replayEntries(es)
	m.replayStatus()
}

// replayEntries shows es (all the entries so far) in a replay: the new
// ones extend the wizard pane's rows, and the first failure, which is
// what a replay is usually for, is selected when it appears while the
// selection has not moved from the first entry.
func (m *Model) replayEntries(es []transcript.Entry) {
	m.transcript.SetEntries(es)
	before := m.rsteps.firstFail
	m.syncReplayWizard(es)
	p := m.transcript
	if before < 0 && m.rsteps.firstFail >= 0 && p.sel <= 0 {
		p.findFrom(m.rsteps.firstFail, 1, isFailure)
		p.status = ""
		p.refresh()
		m.explainSelection()
	} else if before < 0 && p.sel == 0 {
		p.refresh()
		m.explainSelection()
	}
}

// replayStatus says whether the replay is still being read, or how the
// reading ended.
func (m *Model) replayStatus() {
	r := m.replay
	switch {
	case m.replayErr != "":
		// The error first: it names the line, and the status line is cut
		// at the terminal's width.
		m.status = "replay stopped: " + m.replayErr + " (" + r.Source + ", read-only)"
	case r.Store != nil && !r.Store.Closed():
		m.status = fmt.Sprintf("replay (read-only): loading %d lines… %s", len(m.transcript.Entries()), r.Source)
	default:
		m.status = "replay (read-only): " + r.Source
	}
}

// onReplayLoaded shows the end of reading a replay.
func (m *Model) onReplayLoaded(msg replayLoadedMsg) {
	if msg.err != nil && !errors.Is(msg.err, context.Canceled) {
		m.replayErr = msg.err.Error()
	}
	if m.replay.Store != nil {
		m.replayEntries(m.replay.Store.Since(0))
	}
	m.replayStatus()
}

// syncReplayWizard shows the steps of the recording in the wizard pane:
// it reads the entries of es not seen yet (as transcript.Steps does),
// keeps the first maxReplayRows rows and counts the rest.
func (m *Model) syncReplayWizard(es []transcript.Entry) {
	st := &m.rsteps
	for i := st.scanned; i < len(es); i++ {
		e := &es[i]
		if st.firstFail < 0 && isFailure(*e) {
			st.firstFail = i
		}
		switch {
		case e.Dir == transcript.Client:
			st.lastCmd = i
		case e.Reply != nil:
			st.replies++
			if len(st.rows) < maxReplayRows || (st.failed == "" && !e.Reply.OK) {
				cmd := "(connect)"
				if st.lastCmd >= 0 {
					cmd = es[st.lastCmd].Text()
				}
				ws := WizardStep{ID: e.Step, Title: ansiCut(cmd, 24), Long: cmd, State: StepDone,
					Result: strings.TrimSpace(e.Reply.Code + " " + e.Reply.Enhanced)}
				if !e.Reply.OK {
					ws.State = StepFailed
					if st.failed == "" {
						st.failed = fmt.Sprintf("%s (%s)", e.Step, ws.Result)
					}
				}
				if len(st.rows) < maxReplayRows {
					st.rows = append(st.rows, ws)
				}
			}
			st.lastCmd = -1
		}
	}
	st.scanned = len(es)
	m.wizard.SetRows(m.protocol, st.rows, len(st.rows))
	summary := []string{fmt.Sprintf("%d replies recorded.", st.replies)}
	if st.replies > len(st.rows) {
		summary[0] = fmt.Sprintf("%d replies recorded (the first %d listed).", st.replies, len(st.rows))
	}
	if st.failed != "" {
		summary = append(summary, "First failure: "+st.failed+"; f jumps to failures in the transcript.")
	}
	summary = append(summary, "Nothing can be sent from a replay.")
	m.wizard.SetInfo("", "", summary)
	m.wizard.SetReadOnly(true)
}

// replayBlocked reports, in replay mode, a key that would send something
// or change the procedure; the status line says why nothing happens.
func (m *Model) replayBlocked(k tea.KeyPressMsg) bool {
	if m.replay == nil {
		return false
	}
	g := m.keys.Global
	blocked := key.Matches(k, g.Run, g.Reconnect, g.Mode, g.Skip, g.GoQuit, g.Scenario)
	if m.focus == PaneMX && key.Matches(k, m.keys.List.Select) {
		blocked = true
	}
	if blocked {
		m.status = "replay is read-only: " + k.String() + " would send, so it is off (e exports, q quits)"
	}
	return blocked
}

// replayChecklist evaluates the checklist for the selected entry of a
// replay: a reply's step, or the step of an error note.
func (m *Model) replayChecklist() {
	es := m.transcript.Entries()
	sel := m.transcript.sel
	if m.be == nil || sel < 0 || sel >= len(es) {
		return
	}
	i := sel
	if es[i].Dir == transcript.Server {
		for i < len(es) && i < sel+1000 && es[i].Reply == nil && es[i].Dir == transcript.Server {
			i++
		}
	}
	if i >= len(es) {
		return
	}
	e := es[i]
	if e.Reply == nil && !(e.Dir == transcript.Note && e.Level >= transcript.Warning) {
		return
	}
	if m.replayFacts == nil {
		m.replayFacts = &replayFacts{}
	}
	ev := replayEvidence(m.protocol, m.replay.Meta.Target, es, i, m.replayFacts)
	if ev.Step == "" {
		m.checklist.SetItems("", nil)
		return
	}
	m.checklist.SetItems(ev.Step, m.be.Checklist(ev))
}

// replayEvidence derives checklist evidence from the recorded entries up
// to entry i (a reply or an error note): the reply, the step, whether TLS
// was active, what EHLO advertised, and what the error notes say about
// the connection and the TLS handshake.
func replayEvidence(proto, target string, es []transcript.Entry, i int, facts *replayFacts) Evidence {
	e := es[i]
	ev := Evidence{Protocol: proto, Target: Target{Host: target, Addr: target, Protocol: proto}}
	if h, p, err := net.SplitHostPort(target); err == nil {
		ev.Target.Host = h
		ev.Facts.Port, _ = strconv.Atoi(p)
	}
	command := ""
	for j := i - 1; j >= 0 && j > i-1000; j-- {
		if es[j].Dir == transcript.Client {
			command = es[j].Text()
			break
		}
	}
	if e.Reply != nil {
		r := *e.Reply
		ev.Reply = &r
		ev.Command = command
	}
	ev.Facts.TLSActive = e.Secure
	f := facts.upTo(proto, es, i)
	ev.Facts.Caps, ev.Facts.Authenticated = f.caps, f.authenticated
	ev.Facts.TLSError, ev.Facts.Connect, ev.Facts.Closed = f.tlsError, f.connect, f.closed
	step := e.Step
	if e.Dir == transcript.Note {
		if e.Proto == "tls" {
			step = "starttls"
		}
		if e.Proto == "tcp" {
			step = "connect"
		}
	}
	ev.Step = replayChecklistStep(proto, step, command, e.Reply != nil)
	if ev.Facts.TLSError != "" && ev.Step == string(checklist.StepConnect) {
		ev.Facts.Connect = checklist.ConnectTLSError
	}
	return ev
}

// replayChecklistStep maps a recorded step onto a checklist step.
func replayChecklistStep(proto, step, command string, isReply bool) string {
	switch step {
	case "connect":
		if isReply {
			return string(checklist.StepBanner)
		}
		return string(checklist.StepConnect)
	case "starttls", "stls", "tls":
		return string(checklist.StepSTARTTLS)
	case "quit", "logout":
		return string(checklist.StepQuit)
	}
	switch proto {
	case "smtp":
		switch step {
		case "ehlo", "helo":
			return string(checklist.StepEHLO)
		case "auth":
			return string(checklist.StepAuth)
		case "mail":
			return string(checklist.StepMail)
		case "rcpt":
			return string(checklist.StepRcpt)
		case "data":
			if strings.TrimSpace(command) == "." {
				return string(checklist.StepEndOfData)
			}
			return string(checklist.StepData)
		case "message", "dot":
			return string(checklist.StepEndOfData)
		}
	case "pop3":
		if step == "user" || step == "pass" || step == "auth" {
			return string(checklist.StepAuth)
		}
	case "imap":
		if step == "login" || step == "authenticate" || step == "auth" {
			return string(checklist.StepIMAPLogin)
		}
	}
	return ""
}

// ehloCaps reads the extensions an EHLO reply lists.
func ehloCaps(lines []string) checklist.Capabilities {
	c := checklist.Capabilities{Seen: true}
	for i, l := range lines {
		if i == 0 || len(l) < 4 {
			continue
		}
		f := strings.Fields(strings.ToUpper(l[4:]))
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "STARTTLS":
			c.STARTTLS = true
		case "AUTH":
			c.Auth = append(c.Auth, f[1:]...)
		case "SIZE":
			if len(f) > 1 {
				c.Size, _ = strconv.ParseInt(f[1], 10, 64)
			}
		}
	}
	return c
}

// connectOutcomeOf classifies a connect error note by the words
// session/wire writes into it.
func connectOutcomeOf(text string) checklist.ConnectOutcome {
	switch {
	case strings.Contains(text, "refused"):
		return checklist.ConnectRefused
	case strings.Contains(text, "timeout") || strings.Contains(text, "timed out"):
		return checklist.ConnectTimeout
	case strings.Contains(text, "reset"):
		return checklist.ConnectReset
	case strings.Contains(text, "unreachable"):
		return checklist.ConnectUnreachable
	case strings.Contains(text, "no such host") || strings.Contains(text, "dns"):
		return checklist.ConnectDNSError
	}
	return ""
}

// tlsReasonOf classifies a TLS error note.
func tlsReasonOf(text string) checklist.TLSReason {
	switch {
	case strings.Contains(text, "expired") || strings.Contains(text, "not yet valid"):
		return checklist.TLSExpired
	case strings.Contains(text, "unknown authority") || strings.Contains(text, "unknown-authority"):
		return checklist.TLSUnknownAuthority
	case strings.Contains(text, "name-mismatch") || strings.Contains(text, "not valid for") || strings.Contains(text, "doesn't contain") || strings.Contains(text, "name mismatch"):
		return checklist.TLSNameMismatch
	case strings.Contains(text, "protocol version"):
		return checklist.TLSProtocolVersion
	}
	return checklist.TLSHandshake
}

// replayFacts is what a recorded conversation established up to an entry
// (EHLO capabilities, a successful login, TLS and connection failures),
// with checkpoints every replayFactsEvery entries. Moving the selection in
// a replay of a million lines must not walk the whole conversation on
// every key: with the checkpoints, finding the facts for an entry walks at
// most replayFactsEvery entries, and each checkpoint is computed once
// (the store only grows, so they never go stale).
type replayFacts struct {
	marks []factState // marks[k]: the state after the first k*replayFactsEvery entries
}

const replayFactsEvery = 4096

type factState struct {
	caps          checklist.Capabilities
	authenticated bool
	tlsError      checklist.TLSReason
	connect       checklist.ConnectOutcome
	closed        bool
}

// upTo returns the state after entries es[0..i]. A nil receiver walks from
// the start.
func (r *replayFacts) upTo(proto string, es []transcript.Entry, i int) factState {
	var st factState
	from := 0
	if r != nil {
		if len(r.marks) == 0 {
			r.marks = append(r.marks, factState{})
		}
		for k := len(r.marks); k*replayFactsEvery <= i+1; k++ {
			next := r.marks[k-1]
			for j := (k - 1) * replayFactsEvery; j < k*replayFactsEvery; j++ {
				next.add(proto, es[j])
			}
			r.marks = append(r.marks, next)
		}
		k := (i + 1) / replayFactsEvery
		st, from = r.marks[k], k*replayFactsEvery
	}
	for j := from; j <= i; j++ {
		st.add(proto, es[j])
	}
	return st
}

// add takes what entry x establishes.
func (st *factState) add(proto string, x transcript.Entry) {
	switch {
	case x.Reply != nil && proto == "smtp" && (x.Step == "ehlo" || x.Step == "helo"):
		st.caps = ehloCaps(x.Reply.Lines)
	case x.Reply != nil && x.Reply.OK && (x.Step == "auth" || x.Step == "pass" || x.Step == "login") && x.Reply.Code != "334" && x.Reply.Code != "+":
		st.authenticated = true
	case x.Dir == transcript.Note && x.Level >= transcript.Warning:
		text := strings.ToLower(x.Text())
		if x.Proto == "tls" {
			st.tlsError = tlsReasonOf(text)
			return
		}
		if x.Proto == "tcp" || x.Step == "connect" {
			st.connect = connectOutcomeOf(text)
		} else if strings.Contains(text, "closed the connection") {
			st.closed = true
		}
	}
}
