package sshserve

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/mailflow/mailflow/internal/sshtest"
)

// wait bounds every wait in these tests; nothing should come near it.
const wait = 15 * time.Second

func authLine(k ssh.Signer, options string) string {
	line := string(ssh.MarshalAuthorizedKey(k.PublicKey()))
	if options != "" {
		line = options + " " + line
	}
	return line
}

type testServer struct {
	addr     string
	dir      string
	authKeys string
	alice    ssh.Signer
	srv      *Server
	log      *sshtest.Buffer
	cancel   context.CancelFunc
	done     chan error
	hostKey  ssh.PublicKey
}

// echoHandler greets the user, reports resizes and echoes lines until "q".
func echoHandler(ctx context.Context, s ServeSession) error {
	w, h := s.Window()
	fmt.Fprintf(s.Stdout(), "hello %s %dx%d term=%s dir=%s\r\n", s.User(), w, h, s.Term(), s.Dir())
	go func() {
		for win := range s.Resizes() {
			fmt.Fprintf(s.Stdout(), "resize %dx%d\r\n", win.Width, win.Height)
		}
	}()
	lines := make(chan string)
	go func() {
		r := bufio.NewReader(s.Stdin())
		for {
			l, err := r.ReadString('\r')
			if err != nil {
				close(lines)
				return
			}
			lines <- strings.TrimSpace(l)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case l, ok := <-lines:
			if !ok || l == "q" {
				return nil
			}
			if l == "fail" {
				return errors.New("asked to fail\x1b[31m")
			}
			if l == "panic" {
				panic("asked to panic")
			}
			fmt.Fprintf(s.Stdout(), "echo %s\r\n", l)
		}
	}
}

func startServer(t *testing.T, mutate func(*Config)) *testServer {
	t.Helper()
	ts := &testServer{dir: t.TempDir(), alice: sshtest.Key(t), log: &sshtest.Buffer{}}
	ts.authKeys = filepath.Join(ts.dir, "authorized_keys")
	if err := os.WriteFile(ts.authKeys, []byte("# test keys\n"+authLine(ts.alice, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		AuthorizedKeys: ts.authKeys,
		HostKey:        filepath.Join(ts.dir, "state", "host_key"),
		DataDir:        filepath.Join(ts.dir, "data"),
		Handler:        echoHandler,
		Log:            log.New(ts.log, "", 0),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.srv = srv
	ts.hostKey = srv.HostKey()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	ts.cancel = cancel
	ts.done = make(chan error, 1)
	go func() { ts.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ts.done:
		case <-time.After(wait):
			t.Error("Serve did not return after cancel")
		}
	})
	return ts
}

func (ts *testServer) dial(t *testing.T, user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	t.Helper()
	return ssh.Dial("tcp", ts.addr, &ssh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: ssh.FixedHostKey(ts.hostKey),
		Timeout:         wait,
	})
}

func (ts *testServer) login(t *testing.T, user string) *ssh.Client {
	t.Helper()
	c, err := ts.dial(t, user, ssh.PublicKeys(ts.alice))
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// terminal is a client session with a PTY whose output is collected.
type terminal struct {
	sess *ssh.Session
	in   io.WriteCloser
	out  *sshtest.Buffer
	err  *sshtest.Buffer
}

func openTerminal(t *testing.T, c *ssh.Client, pty bool) *terminal {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	term := &terminal{sess: sess, out: &sshtest.Buffer{}, err: &sshtest.Buffer{}}
	sess.Stdout = term.out
	sess.Stderr = term.err
	term.in, err = sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if pty {
		if err := sess.RequestPty("xterm-256color", 24, 80, ssh.TerminalModes{}); err != nil {
			t.Fatalf("pty: %v", err)
		}
	}
	if err := sess.Shell(); err != nil {
		t.Fatalf("shell: %v", err)
	}
	return term
}

// waitFor polls buf until it contains want.
func waitFor(t *testing.T, what string, buf *sshtest.Buffer, want string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !strings.Contains(buf.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q never appeared; got %q", what, want, buf.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitExit waits for the session to end and returns its exit status.
func waitExit(t *testing.T, sess *ssh.Session) int {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- sess.Wait() }()
	select {
	case err := <-errc:
		var ee *ssh.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee):
			return ee.ExitStatus()
		default:
			t.Fatalf("session ended without an exit status: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("session did not end")
	}
	return -1
}

// waitClosed waits until the server has closed the connection.
func waitClosed(t *testing.T, c *ssh.Client) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- c.Wait() }()
	select {
	case <-errc:
	case <-time.After(wait):
		t.Fatal("connection was not closed by the server")
	}
}

