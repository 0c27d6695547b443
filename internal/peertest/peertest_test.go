package peertest

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// recorder keeps the errors a script reports instead of failing the test,
// so that the tests below can check that mismatches are reported.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

// dial connects to addr with a deadline.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

func TestExpect(t *testing.T) {
	tests := []struct {
		name    string
		sent    string // what the client writes
		want    string // what the script expects
		errPart string // "" when no report is wanted
	}{
		{"exact", "CAPA\r\n", "CAPA", ""},
		{"prefix", "PASS secret\r\n", "PASS *", ""},
		{"empty line", "\r\n", "", ""},
		{"mismatch", "USER kate\r\n", "USER bob", `client sent "USER kate", want "USER bob"`},
		{"prefix mismatch", "USER kate\r\n", "PASS *", `want "PASS *"`},
		{"a star inside is literal", "A*B\r\n", "A*C", `client sent "A*B", want "A*C"`},
		{"bare LF", "CAPA\n", "CAPA", "does not end in CRLF"},
		{"client went away", "", "QUIT", `client sent "", want "QUIT"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			done := make(chan string, 1)
			addr, p := Start(rec, func(p *Peer) {
				done <- p.Expect(tt.want)
			})
			c := dial(t, addr)
			io.WriteString(c, tt.sent)
			c.(*net.TCPConn).CloseWrite()
			got := <-done
			errs := rec.errors()
			if tt.errPart == "" && len(errs) != 0 {
				t.Fatalf("reports %q, want none", errs)
			}
			if tt.errPart != "" && (len(errs) != 1 || !strings.Contains(errs[0], tt.errPart)) {
				t.Fatalf("reports %q, want one containing %q", errs, tt.errPart)
			}
			if want := strings.TrimRight(tt.sent, "\r\n"); got != want {
				t.Errorf("Expect returned %q, want %q", got, want)
			}
			if tt.sent != "" && !p.Received(got) {
				t.Errorf("Lines() = %q, want %q in it", p.Lines(), got)
			}
		})
	}
}

func TestConversation(t *testing.T) {
	addr, p := Start(t, func(p *Peer) {
		p.Send("+OK ready")
		p.Expect("CAPA")
		p.Send("+OK", "USER", ".")
		p.Write("+OK part")
		p.Write("ial\r\n")
		p.Expect("QUIT")
		p.Send("+OK bye")
	})
	c := dial(t, addr)
	r := bufio.NewReader(c)
	var got []string
	step := func(send string, n int) {
		if send != "" {
			io.WriteString(c, send+"\r\n")
		}
		for range n {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("read after %q: %v", send, err)
			}
			got = append(got, l)
		}
	}
	step("", 1)
	step("CAPA", 4)
	step("QUIT", 1)
	want := []string{"+OK ready\r\n", "+OK\r\n", "USER\r\n", ".\r\n", "+OK partial\r\n", "+OK bye\r\n"}
	if strings.Join(got, "") != strings.Join(want, "") {
		t.Errorf("client read %q, want %q", got, want)
	}
	if _, err := r.ReadString('\n'); err != io.EOF {
		t.Errorf("read after the script = %v, want EOF (the peer closes)", err)
	}
	if l := p.Lines(); len(l) != 2 || l[0] != "CAPA" || l[1] != "QUIT" {
		t.Errorf("Lines() = %q", l)
	}
	if p.Received("CAP") {
		t.Error("Received matches a prefix; it should match whole lines")
	}
}

func TestStartTLS(t *testing.T) {
	cert, pool := ServerCert(t, "mx.test")
	for _, name := range []string{"127.0.0.1", "localhost", "mx.test"} {
		t.Run(name, func(t *testing.T) {
			addr, p := Start(t, func(p *Peer) {
				p.Send("+OK ready")
				p.Expect("STLS")
				p.Send("+OK go ahead")
				p.StartTLS(cert)
				p.Expect("CAPA")
				p.Send("+OK secure")
			})
			c := dial(t, addr)
			r := bufio.NewReader(c)
			r.ReadString('\n')
			io.WriteString(c, "STLS\r\n")
			if l, _ := r.ReadString('\n'); l != "+OK go ahead\r\n" {
				t.Fatalf("STLS answer %q", l)
			}
			tc := tls.Client(c, &tls.Config{RootCAs: pool, ServerName: name})
			if err := tc.Handshake(); err != nil {
				t.Fatalf("handshake = %v", err)
			}
			io.WriteString(tc, "CAPA\r\n")
			if l, _ := bufio.NewReader(tc).ReadString('\n'); l != "+OK secure\r\n" {
				t.Fatalf("after TLS: %q", l)
			}
			if _, ok := p.Conn().(*tls.Conn); !ok {
				t.Errorf("Conn() is %T after StartTLS, want *tls.Conn", p.Conn())
			}
		})
	}
}

func TestStartTLSFailureReported(t *testing.T) {
	cert, _ := ServerCert(t)
	rec := &recorder{TB: t}
	done := make(chan bool, 1)
	addr, _ := Start(rec, func(p *Peer) {
		done <- p.Upgrade(&tls.Config{Certificates: []tls.Certificate{cert}})
	})
	c := dial(t, addr)
	// Not a TLS client: the handshake fails.
	io.WriteString(c, "EHLO x\r\n\r\n\r\n\r\n\r\n")
	c.(*net.TCPConn).CloseWrite()
	if <-done {
		t.Fatal("Upgrade succeeded against a plain-text client")
	}
	if errs := rec.errors(); len(errs) != 1 || !strings.Contains(errs[0], "TLS handshake") {
		t.Errorf("reports %q, want a TLS handshake failure", errs)
	}
}

func TestReset(t *testing.T) {
	addr, _ := Start(t, func(p *Peer) {
		p.Send("+OK ready")
		p.Expect("RETR 1")
		p.Reset()
	})
	c := dial(t, addr)
	r := bufio.NewReader(c)
	r.ReadString('\n')
	io.WriteString(c, "RETR 1\r\n")
	_, err := r.ReadString('\n')
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after Reset = %v, want ECONNRESET", err)
	}
}

func TestRespond(t *testing.T) {
	var mu sync.Mutex
	var got []string
	addr := Respond(t, "* OK ready\r\n", func(line string) string {
		mu.Lock()
		got = append(got, line)
		mu.Unlock()
		tag, _, _ := strings.Cut(line, " ")
		return "* 1 EXISTS\r\n" + tag + " OK done\r\n"
	})
	// Several connections, one after another and at once.
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			r := bufio.NewReader(c)
			if l, _ := r.ReadString('\n'); l != "* OK ready\r\n" {
				t.Errorf("greeting %q", l)
			}
			tag := fmt.Sprintf("a%d", i)
			io.WriteString(c, tag+" NOOP\r\n")
			for _, want := range []string{"* 1 EXISTS\r\n", tag + " OK done\r\n"} {
				if l, _ := r.ReadString('\n'); l != want {
					t.Errorf("connection %d read %q, want %q", i, l, want)
				}
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 4 {
		t.Errorf("answer saw %q, want 4 lines", got)
	}
	for _, l := range got {
		if !strings.HasSuffix(l, " NOOP") || strings.ContainsAny(l, "\r\n") {
			t.Errorf("answer got %q, want a NOOP line without its ending", l)
		}
	}
}

// TestRespondCleanupWithOpenConnection checks that the cleanup does not
// wait for a client that never hangs up.
func TestRespondCleanupWithOpenConnection(t *testing.T) {
	var addr string
	done := make(chan struct{})
	outer := t
	t.Run("inner", func(t *testing.T) {
		addr = Respond(t, "+OK\r\n", func(string) string { return "+OK\r\n" })
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		bufio.NewReader(c).ReadString('\n')
		go func() {
			defer close(done)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err := c.Read(make([]byte, 1))
			if err != io.EOF {
				outer.Errorf("read after cleanup = %v, want EOF", err)
			}
			c.Close()
		}()
	})
	<-done
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("listener still accepts after the test ended")
	}
}

// TestAccept checks that every connection gets a handler and that the
// cleanup closes the ones still open, waits for their handlers and stops
// the listener.
func TestAccept(t *testing.T) {
	var (
		mu       sync.Mutex
		returned int
		addr     string
	)
	t.Run("inner", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr().String()
		Accept(t, ln, func(c net.Conn) {
			defer func() { mu.Lock(); returned++; mu.Unlock() }()
			r := bufio.NewReader(c)
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			io.WriteString(c, "echo "+l)
			r.ReadString('\n') // blocks until the cleanup closes c
		})
		for i := range 3 {
			c := dial(t, addr)
			fmt.Fprintf(c, "hello %d\r\n", i)
			if l, _ := bufio.NewReader(c).ReadString('\n'); l != fmt.Sprintf("echo hello %d\r\n", i) {
				t.Errorf("connection %d read %q", i, l)
			}
		}
	})
	mu.Lock()
	defer mu.Unlock()
	if returned != 3 {
		t.Errorf("%d handlers returned by the end of the test, want 3", returned)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("listener still accepts after the test ended")
	}
}

func TestRest(t *testing.T) {
	rest := make(chan string, 1)
	addr, p := Start(t, func(p *Peer) {
		p.Expect("DATA")
		rest <- p.Rest()
	})
	c := dial(t, addr)
	// One write: the rest is already in the peer's buffer when DATA is
	// read, and must not be lost.
	io.WriteString(c, "DATA\r\nleft\r\nover")
	c.Close()
	if got := <-rest; got != "left\r\nover" {
		t.Errorf("Rest() = %q, want %q", got, "left\r\nover")
	}
	if got := p.Lines(); len(got) != 1 || got[0] != "DATA" {
		t.Errorf("Lines() = %q, want only DATA", got)
	}
}

func TestErrorf(t *testing.T) {
	rec := &recorder{TB: t}
	done := make(chan struct{})
	addr, _ := Start(rec, func(p *Peer) {
		defer close(done)
		p.Errorf("bad line %d", 7)
	})
	dial(t, addr)
	<-done
	if errs := rec.errors(); len(errs) != 1 || errs[0] != "bad line 7" {
		t.Errorf("reports %q, want [\"bad line 7\"]", errs)
	}
}

// TestAcceptStop checks that stop, called by the test itself, ends every
// handler before it returns and may be called again (by the cleanup).
func TestAcceptStop(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	var ended atomic.Bool
	stop := Accept(t, ln, func(c net.Conn) {
		defer ended.Store(true)
		close(started)
		c.Read(make([]byte, 1)) // blocks until stop closes c
	})
	dial(t, ln.Addr().String())
	<-started
	stop()
	if !ended.Load() {
		t.Fatal("stop returned before the handler did")
	}
	stop()
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("listener still accepts after stop")
	}
}

func TestNext(t *testing.T) {
	type read struct {
		line string
		ok   bool
	}
	got := make(chan []read, 1)
	addr, _ := Start(t, func(p *Peer) {
		var rs []read
		for {
			l, ok := p.Next()
			rs = append(rs, read{l, ok})
			if !ok {
				break
			}
		}
		got <- rs
	})
	c := dial(t, addr)
	io.WriteString(c, "A\r\n\r\nB\r\n")
	c.Close()
	want := []read{{"A", true}, {"", true}, {"B", true}, {"", false}}
	if rs := <-got; fmt.Sprint(rs) != fmt.Sprint(want) {
		t.Errorf("Next() gave %v, want %v", rs, want)
	}
}

func TestListenSamePort(t *testing.T) {
	hosts := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}
	var lns []net.Listener
	var port int
	t.Run("inner", func(t *testing.T) {
		lns, port = ListenSamePort(t, hosts...)
		if len(lns) != len(hosts) {
			t.Fatalf("%d listeners, want %d", len(lns), len(hosts))
		}
		for i, ln := range lns {
			a := ln.Addr().(*net.TCPAddr)
			if a.IP.String() != hosts[i] || a.Port != port {
				t.Errorf("listener %d on %s, want %s port %d", i, a, hosts[i], port)
			}
		}
	})
	for _, ln := range lns {
		if c, err := ln.Accept(); err == nil {
			c.Close()
			t.Errorf("listener on %s still open after the test", ln.Addr())
		}
	}
}

func TestSelfSigned(t *testing.T) {
	cert := SelfSigned(t, "peer.test")
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "peer.test" {
		t.Errorf("names %q, want [peer.test]", leaf.DNSNames)
	}
	// Not CheckSignatureFrom: it wants the signer to be an authority.
	if leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) != nil || string(leaf.RawIssuer) != string(leaf.RawSubject) {
		t.Error("the certificate does not sign itself")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "peer.test", Roots: x509.NewCertPool()}); err == nil {
		t.Error("a self-signed certificate verified against an empty pool")
	}
}
