package tui

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/mailflow/mailflow/session/transcript"
)

func screen(m *Model) string { return ansi.Strip(m.View().Content) }

// runToRCPT drives the guided procedure to the failing RCPT step.
func runToRCPT(t *testing.T, w, h int) (*harness, *fakeBackend) {
	t.Helper()
	be := newFakeBackend()
	hs := newHarness(t, newTestModel(be, testParams()), w, h)
	hs.press("enter")
	hs.until("MX step done", func(m *Model) bool { return step(m, "mx").State == StepDone })
	hs.press("enter")
	hs.until("connected", func(m *Model) bool { return step(m, "connect").State == StepDone && m.transcript.Len() >= 2 })
	for _, id := range []string{"ehlo", "mail", "rcpt"} {
		hs.press("enter")
		hs.until(id+" finished", stepEnded(id))
	}
	// Let the transcript catch up with the last reply.
	hs.until("transcript caught up", func(m *Model) bool { return m.transcript.Len() == m.store.Len() })
	return hs, be
}

func TestGuidedFlow(t *testing.T) {
	hs, be := runToRCPT(t, 80, 24)
	m := hs.m
	want := map[string]StepState{"mx": StepDone, "connect": StepDone, "ehlo": StepDone, "mail": StepDone, "rcpt": StepFailed, "data": StepPending, "quit": StepPending}
	for id, w := range want {
		if s := step(m, id); s.State != w {
			t.Errorf("step %s state = %v, want %v", id, s.State, w)
		}
	}
	if s := step(m, "starttls"); s.State != -1 {
		t.Errorf("STARTTLS is listed (%v) although the server did not offer it", s.State)
	}
	if m.wizard.Current() != 4 {
		t.Errorf("current step = %d, want 4 (the failed RCPT)", m.wizard.Current())
	}
	if got := len(m.mx.Rows()); got != 2 {
		t.Errorf("MX rows = %d, want 2 (the update replaced mx1's row)", got)
	}
	if r := m.mx.Rows()[0]; r.Probe != "220 in 4ms" {
		t.Errorf("row 0 probe = %q: the later event did not replace the row", r.Probe)
	}
	if len(be.targets) != 1 || be.targets[0].Host != "mx1.example.net" {
		t.Errorf("connected to %+v, want the selected MX host", be.targets)
	}
	ex, ok := m.explain.Explanation()
	if !ok || ex.Code != "550" || ex.Enhanced != "5.1.1" || !strings.HasPrefix(ex.Command, "RCPT TO:") {
		t.Errorf("explanation = %+v, want the 550 5.1.1 reply to RCPT", ex)
	}
	items := m.checklist.Items()
	if len(items) != 3 || !strings.Contains(items[0].Why, "rcpt") {
		t.Errorf("checklist = %+v, want the rcpt checklist", items)
	}
	sess := be.sessions[0]
	if got := strings.Join(sess.sent, "|"); got != "EHLO client.example.org|MAIL FROM:<me@example.org>|RCPT TO:<nobody@example.net>" {
		t.Errorf("sent %q", got)
	}
	v := screen(m)
	for _, s := range []string{"✓ EHLO", "✗ RCPT TO", "<- 550 5.1.1", "-> RCPT TO:<nobody@example.net>", "(12ms)", "! The mailbox does not"} {
		if !strings.Contains(v, s) {
			t.Errorf("screen lacks %q:\n%s", s, v)
		}
	}
}

func TestQuitClosesSession(t *testing.T) {
	quitCalled := false
	be := newFakeBackend()
	m := New(Options{Backend: be, Params: Params{Server: "127.0.0.1:2525", Protocol: "smtp"}, OnQuit: func() { quitCalled = true }})
	hs := newHarness(t, m, 80, 24)
	hs.press("r") // reconnect = connect to --server
	hs.until("connected", func(m *Model) bool { return m.sess != nil })
	if be.targets[0].Addr != "127.0.0.1:2525" || be.targets[0].Host != "127.0.0.1" {
		t.Errorf("target = %+v", be.targets[0])
	}
	hs.press("q")
	hs.until("quit", func(*Model) bool { return hs.quit })
	if !quitCalled || !be.sessions[0].isClosed() {
		t.Errorf("OnQuit called %v, session closed %v", quitCalled, be.sessions[0].closed)
	}
	if m.ctx.Err() == nil {
		t.Error("the root context is still live after quit")
	}
}

