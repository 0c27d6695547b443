package pop3d

import (
	"bufio"
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailflow/mailflow/internal/pki"
)

type memDrop struct {
	b    *memBackend
	msgs []Message
}

func (d *memDrop) Messages() []Message { return d.msgs }
func (d *memDrop) Commit(deleted []string) error {
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	d.b.committed = append(d.b.committed, deleted...)
	return nil
}
func (d *memDrop) Close() error {
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	d.b.locked = false
	d.b.closes++
	return nil
}

type memBackend struct {
	mu        sync.Mutex
	msgs      []Message
	locked    bool
	committed []string
	closes    int
}

func (b *memBackend) Login(_ net.Conn, user, pass string) (Maildrop, error) {
	if user != "kate" || pass != "kate pass" {
		return nil, ErrAuthFailed
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.locked {
		return nil, ErrInUse
	}
	b.locked = true
	return &memDrop{b: b, msgs: b.msgs}, nil
}

func testTLS(t *testing.T) *tls.Config {
	t.Helper()
	c, err := pki.SelfSigned(pki.Spec{DNSNames: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{c.TLS()}}
}

// committedAfter waits until n sessions have closed their maildrop and
// returns the UIDs committed for deletion so far.
func (b *memBackend) committedAfter(t *testing.T, n int) []string {
	t.Helper()
	waitFor(t, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.closes == n
	})
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.committed...)
}

func start(t *testing.T, insecure bool) (*memBackend, string) {
	t.Helper()
	b := &memBackend{msgs: []Message{
		{UID: "u1", Data: []byte("Subject: one\n\nline1\n.dotted\nline3\n")},
		{UID: "u2", Data: []byte("Subject: two\r\n\r\nbody\r\n")},
	}}
	s := &Server{Backend: b, TLSConfig: testTLS(t), AllowInsecureAuth: insecure, Implementation: "test"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; err != ErrServerClosed {
			t.Errorf("Serve returned %v", err)
		}
	})
	return b, ln.Addr().String()
}

type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	cl := &client{t: t, c: c, r: bufio.NewReader(c)}
	cl.expect("+OK")
	return cl
}

