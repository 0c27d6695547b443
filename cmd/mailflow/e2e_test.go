package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// End-to-end tests of the real binary: "mailflow lab" in a detached tmux
// session, driven with send-keys and read with capture-pane. They skip
// when tmux is missing, except under CI=true, where they fail.

// e2eTerm runs the mailflow binary inside its own tmux server.
type e2eTerm struct {
	t        *testing.T
	sock     string
	exitFile string
	state    string
}

func needTmux(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is required for the end-to-end tests under CI")
		}
		t.Skip("tmux not installed")
	}
}

// buildMailflow builds the binary into a temporary directory.
func buildMailflow(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mailflow")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startLab starts "mailflow lab" at w×h with its own state directory
// and NO_COLOR, and waits for the first frame.
func startLab(t *testing.T, w, h int) *e2eTerm {
	t.Helper()
	needTmux(t)
	bin := buildMailflow(t)
	dir := t.TempDir()
	e := &e2eTerm{
		t:        t,
		sock:     fmt.Sprintf("mfe2e-%d-%d", os.Getpid(), time.Now().UnixNano()),
		exitFile: filepath.Join(dir, "exit"),
		state:    filepath.Join(dir, "state"),
	}
	// The shell records the exit status, so the test sees the process
	// end whatever tmux does with the pane afterwards.
	script := fmt.Sprintf("env XDG_STATE_HOME=%q NO_COLOR=1 %q lab 2>%q; echo $? > %q",
		e.state, bin, filepath.Join(dir, "stderr"), e.exitFile)
	e.tmux("-f", "/dev/null", "new-session", "-d", "-s", "e2e", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), script)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", e.sock, "kill-server").Run() })
	e.waitFor("the first frame", 15*time.Second, func(s string) bool { return strings.Contains(s, "lab[healthy]") })
	return e
}

