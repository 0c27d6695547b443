package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/mailflow/mailflow/internal/sshserve"
	"github.com/mailflow/mailflow/internal/sshtest"
)

// serveWait bounds every wait in the serve tests.
const serveWait = 20 * time.Second

// servePoll calls f until it returns true or the wait is over.
func servePoll(t *testing.T, what string, f func() bool, got func() string) {
	t.Helper()
	deadline := time.Now().Add(serveWait)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: timed out; have:\n%s", what, got())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var serveListenRE = regexp.MustCompile(`listening on (\S+)`)

func TestServeUsage(t *testing.T) {
	dir := t.TempDir()
	ak := filepath.Join(dir, "ak")
	os.WriteFile(ak, ssh.MarshalAuthorizedKey(sshtest.Key(t).PublicKey()), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("# nobody yet\n"), 0o600)
	hk := filepath.Join(dir, "hk")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no authorized keys flag", []string{"serve"}, exitUsage, "authorized-keys"},
		{"missing authorized keys", []string{"serve", "--authorized-keys", filepath.Join(dir, "nope"), "--host-key", hk, "--data-dir", dir}, exitUsage, "no such file"},
		{"no usable key", []string{"serve", "--authorized-keys", empty, "--host-key", hk, "--data-dir", dir}, exitUsage, "no usable key"},
		{"zero sessions", []string{"serve", "--authorized-keys", ak, "--max-sessions", "0"}, exitUsage, "at least 1"},
		{"negative idle", []string{"serve", "--authorized-keys", ak, "--idle-timeout", "-1s"}, exitUsage, "negative"},
		{"bad listen address", []string{"serve", "--authorized-keys", ak, "--host-key", hk, "--data-dir", dir, "--listen", "256.0.0.1:x"}, exitUnreachable, "serve:"},
		{"argument", []string{"serve", "extra", "--authorized-keys", ak}, exitUsage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := runCfgCmd(t, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want %d; output %q, want %q", code, tt.code, out, tt.want)
			}
		})
	}
}

// TestServeBuiltinProgram runs the serve command in-process and talks to
// the built-in bubbletea program with the x/crypto SSH client.
func TestServeBuiltinProgram(t *testing.T) {
	key, addr, stdout, stderr := serveInProcess(t, serveOptions{maxSessions: 2, builtin: true})
	if !strings.Contains(stdout.String(), "created now") {
		t.Errorf("host key creation not reported:\n%s", stdout.String())
	}

	c := serveDial(t, addr, "alice", key)
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var out sshtest.Buffer
	sess.Stdout = &out
	in, _ := sess.StdinPipe()
	if err := sess.RequestPty("xterm-256color", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	servePoll(t, "program output", func() bool { return strings.Contains(out.String(), "mailflow serve: alice, window 80x24") }, out.String)
	if !strings.Contains(out.String(), "\x1b[?1049h") {
		t.Errorf("program did not enter the alternate screen: %q", out.String())
	}
	fmt.Fprint(in, "q")
	errc := make(chan error, 1)
	go func() { errc <- sess.Wait() }()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("session ended with %v, want exit status 0", err)
		}
	case <-time.After(serveWait):
		t.Fatal("q did not end the session")
	}
	if !strings.Contains(out.String(), "\x1b[?1049l") {
		t.Errorf("program did not leave the alternate screen")
	}
	servePoll(t, "logout logged", func() bool { return strings.Contains(stderr.String(), "logout: user alice") }, stderr.String)
}

// serveInProcess runs the serve command in-process with o, its listen
// address, authorized keys (one fresh key, returned), host key and data
// directory filled in, until the test ends, when it must stop without an
// error. It returns once the server listens, with its address.
func serveInProcess(t *testing.T, o serveOptions) (key ssh.Signer, addr string, stdout, stderr *sshtest.Buffer) {
	t.Helper()
	dir := t.TempDir()
	key = sshtest.Key(t)
	ak := filepath.Join(dir, "ak")
	os.WriteFile(ak, ssh.MarshalAuthorizedKey(key.PublicKey()), 0o600)
	o.listen, o.authorizedKeys = "127.0.0.1:0", ak
	o.hostKey, o.dataDir = filepath.Join(dir, "hk"), filepath.Join(dir, "data")
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr = &sshtest.Buffer{}, &sshtest.Buffer{}
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, stdout, stderr, &o) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(serveWait):
			t.Error("serve did not stop")
		}
	})
	servePoll(t, "listening", func() bool { return serveListenRE.MatchString(stdout.String()) }, stdout.String)
	return key, serveListenRE.FindStringSubmatch(stdout.String())[1], stdout, stderr
}