func TestStaleSessionIgnored(t *testing.T) {
	be := newFakeBackend()
	m := New(Options{Backend: be, Params: Params{Server: "127.0.0.1:25"}})
	hs := newHarness(t, m, 80, 24)
	hs.press("r")
	hs.until("connected", func(m *Model) bool { return m.sess != nil && m.transcript.Len() == 2 })
	old := m.sid
	hs.press("r")
	hs.until("reconnected", func(m *Model) bool { return m.sid != old && m.sess != nil })
	n := m.transcript.Len()
	m.Update(transcriptMsg{sid: old, entries: []transcript.Entry{{Seq: 99, Dir: transcript.Server, Raw: []byte("stale")}}})
	if m.transcript.Len() != n {
		t.Fatal("an entry from the replaced session reached the transcript")
	}
	hs.until("old session closed", func(*Model) bool { return be.sessions[0].isClosed() })
}

func TestCancelStep(t *testing.T) {
	be := newFakeBackend()
	be.block = make(chan struct{})
	p := testParams()
	p.Server = "127.0.0.1:25"
	m := newTestModel(be, p)
	hs := newHarness(t, m, 80, 24)
	if s := step(m, "mx"); s.State != StepSkipped {
		t.Fatalf("with --server the MX step is %v, want skipped", s.State)
	}
	hs.press("enter")
	hs.until("connected", func(m *Model) bool { return step(m, "connect").State == StepDone })
	hs.press("enter")
	if s := step(m, "ehlo"); s.State != StepRunning {
		t.Fatalf("EHLO state = %v, want running", s.State)
	}
	hs.press("esc")
	if s := step(m, "ehlo"); s.State != StepPending || s.Result != "cancelled" {
		t.Fatalf("after esc: %+v", s)
	}
	if m.inflight != noStep {
		t.Fatal("a step is still marked in flight")
	}
	// The cancelled Send returns ctx.Err(); its reply must not touch
	// the wizard.
	hs.until("cancelled reply delivered", func(m *Model) bool { return len(hs.msgs) == 0 })
	if step(m, "ehlo").State != StepPending {
		t.Fatal("a cancelled step's late reply changed its state")
	}
}

func TestPracticeModeTypedCommand(t *testing.T) {
	be := newFakeBackend()
	p := testParams()
	p.Server = "127.0.0.1:25"
	m := newTestModel(be, p)
	hs := newHarness(t, m, 100, 30)
	hs.press("m") // practice
	if m.wizard.Mode() != ModePractice || !m.wizard.Typing() {
		t.Fatalf("mode %v typing %v", m.wizard.Mode(), m.wizard.Typing())
	}
	hs.press("enter") // empty prompt runs the connect step
	hs.until("connected", func(m *Model) bool { return step(m, "connect").State == StepDone })
	hs.typeText("eh")
	hs.press("ctrl+space")
	if got := m.wizard.input.Value(); got != "EHLO " {
		t.Fatalf("completion gave %q, want %q", got, "EHLO ")
	}
	hs.typeText("me.example")
	hs.press("enter")
	hs.until("EHLO done", func(m *Model) bool { return step(m, "ehlo").State == StepDone })
	if be.sessions[0].sent[0] != "EHLO me.example" {
		t.Errorf("sent %q, want what was typed", be.sessions[0].sent[0])
	}
	// History: up brings the last command back.
	hs.press("up")
	if got := m.wizard.input.Value(); got != "EHLO me.example" {
		t.Errorf("history gave %q", got)
	}
	hs.press("down")
	if got := m.wizard.input.Value(); got != "" {
		t.Errorf("history down gave %q, want the empty draft", got)
	}
	// Typing q goes to the prompt, it does not quit.
	hs.typeText("q")
	if hs.quit || m.quitting || m.wizard.input.Value() != "q" {
		t.Fatalf("q at the prompt: quitting=%v value=%q", m.quitting, m.wizard.input.Value())
	}
	// The AUTH LOGIN helper encodes the input as base64.
	m.wizard.input.SetValue("user@example.org")
	hs.press("ctrl+b")
	if got := m.wizard.input.Value(); got != "dXNlckBleGFtcGxlLm9yZw==" {
		t.Errorf("base64 helper gave %q", got)
	}
}

