package tui

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestPasswordPrompt runs AUTH LOGIN: the password is typed at a masked
// prompt, sent base64-encoded, registered as a secret and kept nowhere
// in the model.
func TestPasswordPrompt(t *testing.T) {
	// A password is sent exactly as typed, even the invisible format
	// characters every other input drops.
	const pw = "s3cret-Pass\u200bw0rd\u202e"
	be := newFakeBackend()
	be.replies["EHLO"] = []string{"250-mx1.example.net", "250 AUTH LOGIN PLAIN"}
	be.replies["AUTH"] = []string{"334 VXNlcm5hbWU6"}
	be.replies[strings.ToUpper(base64.StdEncoding.EncodeToString([]byte("alice")))] = []string{"334 UGFzc3dvcmQ6"}
	be.replies[strings.ToUpper(base64.StdEncoding.EncodeToString([]byte(pw)))] = []string{"235 2.7.0 Authentication successful"}
	p := testParams()
	p.Server, p.User, p.Auth = "127.0.0.1:587", "alice", true
	m := newTestModel(be, p)
	hs := newHarness(t, m, 100, 30)
	for _, id := range []string{"connect", "ehlo", "auth", "auth-user"} {
		hs.press("enter")
		hs.until(id+" done", stepEnded(id))
		if s := step(m, id); s.State != StepDone {
			t.Fatalf("%s: %+v", id, s)
		}
	}
	hs.press("enter")
	if !m.wizard.AskingSecret() || !m.wizard.Typing() {
		t.Fatal("enter on the password step did not open the password prompt")
	}
	hs.typeText(pw)
	if strings.Contains(screen(m), pw) {
		t.Fatal("the password is visible on screen")
	}
	hs.press("enter")
	hs.until("auth-pass done", stepEnded("auth-pass"))
	if s := step(m, "auth-pass"); s.State != StepDone {
		t.Fatalf("auth-pass: %+v", s)
	}
	sent := be.sessions[0].sent
	if got, want := sent[len(sent)-1], base64.StdEncoding.EncodeToString([]byte(pw)); got != want {
		t.Errorf("sent %q, want the base64 password %q", got, want)
	}
	for _, h := range m.wizard.history {
		if strings.Contains(h, pw) {
			t.Error("the password is in the prompt history")
		}
	}
	if m.wizard.input.Value() != "" {
		t.Error("the password is still in the input")
	}
	hs.until("transcript caught up", func(m *Model) bool { return m.transcript.Len() == m.store.Len() })
	for _, e := range m.transcript.Entries() {
		if strings.Contains(e.Text(), base64.StdEncoding.EncodeToString([]byte(pw))) {
			t.Errorf("the transcript shows the encoded password: %q", e.Text())
		}
	}
	if ex, _ := m.explain.Explanation(); ex.Command != "(credential)" {
		t.Errorf("the explainer names the command %q, want it masked", ex.Command)
	}
}

// TestPracticeBlocksMistakes: an error hint from wizard.CheckTyped stops
// the line; a correct one is sent and observed.
func TestPracticeBlocksMistakes(t *testing.T) {
	be := newFakeBackend()
	p := testParams()
	p.Server = "127.0.0.1:25"
	m := newTestModel(be, p)
	hs := newHarness(t, m, 100, 30)
	hs.press("m", "enter")
	hs.until("connected", stepEnded("connect"))
	hs.typeText("EHLO client.example.org")
	hs.press("enter")
	hs.until("ehlo", stepEnded("ehlo"))
	hs.typeText("MAIL FROM me@example.org")
	hs.press("enter")
	if n := len(be.sessions[0].sent); n != 1 {
		t.Fatalf("%d lines sent, want only the EHLO: the bad MAIL FROM went out", n)
	}
	if !strings.Contains(m.wizard.hint, "not sent") || !strings.Contains(m.wizard.hint, "colon") {
		t.Errorf("hint = %q, want the missing-colon error", m.wizard.hint)
	}
	hs.typeText("MAIL FROM:<me@example.org>")
	hs.press("enter")
	hs.until("mail", stepEnded("mail"))
	if s := step(m, "mail"); s.State != StepDone {
		t.Errorf("mail: %+v", s)
	}
}

// TestSkipAndGoQuit: > skips the current step, X jumps to QUIT.
func TestSkipAndGoQuit(t *testing.T) {
	be := newFakeBackend()
	p := testParams()
	p.Server = "127.0.0.1:25"
	m := newTestModel(be, p)
	hs := newHarness(t, m, 100, 30)
	for _, id := range []string{"connect", "ehlo", "mail", "rcpt"} {
		hs.press("enter")
		hs.until(id, stepEnded(id))
	}
	if s := step(m, "rcpt"); s.State != StepFailed || m.checklist.Items() == nil {
		t.Fatalf("rcpt %+v, checklist %v", s, m.checklist.Items())
	}
	hs.press("X")
	if c, _ := m.wizard.CurrentStep(); c.ID != "quit" {
		t.Fatalf("after X the current step is %q, want quit", c.ID)
	}
	hs.press("enter")
	hs.until("quit", stepEnded("quit"))
	if !strings.Contains(screen(m), "procedure finished") {
		t.Errorf("no summary after QUIT:\n%s", screen(m))
	}
	// Skip on a fresh run leaves out EHLO.
	m2 := newTestModel(newFakeBackend(), p)
	hs2 := newHarness(t, m2, 100, 30)
	hs2.press("enter")
	hs2.until("connect", stepEnded("connect"))
	hs2.press(">")
	if s := step(m2, "ehlo"); s.State != StepSkipped {
		t.Errorf("ehlo after > is %v, want skipped", s.State)
	}
}

// TestScenarioPicker switches the lab scenario from the picker; without
// a lab the key does nothing and is not in the help.
func TestScenarioPicker(t *testing.T) {
	var switched []string
	opts := Options{Backend: newFakeBackend(), Params: testParams(), Scenario: "healthy",
		Scenarios: []ScenarioInfo{{"healthy", "all good"}, {"user-unknown", "RCPT gets 550 5.1.1"}, {"greylisted", "451 first"}},
		SwitchScenario: func(name string) error {
			switched = append(switched, name)
			return nil
		},
	}
	m := New(opts)
	hs := newHarness(t, m, 100, 30)
	if !strings.Contains(screen(m), "lab[healthy]") {
		t.Fatalf("header lacks the scenario:\n%s", screen(m))
	}
	hs.press("S")
	if !strings.Contains(screen(m), "RCPT gets 550 5.1.1") {
		t.Fatalf("picker not shown:\n%s", screen(m))
	}
	hs.press("down", "enter")
	hs.until("switched", func(m *Model) bool { return m.picker == nil })
	if len(switched) != 1 || switched[0] != "user-unknown" {
		t.Fatalf("switched %v", switched)
	}
	if !strings.Contains(screen(m), "lab[user-unknown]") {
		t.Errorf("header does not show the new scenario:\n%s", screen(m))
	}
	hs.press("?")
	if !strings.Contains(screen(m), "lab scenario") {
		t.Error("the help lacks the scenario key in the lab")
	}

	plain := newTestModel(newFakeBackend(), testParams())
	hp := newHarness(t, plain, 100, 30)
	hp.press("S")
	if plain.picker != nil {
		t.Error("S opened a picker outside the lab")
	}
	hp.press("?")
	if strings.Contains(screen(plain), "lab scenario") {
		t.Error("the help shows the scenario key outside the lab")
	}
}
