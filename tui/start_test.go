package tui

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

func newStartModel(be *fakeBackend, startLab func(context.Context) (Options, error)) *Model {
	return New(Options{Backend: be, Params: Params{Protocol: "smtp", From: "me@example.org", HELO: "client.example.org"},
		StartLab: startLab, CheckNetwork: func(context.Context) error { return nil }})
}

func TestStartScreenDomain(t *testing.T) {
	for _, tt := range []struct {
		typed     string
		wantNote  string
		bad       bool
		wantParam func(p Params) bool
	}{
		{typed: "bücher.example", wantNote: "queried as xn--bcher-kva.example",
			wantParam: func(p Params) bool { return p.Domain == "xn--bcher-kva.example" && p.Server == "" }},
		{typed: "Example.NET", wantParam: func(p Params) bool { return p.Domain == "example.net" }},
		{typed: "mx.example.net:2525", wantNote: "server mx.example.net:2525",
			wantParam: func(p Params) bool { return p.Server == "mx.example.net:2525" && p.Domain == "" }},
		{typed: "192.0.2.1", wantNote: "needs a port", bad: true},
		{typed: "exa mple.com", bad: true},
		{typed: "mx.example.net:", bad: true},
	} {
		t.Run(tt.typed, func(t *testing.T) {
			be := newFakeBackend()
			m := newStartModel(be, nil)
			hs := newHarness(t, m, 80, 24)
			if !m.InStartScreen() {
				t.Fatal("no start screen without a domain")
			}
			hs.typeText(tt.typed)
			s := screen(m)
			if tt.wantNote != "" && !strings.Contains(s, tt.wantNote) {
				t.Errorf("screen lacks %q:\n%s", tt.wantNote, s)
			}
			if tt.bad && !strings.Contains(s, "✗") {
				t.Errorf("no error shown for %q:\n%s", tt.typed, s)
			}
			hs.press("enter")
			if tt.bad {
				if !m.InStartScreen() {
					t.Fatal("a bad input left the start screen")
				}
				return
			}
			if m.InStartScreen() || !tt.wantParam(m.opts.Params) {
				t.Fatalf("params %+v, start screen %v", m.opts.Params, m.InStartScreen())
			}
			// The first step runs at once: the MX lookup, or the
			// connect to the server.
			if m.opts.Params.Server != "" {
				hs.until("connected", func(m *Model) bool { return m.sess != nil })
				if be.targets[0].Addr != "mx.example.net:2525" {
					t.Errorf("target %+v", be.targets[0])
				}
			} else {
				hs.until("MX rows", func(m *Model) bool { return len(m.mx.Rows()) == 2 })
			}
		})
	}
}

func TestStartScreenNetworkAndKeys(t *testing.T) {
	m := newStartModel(newFakeBackend(), func(context.Context) (Options, error) { return Options{}, errors.New("boom") })
	hs := newHarness(t, m, 80, 24)
	if !strings.Contains(screen(m), "network: checking") {
		t.Errorf("no network check shown:\n%s", screen(m))
	}
	hs.send(netMsg{err: errors.New("no default route")})
	s := screen(m)
	if !strings.Contains(s, "suggested: no network") || !strings.Contains(s, "no default route") {
		t.Errorf("offline: lab not suggested:\n%s", s)
	}
	// L inside a typed name is a letter, not the lab.
	hs.typeText("mail.L")
	if v := m.start.input.Value(); v != "mail.L" || m.start.labBusy {
		t.Fatalf("typed %q, lab busy %v", v, m.start.labBusy)
	}
	hs.press("esc") // clears the line
	if m.start.input.Value() != "" {
		t.Fatal("esc did not clear the line")
	}
	// A failed lab start is reported on the start screen.
	hs.press("L")
	hs.until("lab error", func(m *Model) bool { return m.start != nil && m.start.labErr != "" })
	if !strings.Contains(screen(m), "lab: boom") {
		t.Errorf("lab error not shown:\n%s", screen(m))
	}
	hs.press("q")
	hs.until("quit", func(*Model) bool { return hs.quit })
}

func TestStartScreenNoLab(t *testing.T) {
	m := New(Options{Backend: newFakeBackend(), Params: Params{Protocol: "smtp"}})
	hs := newHarness(t, m, 80, 24)
	s := screen(m)
	if strings.Contains(s, "built-in lab") || strings.Contains(s, "network:") {
		t.Errorf("lab or network check offered without callbacks:\n%s", s)
	}
	if m.Init() == nil {
		t.Error("Init returned nothing")
	}
	hs.press("L")
	if !strings.Contains(screen(m), "not available") {
		t.Errorf("L without a lab:\n%s", screen(m))
	}
}