func (e *e2eTerm) tmux(args ...string) string {
	e.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", e.sock}, args...)...).CombinedOutput()
	if err != nil {
		e.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (e *e2eTerm) screen() string { return e.tmux("capture-pane", "-p", "-t", "e2e") }

func (e *e2eTerm) keys(keys ...string) {
	e.t.Helper()
	e.tmux(append([]string{"send-keys", "-t", "e2e"}, keys...)...)
}

// typeText types s literally.
func (e *e2eTerm) typeText(s string) {
	e.t.Helper()
	e.tmux("send-keys", "-t", "e2e", "-l", s)
}

// waitFor polls the screen until ok holds or the deadline passes.
func (e *e2eTerm) waitFor(what string, limit time.Duration, ok func(string) bool) string {
	e.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		s := e.screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s; screen:\n%s", what, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *e2eTerm) waitText(limit time.Duration, want ...string) string {
	e.t.Helper()
	return e.waitFor(strings.Join(want, " and "), limit, func(s string) bool {
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	})
}

var progressRe = regexp.MustCompile(`Wizard \[guided\] (\d+)/(\d+)`)

// progress reads "n/total" from the wizard's title.
func progress(s string) (n, total int) {
	m := progressRe.FindStringSubmatch(s)
	if m == nil {
		return -1, -1
	}
	n, _ = strconv.Atoi(m[1])
	total, _ = strconv.Atoi(m[2])
	return n, total
}

// step presses enter and waits for the wizard to move past the current
// step (or finish).
func (e *e2eTerm) step() string {
	e.t.Helper()
	before, _ := progress(e.screen())
	e.keys("Enter")
	return e.waitFor(fmt.Sprintf("the wizard to pass step %d", before), 10*time.Second, func(s string) bool {
		n, total := progress(s)
		return n > before || (n == total && strings.Contains(s, "procedure finished"))
	})
}

// waitExit waits for the process to end and returns its status.
func (e *e2eTerm) waitExit(limit time.Duration) int {
	e.t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(e.exitFile); err == nil && strings.TrimSpace(string(b)) != "" {
			code, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				e.t.Fatalf("exit file holds %q", b)
			}
			return code
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("mailflow did not exit; screen:\n%s", e.screen())
	return -1
}

// TestE2ELabGuidedProcedure drives the whole guided SMTP procedure
// against the healthy lab, exports the transcript as JSON lines and
// quits.
func TestE2ELabGuidedProcedure(t *testing.T) {
	e := startLab(t, 80, 24)
	s := e.step() // MX lookup
	for _, want := range []string{"mx1.lab.test", "mx2.lab.test", "2 host(s)"} {
		if !strings.Contains(s, want) {
			t.Errorf("after the MX step the screen lacks %q:\n%s", want, s)
		}
	}
	e.waitText(5*time.Second, "220 in") // the banner probes fill the MX rows
	s = e.step()                        // connect
	if !strings.Contains(s, "220") {
		t.Errorf("no 220 greeting on screen:\n%s", s)
	}
	s = e.step() // EHLO
	if !strings.Contains(s, "250-") {
		t.Errorf("no 250 reply to EHLO on screen:\n%s", s)
	}
	// STARTTLS (the handshake runs on its own), EHLO again, MAIL, RCPT,
	// DATA, the headers and body, the dot, QUIT.
	tlsUp := false
	for i := 0; i < 20 && !strings.Contains(s, "procedure finished"); i++ {
		s = e.step()
		if strings.Contains(s, "step failed") {
			t.Fatalf("a step failed against the healthy lab:\n%s", s)
		}
		tlsUp = tlsUp || strings.Contains(s, "TLS handshake  TLS up")
	}
	if !tlsUp {
		t.Error("the STARTTLS handshake was never shown as done")
	}
	s = e.waitText(5*time.Second, "221 2.0.0", "procedure finished")
	if !strings.Contains(s, "250 2.0.0") {
		t.Errorf("the message was not accepted with 250:\n%s", s)
	}

	// Export as JSON lines to a path of our own.
	out := filepath.Join(t.TempDir(), "session.jsonl")
	e.keys("e")
	e.waitText(5*time.Second, "Export transcript")
	e.keys("Tab", "Tab")
	e.waitText(5*time.Second, "[JSON lines]")
	e.keys("C-u")
	e.typeText(out)
	e.keys("Enter")
	e.waitText(5*time.Second, "exported to")
	checkExport(t, out)

	e.keys("q")
	if code := e.waitExit(10 * time.Second); code != 0 {
		b, _ := os.ReadFile(filepath.Join(filepath.Dir(e.exitFile), "stderr"))
		t.Errorf("mailflow exited with %d: %s", code, b)
	}
	journals, _ := filepath.Glob(filepath.Join(e.state, "mailflow", "journal", "*.jsonl"))
	if len(journals) == 0 {
		t.Fatalf("no journal under %s", e.state)
	}
	j, err := os.ReadFile(journals[0])
	if err != nil || !strings.Contains(string(j), `"QUIT"`) {
		t.Errorf("journal %s lacks the QUIT line (err %v)", journals[0], err)
	}
}

// checkExport reads a JSON lines export: a header, the client's QUIT and
// the server's 221, and no lab password.
func checkExport(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"kate-pass", "chris-pass"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("the export contains the password %q", secret)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(nil, 1<<20)
	var header bool
	var quit, bye bool
	for n := 0; sc.Scan(); n++ {
		var rec struct {
			Type  string `json:"type"`
			Dir   string `json:"dir"`
			Line  string `json:"line"`
			Reply *struct {
				Code string `json:"code"`
			} `json:"reply"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", n+1, err, sc.Text())
		}
		if n == 0 {
			header = rec.Type == "header"
		}
		quit = quit || rec.Dir == "client" && rec.Line == "QUIT"
		bye = bye || rec.Dir == "server" && rec.Reply != nil && rec.Reply.Code == "221"
	}
	if !header || !quit || !bye {
		t.Errorf("export: header %v, client QUIT %v, server 221 %v\n%s", header, quit, bye, b)
	}
}

// TestE2ELabScenarioUserUnknown switches to user-unknown with the picker
// and runs the procedure to the failing RCPT.
func TestE2ELabScenarioUserUnknown(t *testing.T) {
	e := startLab(t, 120, 40)
	e.keys("S")
	s := e.waitText(5*time.Second, "Lab scenario", "user-unknown")
	for i := 0; i < 30; i++ {
		if selected(s, "user-unknown") {
			break
		}
		e.keys("Down")
		s = e.waitFor("the selection to move", 5*time.Second, func(n string) bool { return n != s })
	}
	e.keys("Enter")
	e.waitText(5*time.Second, "lab[user-unknown]")
	for i := 0; i < 12 && !strings.Contains(s, "step failed"); i++ {
		s = e.waitFor("a step", 10*time.Second, func(string) bool { return true })
		n, _ := progress(s)
		e.keys("Enter")
		s = e.waitFor("the wizard to move", 10*time.Second, func(x string) bool {
			m, _ := progress(x)
			return m > n || strings.Contains(x, "step failed")
		})
	}
	s = e.waitText(5*time.Second, "550 5.1.1", "mailbox-unknown")
	if !strings.Contains(s, "✗ RCPT TO") {
		t.Errorf("RCPT is not the failed step:\n%s", s)
	}
	if !strings.Contains(s, "step: rcpt") {
		t.Errorf("the checklist is not the rcpt one:\n%s", s)
	}
	e.keys("q")
	if code := e.waitExit(10 * time.Second); code != 0 {
		t.Errorf("mailflow exited with %d", code)
	}
}

// selected reports whether the picker's selected line names scenario.
func selected(screen, scenario string) bool {
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, ">") && strings.Contains(l, scenario) {
			return true
		}
	}
	return false
}