func TestAuthorizedKeyGetsTerminal(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.login(t, "alice\x1b[2J")
	term := openTerminal(t, c, true)
	wantDir := filepath.Join(ts.dir, "data", "users", userDirName(ssh.FingerprintSHA256(ts.alice.PublicKey())))
	waitFor(t, "greeting", term.out, fmt.Sprintf("hello alice__2J 80x24 term=xterm-256color dir=%s\r\n", wantDir))
	st, err := os.Stat(wantDir)
	if err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 {
		t.Errorf("user dir: %v, %v", st, err)
	}
	if err := term.sess.WindowChange(30, 100); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "resize", term.out, "resize 100x30\r\n")
	fmt.Fprint(term.in, "hi\r")
	waitFor(t, "echo", term.out, "echo hi\r\n")
	fmt.Fprint(term.in, "q\r")
	if code := waitExit(t, term.sess); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	waitClosed(t, c)
	waitFor(t, "log", ts.log, "login: user alice__2J, key SHA256:")
	waitFor(t, "log", ts.log, "logout: user alice__2J")
}

func TestHandlerErrorAndPanic(t *testing.T) {
	ts := startServer(t, nil)
	for _, tt := range []struct{ input, want string }{
		{"fail", "mailflow serve: asked to fail␛[31m\r\n"},
		{"panic", "mailflow serve: internal error: asked to panic\r\n"},
	} {
		c := ts.login(t, "bob")
		term := openTerminal(t, c, true)
		waitFor(t, "greeting", term.out, "hello bob")
		fmt.Fprintf(term.in, "%s\r", tt.input)
		if code := waitExit(t, term.sess); code != 1 {
			t.Errorf("%s: exit status %d, want 1", tt.input, code)
		}
		waitFor(t, tt.input, term.err, tt.want)
		waitClosed(t, c)
	}
	// The server survived the panic.
	term := openTerminal(t, ts.login(t, "bob"), true)
	waitFor(t, "greeting after panic", term.out, "hello bob")
}

func TestRefusedLogins(t *testing.T) {
	ts := startServer(t, nil)
	tests := []struct {
		name string
		auth []ssh.AuthMethod
		want string
	}{
		{"unknown key", []ssh.AuthMethod{ssh.PublicKeys(sshtest.Key(t))}, "unable to authenticate"},
		{"password", []ssh.AuthMethod{ssh.Password("secret")}, "no supported methods remain"},
		{"keyboard-interactive", []ssh.AuthMethod{ssh.KeyboardInteractive(
			func(string, string, []string, []bool) ([]string, error) { return []string{"secret"}, nil })}, "no supported methods remain"},
		{"none", nil, "no supported methods remain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ts.dial(t, "alice", tt.auth...)
			if err == nil {
				c.Close()
				t.Fatal("login succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want %q", err, tt.want)
			}
		})
	}
	waitFor(t, "log", ts.log, "is not in "+ts.authKeys)
}

