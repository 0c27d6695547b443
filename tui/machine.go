package tui

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/mailflow/mailflow/diag/wizard"
	"github.com/mailflow/mailflow/session/transcript"
)

// The procedure is a diag/wizard.Machine held by the model. The machine is
// pure (no I/O, no goroutines, no clock): Update asks it what to do next
// (Next), runs the action in a tea.Cmd through the Backend, and feeds the
// outcome back (ObserveMX, Observe, Sent, ObserveFailure). The wizard
// pane only draws rows rebuilt from the machine after each change.

// Defaults for the test message of the SMTP procedure.
const (
	defaultSubject = "mailflow test message"
	defaultBody    = "This is a test message sent by mailflow to check mail flow."
)

// wizardParams turns the command-line parameters into the machine's.
// A host given with --server skips the MX lookup; without a recipient the
// domain's postmaster is used, which RFC 5321 §4.5.1 requires to exist.
func wizardParams(p Params, proto string) (wizard.Proto, wizard.Params) {
	wp := wizard.Params{
		From: p.From, To: p.To, Helo: p.HELO, User: p.User, UseAuth: p.Auth,
		Subject: p.Subject, Body: p.Body,
		ImplicitTLS: p.TLS == "implicit",
		NoTLS:       p.TLS == "none",
		// SMTP uses STARTTLS whenever the server offers it; POP3 and
		// IMAP only when asked, which is the default --tls.
		UseTLS: proto != "smtp" && (p.TLS == "" || p.TLS == "starttls"),
	}
	switch {
	case wp.To != "":
	case p.Domain != "":
		wp.To = "postmaster@" + p.Domain
	case p.Server != "":
		// Only the server is known: its postmaster, with an address
		// literal for an IP (RFC 5321 §4.1.3).
		host, _, err := net.SplitHostPort(p.Server)
		if err != nil {
			host = p.Server
		}
		if ip := net.ParseIP(host); ip != nil {
			host = "[" + host + "]"
		}
		wp.To = "postmaster@" + host
	}
	if wp.Helo == "" {
		wp.Helo = "localhost"
	}
	if wp.Subject == "" {
		wp.Subject = defaultSubject
	}
	if wp.Body == "" {
		wp.Body = defaultBody
	}
	if p.Server != "" {
		host, port, err := net.SplitHostPort(p.Server)
		if err != nil {
			host = p.Server
		}
		wp.Host = host
		if n, err := strconv.Atoi(port); err == nil {
			wp.Port = n
		}
	}
	return wizard.Proto(proto), wp
}

// newMachine (re)starts the procedure. host, when set, replaces the
// server (a reconnect or a host picked in the MX pane): the MX step is
// then skipped.
func (m *Model) newMachine(host string, port int) {
	proto, wp := wizardParams(m.opts.Params, m.protocol)
	if host != "" {
		wp.Host, wp.Port = host, port
	}
	mach, err := wizard.New(proto, wp)
	m.mach, m.machErr = mach, ""
	if err != nil {
		m.machErr = strings.TrimPrefix(err.Error(), "wizard: ")
	}
	m.results = map[string]string{}
	m.verdict = ""
	m.syncWizard()
}

// shortTitles label the steps in the narrow step list; the procedure's
// full title is shown under it.
var shortTitles = map[string]string{
	"mx": "MX lookup", "connect": "Connect", "tls": "TLS handshake",
	"ehlo-tls": "EHLO (TLS)", "auth-user": "AUTH user", "auth-pass": "AUTH password",
	"mail": "MAIL FROM", "rcpt": "RCPT TO", "subject": "Subject header",
	"blank": "Blank line", "body": "Body", "dot": "End with .", "evaluate": "Results",
}

func shortTitle(s wizard.Step) string {
	if t, ok := shortTitles[s.ID]; ok {
		return t
	}
	if s.Verb != "" {
		return s.Verb
	}
	return strings.ToUpper(s.ID)
}