// serveDial logs user in with key over the x/crypto SSH client.
func serveDial(t *testing.T, addr, user string, key ssh.Signer) *ssh.Client {
	t.Helper()
	c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(key)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: serveWait,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serveBuildBinary builds the mailflow binary into dir.
func serveBuildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "mailflow")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// serveKeygen makes the OpenSSH key pair dir/name and dir/name.pub and
// returns the private key's path.
func serveKeygen(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", p).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	return p
}

// serveAuthorize writes the public half of the key pair at priv as
// dir/authorized_keys and returns that path.
func serveAuthorize(t *testing.T, dir, priv string) string {
	t.Helper()
	pub, err := os.ReadFile(priv + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	ak := filepath.Join(dir, "authorized_keys")
	os.WriteFile(ak, pub, 0o600)
	return ak
}

// serveStartBinary starts bin with args, its XDG directories under dir
// and env added, and stops it (interrupt, then kill) when the test ends,
// logging its stderr if the test failed. It returns the process's
// stdout and stderr.
func serveStartBinary(t *testing.T, bin, dir string, env []string, args ...string) (io.Reader, *sshtest.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(dir, "state"), "XDG_DATA_HOME="+filepath.Join(dir, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
	cmd.Env = append(cmd.Env, env...)
	errOut := &sshtest.Buffer{}
	cmd.Stderr = errOut
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		select {
		case <-waited:
		case <-time.After(serveWait):
			cmd.Process.Kill()
			<-waited
		}
		if t.Failed() {
			t.Logf("server log:\n%s", errOut.String())
		}
	})
	return stdout, errOut
}

// serveSSHCommand is the OpenSSH command line (with a terminal) that logs
// alice in to 127.0.0.1:port with the key file key and nothing else.
func serveSSHCommand(port, key string) string {
	return fmt.Sprintf("ssh -F /dev/null -tt -p %s -i %s -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no "+
		"-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR alice@127.0.0.1", port, key)
}

// serveNeedTools skips (or fails on CI) when a program is missing.
func serveNeedTools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required on CI: %v", n, err)
			}
			t.Skipf("%s not installed: %v", n, err)
		}
	}
}

// serveTmux drives one private tmux server.
type serveTmux struct {
	t    *testing.T
	sock string
}

func (x *serveTmux) run(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", x.sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
	return string(out), err
}

func (x *serveTmux) capture(target string) string {
	out, _ := x.run("capture-pane", "-p", "-t", target)
	return out
}