func TestAuthorizedKeysReadOnEachLogin(t *testing.T) {
	ts := startServer(t, nil)
	bob := sshtest.Key(t)
	if _, err := ts.dial(t, "bob", ssh.PublicKeys(bob)); err == nil {
		t.Fatal("bob logged in before being added")
	}
	os.WriteFile(ts.authKeys, []byte(authLine(ts.alice, "")+authLine(bob, "restrict,pty")), 0o600)
	c, err := ts.dial(t, "bob", ssh.PublicKeys(bob))
	if err != nil {
		t.Fatalf("bob after being added: %v", err)
	}
	c.Close()
	// Removing alice's key locks her out at once.
	os.WriteFile(ts.authKeys, []byte(authLine(bob, "")), 0o600)
	if c, err := ts.dial(t, "alice", ssh.PublicKeys(ts.alice)); err == nil {
		c.Close()
		t.Fatal("alice logged in after being removed")
	}
}

func TestAuthorizedKeyOptions(t *testing.T) {
	dir := t.TempDir()
	keys := map[string]ssh.Signer{}
	lines := []struct{ name, options string }{
		{"plain", ""},
		{"restrict", "restrict,pty"},
		{"noforward", "no-port-forwarding,no-agent-forwarding,no-X11-forwarding"},
		{"from", `from="10.0.0.0/8"`},
		{"command", `command="/bin/sh"`},
		{"nopty", "no-pty"},
		{"expiry", `expiry-time="20991231"`},
	}
	var b strings.Builder
	for _, l := range lines {
		keys[l.name] = sshtest.Key(t)
		b.WriteString(authLine(keys[l.name], l.options))
	}
	b.WriteString("ssh-ed25519 garbage\n")
	path := filepath.Join(dir, "ak")
	os.WriteFile(path, []byte(b.String()), 0o600)
	got, skipped, err := readAuthorizedKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		_, ok := got[string(keys[l.name].PublicKey().Marshal())]
		want := l.name == "plain" || l.name == "restrict" || l.name == "noforward"
		if ok != want {
			t.Errorf("key with %q accepted = %v, want %v", l.options, ok, want)
		}
	}
	if len(skipped) != 5 || !strings.Contains(skipped[0], "ak:4:") || !strings.Contains(skipped[0], "option from") ||
		!strings.Contains(skipped[4], "ak:8: not a public key") {
		t.Errorf("skipped = %q", skipped)
	}
	if _, _, err := readAuthorizedKeys(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestNoPTYRefused(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.login(t, "alice")
	term := openTerminal(t, c, false)
	if code := waitExit(t, term.sess); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if got := term.err.String(); got != msgNoPTY+"\r\n" {
		t.Errorf("stderr = %q", got)
	}
	if strings.Contains(term.out.String(), "hello") {
		t.Error("the program ran without a terminal")
	}
	waitClosed(t, c)
}

func TestExecSubsystemForwardingRefused(t *testing.T) {
	ts := startServer(t, nil)

	c := ts.login(t, "alice")
	sess, _ := c.NewSession()
	var stderr sshtest.Buffer
	sess.Stderr = &stderr
	out, err := sess.Output("cat /etc/passwd")
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 1 || len(out) > 0 {
		t.Errorf("exec: %q, %v", out, err)
	}
	waitFor(t, "exec message", &stderr, msgExec+"\r\n")
	waitFor(t, "exec log", ts.log, "exec request refused")

	c = ts.login(t, "alice")
	sess, _ = c.NewSession()
	if err := sess.RequestSubsystem("sftp"); err == nil {
		t.Error("sftp subsystem accepted")
	}

	c = ts.login(t, "alice")
	if conn, err := c.Dial("tcp", ts.addr); err == nil {
		conn.Close()
		t.Error("direct-tcpip accepted")
	} else if !strings.Contains(err.Error(), "administratively prohibited") {
		t.Errorf("direct-tcpip: %v", err)
	}
	if ln, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
		ln.Close()
		t.Error("tcpip-forward accepted")
	}
	if ok, _, err := c.SendRequest("no-more-sessions@openssh.com", true, nil); ok || err != nil {
		t.Errorf("global request: %v, %v", ok, err)
	}
	// Env, agent forwarding and a second session are refused too.
	sess, _ = c.NewSession()
	if err := sess.Setenv("LD_PRELOAD", "/tmp/x.so"); err == nil {
		t.Error("env accepted")
	}
	if ok, err := sess.SendRequest("auth-agent-req@openssh.com", true, nil); ok || err != nil {
		t.Errorf("agent forwarding: %v, %v", ok, err)
	}
	if _, err := c.NewSession(); err == nil {
		t.Error("second session on one connection accepted")
	}
}

