package peertest

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailflow/mailflow/internal/pki"
)

// Deadline bounds one scripted connection, so that a client that stops
// talking cannot hang the test run.
const Deadline = 10 * time.Second

// Peer is the server side of one scripted conversation.
type Peer struct {
	tb   testing.TB
	conn net.Conn
	r    *bufio.Reader

	mu  sync.Mutex
	got []string // every line the client sent, without its ending
}

// Start listens on 127.0.0.1:0, accepts one connection and runs script on
// it in a goroutine. It returns the address to dial and the peer, whose
// Lines may be read once the client is done. The listener is closed, the
// connection too, and the script waited for, when the test ends.
func Start(tb testing.TB, script func(p *Peer)) (string, *Peer) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("peertest: listen: %v", err)
	}
	p := &Peer{tb: tb}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.SetDeadline(time.Now().Add(Deadline))
		p.conn, p.r = c, bufio.NewReader(c)
		defer func() { p.conn.Close() }()
		script(p)
	}()
	tb.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String(), p
}

// Conn returns the connection (the TLS one after StartTLS), for writes a
// script needs to shape itself.
func (p *Peer) Conn() net.Conn { return p.conn }

// Send writes lines, each followed by CRLF, in one write.
func (p *Peer) Send(lines ...string) {
	p.Write(strings.Join(lines, "\r\n") + "\r\n")
}

// Write writes s as it is: a partial line, a line with a bare LF, a
// literal. The error tells a script that floods the client when to stop.
func (p *Peer) Write(s string) error {
	_, err := io.WriteString(p.conn, s)
	return err
}

// Read returns the next line from the client without its ending, or ""
// when the client went away. A line that does not end in CRLF is
// reported.
func (p *Peer) Read() string {
	l, _ := p.Next()
	return l
}

// Next is Read for a script that loops until the client goes away: ok is
// false then, which Read cannot tell from an empty line.
func (p *Peer) Next() (line string, ok bool) {
	l, err := p.r.ReadString('\n')
	if err != nil {
		return "", false
	}
	line, crlf := strings.CutSuffix(l, "\r\n")
	if !crlf {
		line = strings.TrimSuffix(l, "\n")
		p.tb.Errorf("peertest: client line %q does not end in CRLF", l)
	}
	p.mu.Lock()
	p.got = append(p.got, line)
	p.mu.Unlock()
	return line, true
}

// Expect reads a line and reports a mismatch with want, which matches as
// a prefix when it ends in "*". It returns the line read.
func (p *Peer) Expect(want string) string {
	l := p.Read()
	if pre, ok := strings.CutSuffix(want, "*"); ok && strings.HasPrefix(l, pre) || l == want {
		return l
	}
	p.tb.Errorf("peertest: client sent %q, want %q", l, want)
	return l
}

// Rest reads what the client sends until it closes the connection or the
// deadline passes, as it is (line endings kept), for a script that checks
// that nothing more came. Lines read this way are not in Lines.
func (p *Peer) Rest() string {
	b, _ := io.ReadAll(p.r)
	return string(b)
}

// Errorf reports a failure the script found, from the script's goroutine,
// like testing.TB's Errorf.
func (p *Peer) Errorf(format string, args ...any) {
	p.tb.Helper()
	p.tb.Errorf(format, args...)
}

// Lines returns a copy of what the client sent so far.
func (p *Peer) Lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.got...)
}

// Received reports whether the client sent exactly the line want.
func (p *Peer) Received(want string) bool {
	for _, l := range p.Lines() {
		if l == want {
			return true
		}
	}
	return false
}

// StartTLS runs the server side of a TLS handshake presenting cert and
// carries on over TLS. A failed handshake is reported.
func (p *Peer) StartTLS(cert tls.Certificate) {
	p.Upgrade(&tls.Config{Certificates: []tls.Certificate{cert}})
}

// Upgrade is StartTLS with a whole server configuration. It returns
// whether the handshake succeeded.
func (p *Peer) Upgrade(cfg *tls.Config) bool {
	tc := tls.Server(p.conn, cfg)
	if err := tc.Handshake(); err != nil {
		p.tb.Errorf("peertest: TLS handshake: %v", err)
		return false
	}
	p.conn, p.r = tc, bufio.NewReader(tc)
	return true
}

// Reset closes the connection with a TCP RST (SO_LINGER 0) instead of a
// FIN, as a crashing server or a middlebox does.
func (p *Peer) Reset() {
	if tc, ok := p.conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	p.conn.Close()
}

// NewCA returns a new throw-away authority named name; it stops the test
// when one cannot be made.
func NewCA(tb testing.TB, name string) *pki.CA {
	tb.Helper()
	ca, err := pki.NewCA(pki.Spec{CommonName: name})
	if err != nil {
		tb.Fatal(err)
	}
	return ca
}