func TestFocusCycleAndHelp(t *testing.T) {
	m := newTestModel(newFakeBackend(), testParams())
	hs := newHarness(t, m, 80, 24)
	var seen []PaneID
	for i := 0; i < int(numPanes); i++ {
		seen = append(seen, m.Focus())
		hs.press("tab")
	}
	if m.Focus() != PaneWizard {
		t.Errorf("tab did not cycle back to the wizard, got %v", m.Focus())
	}
	if fmt.Sprint(seen) != fmt.Sprint([]PaneID{PaneWizard, PaneTranscript, PaneExplain, PaneChecklist, PaneMX}) {
		t.Errorf("focus order %v", seen)
	}
	hs.press("shift+tab")
	if m.Focus() != PaneMX {
		t.Errorf("shift+tab gave %v", m.Focus())
	}
	footer := lastLine(screen(m))
	if !strings.Contains(footer, "connect to host") {
		t.Errorf("footer does not show the MX pane's help: %q", footer)
	}
	hs.press("?")
	if !strings.Contains(screen(m), "mouse on/off") {
		t.Error("? did not show the full help")
	}
	hs.press("?")
	if m.showHelp {
		t.Error("? did not close the help")
	}
	hs.press("M")
	if m.View().MouseMode != tea.MouseModeCellMotion {
		t.Error("M did not turn the mouse on")
	}
	hs.press("M")
	if m.View().MouseMode != tea.MouseModeNone {
		t.Error("mouse should be off")
	}
	if !m.View().AltScreen {
		t.Error("not on the alternate screen")
	}
}

func lastLine(s string) string {
	ls := strings.Split(s, "\n")
	return ls[len(ls)-1]
}

func TestExportDialog(t *testing.T) {
	dir := t.TempDir()
	var gotPath, gotFormat string
	var gotN int
	be := newFakeBackend()
	p := testParams()
	p.Server = "127.0.0.1:25"
	m := New(Options{Backend: be, Params: p, Now: func() time.Time { return time.Date(2025, 3, 4, 10, 5, 6, 0, time.UTC) },
		Export: func(path, format string, _ transcript.Meta, es []transcript.Entry) error {
			gotPath, gotFormat, gotN = path, format, len(es)
			return os.WriteFile(path, []byte("x"), 0o600)
		}})
	hs := newHarness(t, m, 80, 24)
	hs.press("r")
	hs.until("connected", func(m *Model) bool { return m.transcript.Len() == 2 })
	hs.press("e")
	if m.dialog == nil {
		t.Fatal("e did not open the dialog")
	}
	if got := m.dialog.Path(); got != "mailflow-example.net-20250304-100506.txt" {
		t.Errorf("default path %q", got)
	}
	hs.press("tab")
	if m.dialog.Format() != "markdown" || !strings.HasSuffix(m.dialog.Path(), ".md") {
		t.Errorf("tab gave format %q path %q", m.dialog.Format(), m.dialog.Path())
	}
	path := filepath.Join(dir, "out.md")
	m.dialog.input.SetValue(path)
	hs.press("enter")
	hs.until("exported", func(m *Model) bool { return m.dialog == nil })
	if gotPath != path || gotFormat != "markdown" || gotN != 2 {
		t.Errorf("export(%q, %q, %d entries)", gotPath, gotFormat, gotN)
	}
	// A second export to the same path asks first; n keeps the file.
	gotPath = ""
	hs.press("e")
	m.dialog.input.SetValue(path)
	hs.press("enter")
	hs.until("asked", func(m *Model) bool { return m.dialog != nil && m.dialog.confirm })
	if !strings.Contains(screen(m), "exists. Overwrite? y/n") {
		t.Error("the overwrite question is not shown")
	}
	hs.press("n")
	if gotPath != "" || m.dialog == nil || m.dialog.confirm {
		t.Fatal("n still wrote the file or closed the dialog")
	}
	hs.press("enter")
	hs.until("asked again", func(m *Model) bool { return m.dialog != nil && m.dialog.confirm })
	hs.press("y")
	hs.until("overwritten", func(m *Model) bool { return m.dialog == nil })
	if gotPath != path {
		t.Error("y did not write")
	}
}