// syncWizard rebuilds the wizard pane's rows from the machine.
func (m *Model) syncWizard() {
	if m.replay != nil {
		m.syncReplayWizard(m.transcript.Entries())
		return
	}
	if m.machErr != "" {
		m.wizard.SetRows(m.protocol, nil, 0)
		m.wizard.SetInfo("", "cannot start the procedure: "+m.machErr, nil)
		return
	}
	steps := m.mach.Steps()
	last := map[string]wizard.Result{}
	for _, r := range m.mach.Results() {
		last[r.StepID] = r
	}
	cur := m.mach.Current()
	done := m.mach.Done()
	curIdx := slices.IndexFunc(steps, func(s wizard.Step) bool { return s.ID == cur.ID })
	var next wizard.Action
	if !done {
		next = m.mach.Next()
	}
	// The rows after the current step are exactly the steps the machine
	// plans to run from here, branches resolved with what it knows.
	planned := map[string]bool{}
	for _, s := range m.mach.Planned() {
		planned[s.ID] = true
	}
	rows := make([]WizardStep, 0, len(steps))
	at := -1
	for i, s := range steps {
		row := WizardStep{ID: s.ID, Title: shortTitle(s), Long: s.Title, Action: StepAction(s.Action),
			Verb: s.Verb, Why: s.Why, Success: s.Success, Secret: s.Secret, Result: m.results[s.ID]}
		r, has := last[s.ID]
		switch {
		case i == curIdx && (!done || s.Action == wizard.ActEvaluate):
			at = len(rows)
			row.State = StepPending
			switch {
			case done:
				row.State = StepDone
			case m.inflight >= 0:
				row.State = StepRunning
			case m.mach.Failed():
				row.State = StepFailed
			}
			if next.Kind == wizard.ActSend {
				row.Send, row.Warning = next.Display, next.Warning
			}
		case has:
			switch r.Verdict {
			case wizard.VerdictOK:
				row.State = StepDone
			case "skipped":
				row.State = StepSkipped
				if row.Result == "" {
					row.Result = "skipped"
				}
			default:
				row.State = StepFailed
			}
		case i > curIdx && planned[s.ID]:
			row.State = StepPending
		default:
			continue
		}
		rows = append(rows, row)
	}
	if at < 0 {
		at = len(rows)
	}
	m.wizard.SetRows(m.protocol, rows, at)
	n, total := m.mach.Progress()
	var summary []string
	if done {
		summary = m.mach.Next().Summary
	}
	m.wizard.SetInfo(fmt.Sprintf("%d/%d", n, total), m.verdict, summary)
	m.explain.SetVerdict(m.verdict)
	m.wizard.SetRunning(m.inflight != noStep)
}