func TestMaxSessions(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxSessions = 1 })
	first := ts.login(t, "first")
	t1 := openTerminal(t, first, true)
	waitFor(t, "first", t1.out, "hello first")

	second := ts.login(t, "second")
	t2 := openTerminal(t, second, true)
	if code := waitExit(t, t2.sess); code != 1 {
		t.Errorf("second: exit status %d, want 1", code)
	}
	waitFor(t, "second refused", t2.err, "mailflow serve: all 1 sessions are in use; try again later\r\n")
	if strings.Contains(t2.out.String(), "hello") {
		t.Error("second session ran the program")
	}
	waitClosed(t, second)

	fmt.Fprint(t1.in, "q\r")
	waitExit(t, t1.sess)
	waitClosed(t, first)
	// The slot is free again. The server releases it just after closing
	// the connection, so a login right now may still be turned away.
	deadline := time.Now().Add(wait)
	for {
		t3 := openTerminal(t, ts.login(t, "third"), true)
		for !strings.Contains(t3.out.String(), "hello third") && !strings.Contains(t3.err.String(), "in use") {
			if time.Now().After(deadline) {
				t.Fatal("slot never freed")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if strings.Contains(t3.out.String(), "hello third") {
			fmt.Fprint(t3.in, "q\r")
			if code := waitExit(t, t3.sess); code != 0 {
				t.Errorf("third: exit status %d", code)
			}
			return
		}
		waitExit(t, t3.sess)
	}
}

func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.IdleTimeout = 300 * time.Millisecond })
	c := ts.login(t, "sleepy")
	term := openTerminal(t, c, true)
	waitFor(t, "greeting", term.out, "hello sleepy")
	// Typing keeps the session alive past the timeout...
	for range 6 {
		fmt.Fprint(term.in, "x\r")
		time.Sleep(100 * time.Millisecond)
	}
	if strings.Contains(term.err.String(), "no input") {
		t.Fatal("closed although the user was typing")
	}
	// ...and silence ends it.
	if code := waitExit(t, term.sess); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	waitFor(t, "idle message", term.err, "mailflow serve: no input for 300ms; closing the connection\r\n")
	waitClosed(t, c)
}

func TestShutdownTellsUsers(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.login(t, "alice")
	term := openTerminal(t, c, true)
	waitFor(t, "greeting", term.out, "hello alice")
	ts.cancel()
	if code := waitExit(t, term.sess); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	waitFor(t, "shutdown message", term.err, "the server is shutting down")
	select {
	case err := <-ts.done:
		if err != nil {
			t.Errorf("Serve = %v", err)
		}
		ts.done <- nil // for the cleanup
	case <-time.After(wait):
		t.Fatal("Serve did not return")
	}
	if _, err := net.DialTimeout("tcp", ts.addr, time.Second); err == nil {
		t.Error("still listening after shutdown")
	}
}

