package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailflow/mailflow/session/lab"
)

// TestServeTUIOptions checks what each SSH user gets: their own journal
// and export directory, the start screen without a shared lab, and the
// shared lab directly with one.
func TestServeTUIOptions(t *testing.T) {
	dir := t.TempDir()
	ctx := testCtx(t)
	o := serveTUIOptions(ctx, dir, &labSet{}, func() {})
	if o.ExportDir != dir || o.StartLab == nil || o.Params.Domain != "" || o.Scenario != "" {
		t.Errorf("without a lab: %+v", o)
	}
	if got, err := o.Backend.(*realBackend).stateDir(); err != nil || got != dir {
		t.Errorf("journal directory %q, %v; want %q", got, err, dir)
	}
	l, err := lab.Start(ctx, lab.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	o = serveTUIOptions(ctx, dir, &labSet{shared: l}, func() {})
	if o.ExportDir != dir || o.Params.Domain != lab.Domain || o.Scenario != lab.Healthy || o.SwitchScenario == nil {
		t.Errorf("with the shared lab: %+v", o)
	}
	if got, _ := o.Backend.(*realBackend).stateDir(); got != dir {
		t.Errorf("lab journal directory %q, want %q", got, dir)
	}
	// The shared lab is offered, never started again or closed per user.
	s := &labSet{shared: l}
	if got, err := s.start(ctx); got != l || err != nil {
		t.Errorf("labSet.start = %p, %v; want the shared lab", got, err)
	}
	s.closeAll()
	if l.Endpoints().SMTP == "" {
		t.Error("closeAll touched the shared lab")
	}
}

// TestServeRealTUIOverOpenSSH runs "mailflow serve" with the real TUI
// (no --builtin-program) and logs in with OpenSSH at 80x24: the start
// screen appears, L starts a lab for this user and shows its MX rows,
// enter connects (the journal lands in the user's own directory), and q
// ends the connection.
func TestServeRealTUIOverOpenSSH(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	serveNeedTools(t, "ssh", "ssh-keygen", "tmux")
	dir := t.TempDir()
	bin := serveBuildBinary(t, dir)
	key := serveKeygen(t, dir, "alice")
	ak := serveAuthorize(t, dir, key)
	// MAILFLOW_NETCHECK=off: the start screen's check would ask the
	// system's resolver; tests talk to loopback only.
	stdout, errOut := serveStartBinary(t, bin, dir, []string{"MAILFLOW_NETCHECK=off"},
		"serve", "--listen", "127.0.0.1:0", "--authorized-keys", ak, "--idle-timeout", "5m")
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := serveListenRE.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(serveWait):
		t.Fatalf("server did not report its address:\n%s", errOut.String())
	}
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	ssh := serveSSHCommand(port, key)

	x := &serveTmux{t: t, sock: fmt.Sprintf("mfservetui-%d-%d", os.Getpid(), time.Now().UnixNano())}
	t.Cleanup(func() { x.run("kill-server") })
	if out, err := x.run("new-session", "-d", "-s", "tui", "-x", "80", "-y", "24", ssh+`; echo "ssh exited $?"; sleep 600`); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	pane := func() string { return x.capture("tui") }
	has := func(want ...string) func() bool {
		return func() bool {
			s := pane()
			for _, w := range want {
				if !strings.Contains(s, w) {
					return false
				}
			}
			return true
		}
	}
	servePoll(t, "start screen", has("What should mailflow test?", "L      practise on the built-in lab"), pane)
	if out, err := x.run("send-keys", "-t", "tui", "L"); err != nil {
		t.Fatalf("send-keys: %v\n%s", err, out)
	}
	servePoll(t, "lab MX rows", has("lab[healthy]", "mx1.lab.test", "mx2.lab.test", "220 in"), pane)
	if out, err := x.run("send-keys", "-t", "tui", "Enter"); err != nil {
		t.Fatalf("send-keys: %v\n%s", err, out)
	}
	servePoll(t, "connected", has("(connected)", "220 mx1.lab.test"), pane)
	journals, _ := filepath.Glob(filepath.Join(dir, "data", "mailflow", "users", "SHA256-*", "journal", "*.jsonl"))
	if len(journals) != 1 {
		t.Errorf("journals in the user's directory: %v", journals)
	}
	if stray, _ := filepath.Glob(filepath.Join(dir, "state", "mailflow", "journal", "*")); len(stray) > 0 {
		t.Errorf("journals in the server's own state directory: %v", stray)
	}
	if out, err := x.run("send-keys", "-t", "tui", "q"); err != nil {
		t.Fatalf("send-keys: %v\n%s", err, out)
	}
	servePoll(t, "connection closed", has("ssh exited 0"), pane)
}

func TestONLCRWriter(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""}, {"abc", "abc"}, {"a\nb", "a\r\nb"}, {"\n\n", "\r\n\r\n"}, {"x\r\n", "x\r\r\n"},
	} {
		var b strings.Builder
		n, err := onlcrWriter{&b}.Write([]byte(tt.in))
		if err != nil || n != len(tt.in) || b.String() != tt.want {
			t.Errorf("Write(%q) = %d, %v, wrote %q; want %q", tt.in, n, err, b.String(), tt.want)
		}
	}
}
