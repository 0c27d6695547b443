package tui

import (
	"bytes"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// TestProgramFlow runs the real Bubble Tea program: the guided steps up
// to the failing RCPT, then q, which must close the session.
func TestProgramFlow(t *testing.T) {
	be := newFakeBackend()
	m := newTestModel(be, testParams())
	tm := teatest.NewTestModel(t, m,
		teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	out := tm.Output()
	wait := func(s string) {
		t.Helper()
		teatest.WaitFor(t, out, func(b []byte) bool { return bytes.Contains(b, []byte(s)) },
			teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	}
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	wait("2 host(s)")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	wait("ESMTP ready")
	for _, want := range []string{"SIZE 10240000", "Sender ok", "User unknown"} {
		tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
		wait(want)
	}
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	final := tm.FinalModel(t).(*Model)
	if s := step(final, "rcpt"); s.State != StepFailed {
		t.Errorf("RCPT state = %v, want failed", s.State)
	}
	if !be.sessions[0].isClosed() {
		t.Error("quitting did not close the session")
	}
}