func TestHostKeyKept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new", "ssh_host_ed25519_key")
	k1, created, err := LoadOrCreateHostKey(path)
	if err != nil || !created {
		t.Fatalf("first: %v, created %v", err, created)
	}
	if k1.PublicKey().Type() != ssh.KeyAlgoED25519 {
		t.Errorf("key type %s", k1.PublicKey().Type())
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %04o, want 0600", st.Mode().Perm())
	}
	if st, _ := os.Stat(filepath.Dir(path)); st.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %04o, want 0700", st.Mode().Perm())
	}
	pub, _ := os.ReadFile(path + ".pub")
	if !bytes.Equal(pub, ssh.MarshalAuthorizedKey(k1.PublicKey())) {
		t.Errorf(".pub = %q", pub)
	}
	k2, created, err := LoadOrCreateHostKey(path)
	if err != nil || created {
		t.Fatalf("second: %v, created %v", err, created)
	}
	if !bytes.Equal(k1.PublicKey().Marshal(), k2.PublicKey().Marshal()) {
		t.Error("host key changed across restarts")
	}
	// A server restarted on the same files presents the same key.
	ak := filepath.Join(dir, "ak")
	os.WriteFile(ak, []byte(authLine(sshtest.Key(t), "")), 0o600)
	srv, err := New(Config{AuthorizedKeys: ak, HostKey: path, DataDir: dir, Handler: echoHandler})
	if err != nil || !bytes.Equal(srv.HostKey().Marshal(), k1.PublicKey().Marshal()) || srv.HostKeyCreated() {
		t.Errorf("New: %v, created %v", err, srv != nil && srv.HostKeyCreated())
	}

	tests := []struct {
		name  string
		setup func(p string)
		want  string
	}{
		{"group readable", func(p string) { os.WriteFile(p, []byte("x"), 0o600); os.Chmod(p, 0o640) }, "chmod 600"},
		{"garbage", func(p string) { os.WriteFile(p, []byte("not a key"), 0o600) }, "sshserve: host key"},
		{"directory", func(p string) { os.Mkdir(p, 0o700) }, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "key")
			tt.setup(p)
			if _, _, err := LoadOrCreateHostKey(p); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestNewChecksConfig(t *testing.T) {
	dir := t.TempDir()
	ak := filepath.Join(dir, "ak")
	os.WriteFile(ak, []byte(authLine(sshtest.Key(t), "")), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("# nobody\n"), 0o600)
	good := Config{AuthorizedKeys: ak, HostKey: filepath.Join(dir, "hk"), DataDir: dir, Handler: echoHandler}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"no handler", func(c *Config) { c.Handler = nil }, "no Handler"},
		{"no keys file", func(c *Config) { c.AuthorizedKeys = "" }, "no authorized keys"},
		{"missing keys file", func(c *Config) { c.AuthorizedKeys = filepath.Join(dir, "nope") }, "no such file"},
		{"no usable key", func(c *Config) { c.AuthorizedKeys = empty }, "no usable key"},
		{"no data dir", func(c *Config) { c.DataDir = "" }, "no data directory"},
		{"negative", func(c *Config) { c.MaxSessions = -1 }, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.mutate(&c)
			if _, err := New(c); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := New(good); err != nil {
		t.Errorf("good config: %v", err)
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		f        func(string) string
		in, want string
	}{
		{sanitizeUser, "alice", "alice"},
		{sanitizeUser, "", "anonymous"},
		{sanitizeUser, "../../etc", ".._.._etc"},
		{sanitizeUser, "a\x1b]0;x\x07", "a__0_x_"},
		{sanitizeUser, strings.Repeat("x", 100), strings.Repeat("x", 64)},
		{sanitizeTerm, "xterm-256color", "xterm-256color"},
		{sanitizeTerm, "", "xterm"},
		{sanitizeTerm, "x;rm -rf", "xterm-256color"},
		{sanitizeTerm, strings.Repeat("x", 65), "xterm-256color"},
		{userDirName, "SHA256:ab+c/d", "SHA256-ab-c_d"},
	}
	for _, tt := range tests {
		if got := tt.f(tt.in); got != tt.want {
			t.Errorf("%q -> %q, want %q", tt.in, got, tt.want)
		}
	}
	if w := clampWindow(0, 1<<31); w != (Window{80, maxDim}) {
		t.Errorf("clampWindow = %v", w)
	}
}