// Issue returns a certificate for s signed by ca; it stops the test when
// one cannot be made.
func Issue(tb testing.TB, ca *pki.CA, s pki.Spec) *pki.Cert {
	tb.Helper()
	c, err := ca.Issue(s)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// ServerCert returns a server certificate for 127.0.0.1, ::1, localhost
// and names, signed by a new authority, and a pool that trusts that
// authority (for the client's RootCAs).
func ServerCert(tb testing.TB, names ...string) (tls.Certificate, *x509.CertPool) {
	tb.Helper()
	ca := NewCA(tb, "peertest CA")
	c := Issue(tb, ca, pki.Spec{CommonName: "127.0.0.1", DNSNames: append([]string{"localhost"}, names...), IPAddresses: pki.Loopback()})
	return c.TLS(), ca.Pool()
}

// SelfSigned returns a server certificate for names that signs itself
// (see pki.SelfSigned), the kind a client refuses unless told to trust
// it; it stops the test when one cannot be made.
func SelfSigned(tb testing.TB, names ...string) tls.Certificate {
	tb.Helper()
	c, err := pki.SelfSigned(pki.Spec{DNSNames: names})
	if err != nil {
		tb.Fatal(err)
	}
	return c.TLS()
}

// ListenSamePort listens on one port on every host given (loopback
// addresses such as 127.0.0.2, or ::1), for a test of a client that tries
// several addresses of one name on one port. It tries other ports when
// the first one is taken on a later host, and skips the test when the
// first host cannot be bound at all (no such address on this machine).
// The listeners are closed when the test ends.
func ListenSamePort(tb testing.TB, hosts ...string) ([]net.Listener, int) {
	tb.Helper()
	for range 20 {
		first, err := net.Listen("tcp", net.JoinHostPort(hosts[0], "0"))
		if err != nil {
			tb.Skipf("peertest: cannot listen on %s: %v", hosts[0], err)
		}
		port := first.Addr().(*net.TCPAddr).Port
		lns := []net.Listener{first}
		for _, h := range hosts[1:] {
			ln, err := net.Listen("tcp", net.JoinHostPort(h, strconv.Itoa(port)))
			if err != nil {
				break
			}
			lns = append(lns, ln)
		}
		if len(lns) == len(hosts) {
			tb.Cleanup(func() {
				for _, ln := range lns {
					ln.Close()
				}
			})
			return lns, port
		}
		for _, ln := range lns {
			ln.Close()
		}
	}
	tb.Fatalf("peertest: no common free port on %v", hosts)
	return nil, 0
}

// Respond listens on 127.0.0.1:0 and serves every connection the same
// way, as many as come, until the test ends: it sends greeting as it is
// (include the CRLF) and then, for each line the client sends (without
// its ending), writes what answer returns. It suits benchmarks and load
// tests, where a fresh connection per iteration must not cost a script.
// answer is called from one goroutine per connection.
func Respond(tb testing.TB, greeting string, answer func(line string) string) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("peertest: listen: %v", err)
	}
	Accept(tb, ln, func(c net.Conn) {
		if _, err := io.WriteString(c, greeting); err != nil {
			return
		}
		r := bufio.NewReader(c)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if _, err := io.WriteString(c, answer(strings.TrimRight(l, "\r\n"))); err != nil {
				return
			}
		}
	})
	return ln.Addr().String()
}

// Accept serves every connection that comes to ln with handle, each in a
// goroutine of its own, until the test ends or stop is called. Then it
// closes ln and every connection still open (so that a handler blocked on
// a read returns), and waits for the handlers. A connection is closed
// when its handler returns. stop may be called more than once; a test
// calls it itself when it must see every server goroutine gone (a
// goroutine leak check) before it ends. It is the accept loop of Respond,
// for tests whose server is more than a line-by-line answer: a scripted
// SMTP server serving several connections or several listeners, a TLS
// listener, a SOCKS proxy.
func Accept(tb testing.TB, ln net.Listener, handle func(c net.Conn)) (stop func()) {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		conns  = map[net.Conn]bool{}
		closed bool // stopped: no new connection is served
		once   sync.Once
	)
	serve := func(c net.Conn) {
		defer wg.Done()
		defer func() {
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
			c.Close()
		}()
		handle(c)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if closed {
				mu.Unlock()
				c.Close()
				return
			}
			conns[c] = true
			wg.Add(1)
			mu.Unlock()
			go serve(c)
		}
	}()
	stop = func() {
		once.Do(func() {
			ln.Close()
			mu.Lock()
			closed = true
			for c := range conns {
				c.Close()
			}
			mu.Unlock()
		})
		wg.Wait()
	}
	tb.Cleanup(stop)
	return stop
}