// TestServeOpenSSHInTmux is the end-to-end test: the real binary, the
// real OpenSSH client, in a real terminal (tmux).
func TestServeOpenSSHInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	serveNeedTools(t, "ssh", "ssh-keygen", "tmux")
	dir := t.TempDir()
	bin := serveBuildBinary(t, dir)
	alice, mallory := serveKeygen(t, dir, "alice"), serveKeygen(t, dir, "mallory")
	ak := serveAuthorize(t, dir, alice)

	// start runs the server and returns its address and host key line.
	start := func() (addr, hostKey string) {
		stdout, errOut := serveStartBinary(t, bin, dir, nil, "serve", "--listen", "127.0.0.1:0", "--authorized-keys", ak,
			"--max-sessions", "3", "--idle-timeout", "5m", "--builtin-program")
		lines := make(chan string, 10)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
			io.Copy(io.Discard, stdout)
		}()
		timeout := time.After(serveWait)
		for addr == "" || hostKey == "" {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("server exited early:\n%s", errOut.String())
				}
				if m := serveListenRE.FindStringSubmatch(l); m != nil {
					addr = m[1]
				}
				if strings.HasPrefix(l, "host key: ") {
					hostKey = strings.Fields(l)[2]
				}
			case <-timeout:
				t.Fatalf("server did not report its address:\n%s", errOut.String())
			}
		}
		return addr, hostKey
	}
	addr, hostKey1 := start()
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	sshArgs := func(key string) string { return serveSSHCommand(port, key) }

	x := &serveTmux{t: t, sock: fmt.Sprintf("mfserve-%d-%d", os.Getpid(), time.Now().UnixNano())}
	t.Cleanup(func() { x.run("kill-server") })
	// The shell wrapper prints ssh's exit status and keeps the pane open,
	// so the test can see how the connection ended.
	wrap := func(cmd string) string { return cmd + `; echo "ssh exited $?"; sleep 600` }
	if out, err := x.run("new-session", "-d", "-s", "ok", "-x", "80", "-y", "24", wrap(sshArgs(alice))); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	pane := func() string { return x.capture("ok") }
	servePoll(t, "program on screen", func() bool { return strings.Contains(pane(), "mailflow serve: alice, window 80x24") }, pane)

	if out, err := x.run("resize-window", "-t", "ok", "-x", "100", "-y", "30"); err != nil {
		t.Fatalf("resize: %v\n%s", err, out)
	}
	servePoll(t, "resized", func() bool { return strings.Contains(pane(), "mailflow serve: alice, window 100x30") }, pane)

	if out, err := x.run("send-keys", "-t", "ok", "q"); err != nil {
		t.Fatalf("send-keys: %v\n%s", err, out)
	}
	servePoll(t, "connection closed", func() bool { return strings.Contains(pane(), "ssh exited 0") }, pane)
	if strings.Contains(pane(), "mailflow serve: alice") {
		t.Errorf("program text left on the screen after quitting:\n%s", pane())
	}

	// An unknown key is refused.
	if out, err := x.run("new-session", "-d", "-s", "bad", "-x", "80", "-y", "24", wrap(sshArgs(mallory))); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	bad := func() string { return x.capture("bad") }
	servePoll(t, "refused", func() bool { return strings.Contains(bad(), "ssh exited 255") }, bad)
	if !strings.Contains(bad(), "Permission denied (publickey)") {
		t.Errorf("refusal not explained:\n%s", bad())
	}

	// A command is refused with a message, without a terminal.
	ctx, cancel := context.WithTimeout(context.Background(), serveWait)
	defer cancel()
	args := strings.Fields(strings.Replace(sshArgs(alice), "-tt ", "-T ", 1))[1:]
	out, err := exec.CommandContext(ctx, "ssh", append(args, "cat", "/etc/passwd")...).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 || !strings.Contains(string(out), "commands are not run here") ||
		strings.Contains(string(out), "root:") {
		t.Errorf("exec: %v\n%s", err, out)
	}

	// A restarted server presents the same host key.
	_, hostKey2 := start()
	if hostKey1 != hostKey2 || !strings.HasPrefix(hostKey1, "SHA256:") {
		t.Errorf("host key %q after restart, was %q", hostKey2, hostKey1)
	}
	users, _ := os.ReadDir(filepath.Join(dir, "data", "mailflow", "users"))
	if len(users) != 1 || !strings.HasPrefix(users[0].Name(), "SHA256-") {
		t.Errorf("users' directories: %v", users)
	}
}

// TestServeLab checks that --lab starts one lab and hands the same lab to
// every session.
func TestServeLab(t *testing.T) {
	old := serveTUI
	t.Cleanup(func() { serveTUI = old })
	seen := make(chan string, 2)
	serveTUI = func(ctx context.Context, s sshserve.ServeSession) error {
		l := serveLab(ctx)
		if l == nil {
			seen <- "no lab"
		} else {
			seen <- l.Endpoints().SMTP
		}
		fmt.Fprint(s.Stdout(), "ready\r\n")
		<-ctx.Done()
		return ctx.Err()
	}
	key, addr, stdout, _ := serveInProcess(t, serveOptions{maxSessions: 2, lab: true})
	servePoll(t, "lab line", func() bool { return strings.Contains(stdout.String(), "lab: scenario healthy") }, stdout.String)
	for _, user := range []string{"kate", "chris"} {
		c := serveDial(t, addr, user, key)
		defer c.Close()
		sess, _ := c.NewSession()
		if err := sess.RequestPty("xterm", 24, 80, nil); err != nil {
			t.Fatal(err)
		}
		if err := sess.Shell(); err != nil {
			t.Fatal(err)
		}
	}
	var smtp []string
	for range 2 {
		select {
		case s := <-seen:
			smtp = append(smtp, s)
		case <-time.After(serveWait):
			t.Fatal("sessions did not start")
		}
	}
	if smtp[0] == "no lab" || smtp[0] != smtp[1] || !strings.Contains(stdout.String(), "SMTP "+smtp[0]) {
		t.Errorf("sessions saw labs %q; output:\n%s", smtp, stdout.String())
	}
}