// TestStartScreenLab chooses the lab: the model switches to the lab's
// options (scenario in the header, the lab's domain) and runs the MX step.
func TestStartScreenLab(t *testing.T) {
	labBE := newFakeBackend()
	quits := 0
	var gotCtx context.Context
	m := newStartModel(newFakeBackend(), func(ctx context.Context) (Options, error) {
		gotCtx = ctx
		return Options{Backend: labBE, Params: Params{Domain: "lab.test", Protocol: "smtp", From: "chris@lab.test", To: "kate@lab.test", HELO: "client.lab.test"},
			Scenario: "healthy", Scenarios: []ScenarioInfo{{Name: "healthy"}}, SwitchScenario: func(string) error { return nil },
			OnQuit: func() { quits++ }}, nil
	})
	m.opts.OnQuit = func() { quits += 10 }
	m.mouse = true
	hs := newHarness(t, m, 80, 24)
	hs.press("L")
	hs.until("lab mode", func(m *Model) bool { return !m.InStartScreen() && len(m.mx.Rows()) == 2 })
	if gotCtx == nil {
		t.Fatal("StartLab got no context")
	}
	s := screen(m)
	if !strings.Contains(s, "lab[healthy]") || !strings.Contains(s, "lab.test") || !strings.Contains(s, "mx1.example.net") {
		t.Errorf("lab mode screen:\n%s", s)
	}
	if !m.mouse || m.w != 80 || m.h != 24 {
		t.Errorf("mouse %v size %dx%d not kept", m.mouse, m.w, m.h)
	}
	hs.press("q")
	hs.until("quit", func(*Model) bool { return hs.quit })
	if quits != 11 {
		t.Errorf("OnQuit calls = %d, want the lab's and the root's (11)", quits)
	}
}

// TestReconnectSameTarget checks that r opens a new session to the same
// host and address, closes the old one and restarts the procedure at the
// connect step.
func TestReconnectSameTarget(t *testing.T) {
	hs, be := runToRCPT(t, 80, 24)
	m := hs.m
	oldSid := m.sid
	hs.press("r")
	hs.until("reconnected", func(m *Model) bool { return m.sid != oldSid && m.sess != nil })
	if len(be.targets) != 2 || be.targets[1] != be.targets[0] {
		t.Fatalf("targets %+v, want the same one twice", be.targets)
	}
	hs.until("old session closed", func(*Model) bool { return be.sessions[0].isClosed() })
	if be.sessions[1].isClosed() {
		t.Error("the new session is closed")
	}
	if got := step(m, "connect").State; got != StepDone {
		t.Errorf("connect step state %v after reconnect", got)
	}
	if got := step(m, "ehlo").State; got != StepPending {
		t.Errorf("ehlo step state %v, want pending (procedure restarted)", got)
	}
}

// TestMouseToggle checks that M turns wheel scrolling on and off.
func TestMouseToggle(t *testing.T) {
	hs, _ := runToRCPT(t, 80, 24)
	m := hs.m
	sel := m.transcript.sel
	wheel := tea.MouseWheelMsg{Button: tea.MouseWheelUp}
	m.Update(wheel)
	if m.transcript.sel != sel {
		t.Fatal("the wheel scrolled with the mouse off")
	}
	hs.press("M")
	if m.View().MouseMode != tea.MouseModeCellMotion || !strings.Contains(lastLine(screen(m)), "[mouse]") {
		t.Fatal("M did not turn the mouse on")
	}
	m.Update(wheel)
	if m.transcript.sel != sel-3 || m.transcript.Following() {
		t.Fatalf("wheel up: sel %d (was %d), following %v", m.transcript.sel, sel, m.transcript.Following())
	}
	hs.press("M")
	m.Update(wheel)
	if m.View().MouseMode != tea.MouseModeNone || m.transcript.sel != sel-3 {
		t.Fatal("the mouse is still on")
	}
}

// TestWizardRowsArePlanned checks that the rows after the current step
// are the machine's plan: the fake server does not offer STARTTLS, so no
// TLS row shows once EHLO has answered; with --tls none none shows at all.
func TestWizardRowsArePlanned(t *testing.T) {
	hs, _ := runToRCPT(t, 80, 24)
	for _, r := range hs.m.wizard.Steps() {
		if r.ID == "starttls" || r.ID == "tls" || r.ID == "ehlo-tls" || r.ID == "helo" {
			t.Errorf("row %s shown, but the run will not take it", r.ID)
		}
	}
	p := testParams()
	p.TLS = "none"
	m := newTestModel(newFakeBackend(), p)
	var got []string
	for _, r := range m.wizard.Steps() {
		got = append(got, r.ID)
	}
	if strings.Join(got, " ") != "mx connect ehlo mail rcpt data subject blank body dot quit evaluate" {
		t.Errorf("rows %v", got)
	}
}