func TestCopyUsesSanitisedText(t *testing.T) {
	m := newTestModel(newFakeBackend(), testParams())
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.transcript.Append([]transcript.Entry{{Seq: 1, Dir: transcript.Server, Raw: []byte("220 hi\x1b]52;c;ZXZpbA==\x07")}})
	_, cmd := m.Update(keyMsg("y"))
	if cmd == nil {
		t.Fatal("y returned no command")
	}
	msg := cmd()
	got := fmt.Sprint(msg)
	if strings.ContainsAny(got, "\x1b\x07") {
		t.Fatalf("clipboard text carries raw control bytes: %q", got)
	}
	if !strings.Contains(got, "220 hi␛]52;c;ZXZpbA==␇") {
		t.Fatalf("clipboard message %q lacks the sanitised line", got)
	}
}

func TestSanitisedServerLineInView(t *testing.T) {
	m := newTestModel(newFakeBackend(), testParams())
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	evil := "250 ok\x1b]52;c;ZXZpbA==\x07\x1b[2J\rgotcha\x9b"
	m.transcript.Append([]transcript.Entry{{Seq: 1, Dir: transcript.Server, Raw: []byte(evil),
		Reply: &transcript.Reply{Code: "250", Lines: []string{evil}, OK: true}}})
	m.focus = PaneTranscript
	m.Update(keyMsg("k")) // selection → explainer shows the reply lines too
	raw := m.View().Content
	plain := ansi.Strip(raw)
	for _, r := range plain {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) || r == utf8.RuneError {
			t.Errorf("view contains control or invalid rune %U", r)
		}
	}
	// Every ESC left in the raw view must start a styling sequence (SGR),
	// never an OSC or a screen clear.
	for i := 0; i < len(raw); i++ {
		if raw[i] == 0x1b && (i+1 >= len(raw) || raw[i+1] != '[' || !sgrAt(raw[i:])) {
			t.Fatalf("non-SGR escape in view at %d: %q", i, raw[i:min(len(raw), i+12)])
		}
	}
	if !strings.Contains(plain, "250 ok␛]52;c;ZXZpbA==␇␛[2J␍gotcha") {
		t.Errorf("inert glyphs not shown:\n%s", plain)
	}
}

// sgrAt reports whether s starts with a complete SGR sequence (ESC [ ... m).
func sgrAt(s string) bool {
	for i := 2; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 'm':
			return true
		case (c >= '0' && c <= '9') || c == ';' || c == ':':
		default:
			return false
		}
	}
	return false
}

func TestBackgroundColourRebuildsStyles(t *testing.T) {
	m := newTestModel(newFakeBackend(), testParams())
	if !m.st.IsDark {
		t.Fatal("default styles should be dark")
	}
	m.Update(tea.BackgroundColorMsg{Color: color.White})
	if m.st.IsDark || m.transcript.st.IsDark {
		t.Error("a light background did not rebuild the styles")
	}
}
