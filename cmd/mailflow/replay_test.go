package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/mailflow/mailflow/session/lab"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/tui"
)

// labExport runs a conversation against the lab (scenario user-unknown,
// so RCPT fails) through the TUI backend and exports it as JSON lines.
func labExport(t *testing.T) string {
	t.Helper()
	_, b, _ := startTestLab(t, lab.UserUnknown)
	ctx := testCtx(t)
	sess, err := b.Connect(ctx, tui.Target{Host: "mx1.lab.test", Addr: "mx1.lab.test:25", Protocol: "smtp", TLS: "starttls"})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"EHLO client.lab.test", "MAIL FROM:<chris@lab.test>", "RCPT TO:<nobody@lab.test>", "QUIT"} {
		if _, err := sess.Send(ctx, l); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
	}
	sess.Close()
	path := filepath.Join(t.TempDir(), "lab.jsonl")
	if err := writeExport(path, "jsonl", transcript.Meta{Title: "lab", Target: "mx1.lab.test:25"}, sess.Transcript().Entries()); err != nil {
		t.Fatal(err)
	}
	return path
}

func replayScreen(m *tui.Model) string { return ansi.Strip(m.View().Content) }

// TestReplayLabExport replays an export of a lab session in pure
// Update/View calls: the failure is selected and explained, its
// checklist is evaluated from the entries, the wizard pane lists the
// recorded steps, the MX pane says there is no live DNS, and keys that
// would send are refused.
func TestReplayLabExport(t *testing.T) {
	r, err := loadReplay(labExport(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Load(ctx); err != nil {
		t.Fatal(err)
	}
	m := tui.New(replayOptions(ctx, r, cancel))
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	s := replayScreen(m)
	for _, want := range []string{
		"Steps (replay, read-only)", "RCPT TO:<nobody@lab.test>", // the wizard pane's rows
		"replay: no live DNS", // the MX pane
		"step: rcpt",          // the checklist of the selected failure
		"read-only",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
	// The first failure (550 to RCPT) is selected and explained.
	if !strings.Contains(s, "Transcript") || !strings.Contains(s, "550") || !strings.Contains(s, "permanent") {
		t.Errorf("the failure is not explained:\n%s", s)
	}
	// Moving to the greeting explains it instead.
	m.Update(tea.KeyPressMsg{Code: 'g', Text: "g"})
	for range 3 {
		m.Update(tea.KeyPressMsg{Code: 'j', Text: "j"})
	}
	if s := replayScreen(m); !strings.Contains(s, "220") || !strings.Contains(s, "success") {
		t.Errorf("selecting the greeting did not explain it:\n%s", s)
	}
	// Keys that would send are off, with a hint.
	for _, k := range []tea.KeyPressMsg{{Code: tea.KeyEnter}, {Code: 'r', Text: "r"}, {Code: 'm', Text: "m"}, {Code: '>', Text: ">"}} {
		_, cmd := m.Update(k)
		if cmd != nil {
			t.Errorf("%s returned a command in a replay", k)
		}
		if s := replayScreen(m); !strings.Contains(s, "replay is read-only") {
			t.Errorf("%s: no read-only hint:\n%s", k, s)
		}
	}
	if head := strings.SplitN(replayScreen(m), "\n", 2)[0]; strings.Contains(head, "(connected)") || strings.Contains(head, "connecting") {
		t.Errorf("a replay connected: %s", head)
	}
}

// TestReplayBadInput: a file that cannot be opened or fails before its
// first entry is a usage error (exit 2) before any terminal is needed; a
// later bad line stops the reading with its line number, which the view
// shows while the entries before it stay.
func TestReplayBadInput(t *testing.T) {
	dir := t.TempDir()
	good := `{"type":"header","version":1,"title":"t","target":"h:25"}` + "\n" +
		`{"type":"entry","seq":1,"dir":"server","proto":"smtp","step":"connect","line":"220 hi","reply":{"code":"220","ok":true}}` + "\n"
	files := map[string]string{
		"truncated.jsonl": good + `{"type":"entry","seq":2,"dir":"cli`,
		"notjson.jsonl":   good + "\nhello\n",
		"empty.jsonl":     `{"type":"header","version":1}` + "\n",
		"badfirst.jsonl":  "hello\n" + good,
		"badheader.jsonl": `{"type":"header","version":99}` + "\n" + good,
	}
	for name, body := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600)
	}
	for _, tt := range []struct {
		arg, want string
	}{
		{filepath.Join(dir, "badfirst.jsonl"), "line 1"},
		{filepath.Join(dir, "badheader.jsonl"), "line 1"},
		{filepath.Join(dir, "empty.jsonl"), "no transcript entries"},
		{filepath.Join(dir, "missing.jsonl"), "no such file"},
		{"-", "standard input"},
	} {
		_, err := loadReplay(tt.arg)
		var ee *exitError
		if err == nil || !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("loadReplay(%s) = %v, want a usage error with %q", tt.arg, err, tt.want)
		}
		// Through the command line: exit status 2, before any terminal
		// is needed.
		if code := run([]string{"replay", tt.arg}); code != exitUsage {
			t.Errorf("mailflow replay %s: exit %d, want 2", tt.arg, code)
		}
	}
	for _, tt := range []struct {
		name, want string
	}{
		{"truncated.jsonl", "line 3"},
		{"notjson.jsonl", "line 4"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			r, err := loadReplay(path)
			if err != nil {
				t.Fatalf("loadReplay(%s) = %v; a bad line after the first entry is shown in the view", path, err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			m := tui.New(replayOptions(ctx, r, cancel))
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
			if s := replayScreen(m); !strings.Contains(s, "loading 1 lines") || !strings.Contains(s, "220 hi") {
				t.Errorf("before the reading ends the view shows the first entry and says it is loading:\n%s", s)
			}
			for _, msg := range runCmds(m.Init()) {
				m.Update(msg)
			}
			s := replayScreen(m)
			if !strings.Contains(s, tt.want) || !strings.Contains(s, "replay stopped") || !strings.Contains(s, "220 hi") || strings.Contains(s, "loading") {
				t.Errorf("the view does not show the error at %s:\n%s", tt.want, s)
			}
		})
	}
}

// runCmds runs cmd and the commands of any batch it returns, all at once
// (some wait for others), and returns their messages.
func runCmds(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	b, ok := msg.(tea.BatchMsg)
	if !ok {
		return []tea.Msg{msg}
	}
	ch := make(chan []tea.Msg, len(b))
	for _, c := range b {
		go func() { ch <- runCmds(c) }()
	}
	var out []tea.Msg
	for range b {
		out = append(out, <-ch...)
	}
	return out
}