// runCurrent carries out the machine's next action. typed, in practice
// mode, replaces the prepared line; secret is a password the operator
// just typed at the password prompt (it lives only in the Cmd).
func (m *Model) runCurrent(typed, secret string) tea.Cmd {
	if m.inflight != noStep {
		m.status = "a step is running (esc cancels it)"
		return nil
	}
	if m.be == nil {
		m.status = "no backend"
		return nil
	}
	if m.machErr != "" {
		m.status = "no procedure: " + m.machErr
		return nil
	}
	a := m.mach.Next()
	switch a.Kind {
	case wizard.ActLookupMX:
		m.lookup++
		m.run++
		m.inflight, m.lookupStep = m.run, m.run
		m.nullMX = false
		m.mx.Start(a.Domain)
		m.status = "looking up the MX of " + a.Domain
		m.syncWizard()
		return lookupMX(m.stepContext(), m.be, m.lookup, a.Domain)
	case wizard.ActConnect:
		t := Target{Host: a.Host, Addr: net.JoinHostPort(a.Host, strconv.Itoa(a.Port)), Protocol: m.protocol, TLS: m.opts.Params.TLS}
		if a.ImplicitTLS {
			t.TLS = "implicit"
		} else if t.TLS == "implicit" || t.TLS == "" {
			t.TLS = "starttls"
		}
		return m.connectTo(t)
	case wizard.ActSend:
		if m.sess == nil {
			m.status = "not connected: r reconnects"
			return nil
		}
		lines, shown := a.Lines, strings.Join(a.Display, " / ")
		switch {
		case typed != "":
			lines, shown = []string{typed}, typed
		case a.Secret && secret == "":
			return m.wizard.AskSecret("password")
		case a.Secret:
			var err error
			if lines, err = a.Fill(secret); err != nil {
				m.wizard.SetHint(strings.TrimPrefix(err.Error(), "wizard: "))
				return nil
			}
		}
		if a.Secret {
			shown = "(credential)"
		}
		m.run++
		m.inflight = m.run
		m.syncWizard()
		return sendLines(m.stepContext(), m.sess, m.sid, m.run, shown, lines, secret)
	case wizard.ActHandshake:
		if m.sess == nil {
			m.status = "not connected: r reconnects"
			return nil
		}
		m.run++
		m.inflight = m.run
		m.syncWizard()
		return startTLS(m.stepContext(), m.sess, m.sid, m.run)
	case wizard.ActEvaluate:
		m.status = "procedure finished: the results are in the wizard pane"
	default:
		m.status = "procedure finished"
	}
	return nil
}

// afterVerdict records a verdict, opens the checklist on a failure and
// starts what follows automatically (the TLS handshake after an accepted
// STARTTLS; skipping the TLS steps when --tls none).
func (m *Model) afterVerdict(stepID string, v wizard.Verdict, result string, ev Evidence) tea.Cmd {
	if result != "" {
		m.results[stepID] = result
	}
	m.verdict = v.Reason
	if v.Kind != wizard.VerdictOK && v.Checklist != "" {
		ev.Step = string(v.Checklist)
		m.showChecklist(ev)
	}
	if v.Kind == wizard.VerdictFail {
		m.status = "step failed: enter retries, " + m.keys.Global.Skip.Help().Key + " skips, " + m.keys.Global.GoQuit.Help().Key + " says goodbye"
	}
	if m.opts.Params.TLS == "none" {
		for !m.mach.Done() && m.mach.Current().Group == "tls" {
			m.mach.Skip()
		}
	}
	m.syncWizard()
	if v.StartTLS && m.mach.Next().Kind == wizard.ActHandshake {
		return m.runCurrent("", "")
	}
	if v.Closing && m.sess != nil {
		// The server ended the session (221, BYE, 421): close our side
		// too, which ends the transcript and its journal.
		s := m.sess
		m.sess = nil
		return closeSession(s, m.sid)
	}
	return nil
}

// wizardReply converts a session reply for the machine, which derives
// codes and statuses from the raw lines.
func wizardReply(r transcript.Reply) wizard.Reply {
	return wizard.Reply{Enhanced: r.Enhanced, Lines: r.Lines}
}

// failureReason is the short description of a transport error given to
// the machine (shown as is, so it is sanitised and cut).
func failureReason(err error) string {
	return ansiCut(display(err.Error()), 120)
}

// skipStep leaves out the current step (and its group).
func (m *Model) skipStep() {
	if m.inflight != noStep || m.machErr != "" || m.mach.Done() {
		return
	}
	id := m.mach.Current().ID
	m.mach.Skip()
	m.results[id] = "skipped"
	m.verdict = ""
	m.syncWizard()
}

// goQuit jumps to the goodbye step.
func (m *Model) goQuit() {
	if m.inflight != noStep || m.machErr != "" {
		return
	}
	if !m.mach.Quit() {
		m.status = "cannot say goodbye here (inside DATA end the message with \".\")"
		return
	}
	m.verdict = ""
	m.syncWizard()
}