func (c *client) line() string {
	c.t.Helper()
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	if !strings.HasSuffix(l, "\r\n") {
		c.t.Fatalf("line %q does not end in CRLF", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

func (c *client) expect(prefix string) string {
	c.t.Helper()
	l := c.line()
	if !strings.HasPrefix(l, prefix) {
		c.t.Fatalf("got %q, want prefix %q", l, prefix)
	}
	return l
}

func (c *client) cmd(line, prefix string) string {
	c.t.Helper()
	if _, err := c.c.Write([]byte(line + "\r\n")); err != nil {
		c.t.Fatal(err)
	}
	return c.expect(prefix)
}

func (c *client) multi() []string {
	c.t.Helper()
	var out []string
	for {
		l := c.line()
		if l == "." {
			return out
		}
		out = append(out, l)
	}
}

func TestDialogue(t *testing.T) {
	b, addr := start(t, true)
	c := dial(t, addr)
	c.cmd("CAPA", "+OK")
	capa := strings.Join(c.multi(), ",")
	for _, want := range []string{"TOP", "UIDL", "USER", "STLS", "RESP-CODES", "AUTH-RESP-CODE", "IMPLEMENTATION test"} {
		if !strings.Contains(capa, want) {
			t.Errorf("CAPA %q lacks %s", capa, want)
		}
	}
	c.cmd("STAT", "-ERR")
	c.cmd("PASS x", "-ERR Send USER first")
	c.cmd("USER kate", "+OK")
	c.cmd("PASS wrong", "-ERR [AUTH]")
	c.cmd("USER kate", "+OK")
	c.cmd("PASS kate pass", "+OK")
	// Sizes are counted on the CRLF form: message one has 5 lines.
	one := len("Subject: one\r\n\r\nline1\r\n.dotted\r\nline3\r\n")
	two := len("Subject: two\r\n\r\nbody\r\n")
	if got, want := c.cmd("STAT", "+OK"), "+OK 2 "+itoa(one+two); got != want {
		t.Errorf("STAT = %q, want %q", got, want)
	}
	c.cmd("LIST", "+OK 2 messages")
	if got := c.multi(); len(got) != 2 || got[0] != "1 "+itoa(one) || got[1] != "2 "+itoa(two) {
		t.Errorf("LIST = %q", got)
	}
	c.cmd("LIST 2", "+OK 2 "+itoa(two))
	c.cmd("LIST 3", "-ERR")
	c.cmd("LIST x", "-ERR")
	c.cmd("UIDL", "+OK")
	if got := c.multi(); len(got) != 2 || got[0] != "1 u1" || got[1] != "2 u2" {
		t.Errorf("UIDL = %q", got)
	}
	c.cmd("UIDL 1", "+OK 1 u1")
	c.cmd("RETR 1", "+OK "+itoa(one)+" octets")
	if got, want := strings.Join(c.multi(), "|"), "Subject: one||line1|..dotted|line3"; got != want {
		t.Errorf("RETR 1 = %q, want %q (dot-stuffed)", got, want)
	}
	c.cmd("TOP 1 1", "+OK")
	if got, want := strings.Join(c.multi(), "|"), "Subject: one||line1"; got != want {
		t.Errorf("TOP 1 1 = %q, want %q", got, want)
	}
	c.cmd("TOP 1 0", "+OK")
	if got, want := strings.Join(c.multi(), "|"), "Subject: one|"; got != want {
		t.Errorf("TOP 1 0 = %q, want %q", got, want)
	}
	c.cmd("TOP 1 -1", "-ERR")
	c.cmd("DELE 1", "+OK")
	c.cmd("DELE 1", "-ERR")
	c.cmd("RETR 1", "-ERR")
	c.cmd("STAT", "+OK 1 "+itoa(two))
	c.cmd("RSET", "+OK")
	c.cmd("STAT", "+OK 2 ")
	c.cmd("DELE 2", "+OK")
	c.cmd("NOOP", "+OK")
	c.cmd("USER kate", "-ERR")
	c.cmd("BOGUS", "-ERR")
	c.cmd("QUIT", "+OK")
	if _, err := c.r.ReadByte(); err == nil {
		t.Error("connection still open after QUIT")
	}
	if got := b.committedAfter(t, 1); len(got) != 1 || got[0] != "u2" {
		t.Errorf("committed %q, want [u2]", got)
	}
}

func TestNoCommitWithoutQuit(t *testing.T) {
	b, addr := start(t, true)
	c := dial(t, addr)
	c.cmd("USER kate", "+OK")
	c.cmd("PASS kate pass", "+OK")
	// A second session finds the maildrop locked.
	c2 := dial(t, addr)
	c2.cmd("USER kate", "+OK")
	c2.cmd("PASS kate pass", "-ERR [IN-USE]")
	c.cmd("DELE 1", "+OK")
	c.c.Close()
	if got := b.committedAfter(t, 1); len(got) != 0 {
		t.Errorf("dropped session committed %q", got)
	}
}

func TestPlaintextRefusedThenSTLS(t *testing.T) {
	_, addr := start(t, false)
	c := dial(t, addr)
	c.cmd("CAPA", "+OK")
	if capa := strings.Join(c.multi(), ","); strings.Contains(capa, "USER") {
		t.Errorf("CAPA advertises USER before TLS: %q", capa)
	}
	c.cmd("USER kate", "-ERR [AUTH]")
	c.cmd("STLS", "+OK")
	tc := tls.Client(c.c, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.c, c.r = tc, bufio.NewReader(tc)
	c.cmd("STLS", "-ERR")
	c.cmd("CAPA", "+OK")
	if capa := strings.Join(c.multi(), ","); !strings.Contains(capa, "USER") || strings.Contains(capa, "STLS") {
		t.Errorf("CAPA after TLS: %q", capa)
	}
	c.cmd("USER kate", "+OK")
	c.cmd("PASS kate pass", "+OK")
	c.cmd("QUIT", "+OK")
}

func TestSTLSInjectionRefused(t *testing.T) {
	_, addr := start(t, false)
	c := dial(t, addr)
	c.c.Write([]byte("STLS\r\nUSER kate\r\n"))
	c.expect("-ERR")
	if _, err := c.r.ReadByte(); err == nil {
		t.Error("connection still open after pipelined STLS")
	}
}

func TestLongLineAndAuthFailures(t *testing.T) {
	_, addr := start(t, true)
	c := dial(t, addr)
	c.cmd("USER "+strings.Repeat("a", 5000), "-ERR Line too long")
	c.cmd("NOOP", "-ERR")
	for i := 0; i < maxAuthFailures; i++ {
		c.cmd("USER kate", "+OK")
		c.cmd("PASS nope", "-ERR [AUTH]")
	}
	if _, err := c.r.ReadByte(); err == nil {
		t.Error("connection still open after repeated failures")
	}
}

func TestCrlfAndStuffing(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a\nb", "a\r\nb\r\n"},
		{"a\r\nb\r\n", "a\r\nb\r\n"},
		{".\n..x\n", ".\r\n..x\r\n"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := string(crlf([]byte(tt.in))); got != tt.want {
			t.Errorf("crlf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	var sb strings.Builder
	writeStuffed(&sb, []byte(".\r\n..x\r\n"), -1)
	if got, want := sb.String(), "..\r\n...x\r\n.\r\n"; got != want {
		t.Errorf("writeStuffed = %q, want %q", got, want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
