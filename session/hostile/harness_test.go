package hostile

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mailflow/mailflow/internal/peertest"
	"github.com/mailflow/mailflow/internal/pki"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// server is an in-process TCP server on 127.0.0.1:0 that runs one handler
// per connection (peertest.Accept). stop closes the listener and every
// connection and waits for the handlers, so that a test can count
// goroutines afterwards; the end of the test stops it too.
type server struct {
	ln   net.Listener
	stop func()
}

func startServer(t testing.TB, handler func(net.Conn)) *server {
	t.Helper()
	return startServerTLS(t, nil, handler)
}

// startServerTLS is startServer with implicit TLS when cfg is not nil.
func startServerTLS(t testing.TB, cfg *tls.Config, handler func(net.Conn)) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	return &server{ln: ln, stop: peertest.Accept(t, ln, handler)}
}

func (s *server) addr() string { return s.ln.Addr().String() }

// peer wraps a server-side connection with line helpers. Write errors are
// ignored on purpose: a hostile server does not care whether the client
// is still there, and the handler ends when a read fails.
type peer struct {
	c  net.Conn
	br *bufio.Reader
}

func newPeer(c net.Conn) *peer { return &peer{c: c, br: bufio.NewReader(c)} }

func (p *peer) send(s string) bool {
	_, err := p.c.Write([]byte(s))
	return err == nil
}

// line reads one line without its terminator; ok is false at EOF.
func (p *peer) line() (string, bool) {
	l, err := p.br.ReadString('\n')
	if err != nil {
		return "", false
	}
	return strings.TrimRight(l, "\r\n"), true
}

// drain reads until the client goes away, so that the handler ends when
// the client closes.
func (p *peer) drain() {
	buf := make([]byte, 512)
	for {
		if _, err := p.br.Read(buf); err != nil {
			return
		}
	}
}

// smtpUntil answers a well-behaved SMTP dialogue (greeting, then 250 to
// everything, 354 to DATA) until a line starting with verb arrives, and
// returns true then.
func (p *peer) smtpUntil(verb string) bool {
	p.send("220 hostile.test ESMTP\r\n")
	for {
		l, ok := p.line()
		if !ok {
			return false
		}
		if strings.HasPrefix(strings.ToUpper(l), verb) {
			return true
		}
		switch strings.ToUpper(strings.Fields(l + " x")[0]) {
		case "EHLO":
			p.send("250-hostile.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
		case "DATA":
			p.send("354 go on\r\n")
		default:
			p.send("250 ok\r\n")
		}
	}
}

// goroutineGuard records the goroutine count before a case and checks
// that it comes back down, within a bounded wait, once the client and the
// server are closed.
func goroutineGuard(t *testing.T) func() {
	t.Helper()
	before := runtime.NumGoroutine()
	return func() {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d before, %d after\n%s", before, n, buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// memDelta runs f and returns how many bytes were allocated meanwhile
// (TotalAlloc) and how much the in-use heap grew (HeapInuse). It counts
// every goroutine, so the servers used with it write from buffers made
// before it is called.
func memDelta(f func()) (total, inuse int64) {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return int64(b.TotalAlloc - a.TotalAlloc), int64(b.HeapInuse) - int64(a.HeapInuse)
}

// controlByte returns the index of the first character a terminal would
// act on, or -1: a C0 control other than TAB and LF (ESC, BEL, BS, CR,
// NUL...), DEL, a C1 control encoded in UTF-8 (U+0080..U+009F, such as
// CSI U+009B), or a stray byte 0x80..0x9f that an 8-bit terminal reads
// as C1 (the bare CSI 0x9b). Bytes inside valid UTF-8 sequences, such as
// the 0x9b in "␛" (E2 90 9B), are not controls.
func controlByte(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			if b[i] >= 0x80 && b[i] <= 0x9f {
				return i
			}
		case r == '\t' || r == '\n':
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
			return i
		}
		i += size
	}
	return -1
}

// exports renders the transcript in the three export formats.
func exports(t *testing.T, ts *transcript.Store) map[transcript.Format][]byte {
	t.Helper()
	out := map[transcript.Format][]byte{}
	for _, f := range []transcript.Format{transcript.FormatText, transcript.FormatMarkdown, transcript.FormatJSONL} {
		var buf bytes.Buffer
		if err := transcript.Write(&buf, f, transcript.Meta{Title: "hostile", Target: "127.0.0.1"}, ts.Entries()); err != nil {
			t.Fatalf("export %s: %v", f, err)
		}
		out[f] = buf.Bytes()
	}
	return out
}

// checkInert exports the transcript in every format and fails when an
// export holds a control byte or misses one of want (the server's text
// as it must appear, rendered inert).
func checkInert(t *testing.T, ts *transcript.Store, want ...string) {
	t.Helper()
	if ts.Len() == 0 {
		t.Fatal("the transcript is empty: nothing was kept")
	}
	for f, b := range exports(t, ts) {
		if i := controlByte(b); i >= 0 {
			lo, hi := max(0, i-40), min(len(b), i+40)
			t.Errorf("%s export holds control byte %#x at %d: %q", f, b[i], i, b[lo:hi])
		}
		if f == transcript.FormatJSONL {
			continue // JSON escapes differ; the text forms are checked
		}
		for _, w := range want {
			if !bytes.Contains(b, []byte(w)) {
				t.Errorf("%s export lacks %q:\n%s", f, w, clip(b))
			}
		}
	}
}

func clip(b []byte) string {
	if len(b) > 4000 {
		return string(b[:2000]) + "\n...\n" + string(b[len(b)-2000:])
	}
	return string(b)
}

// checkErrInert fails when an error message holds a control byte.
func checkErrInert(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if i := controlByte([]byte(err.Error())); i >= 0 {
		t.Errorf("error message holds control byte at %d: %q", i, err.Error())
	}
}

// wantKind checks wire.Classify.
func wantKind(t *testing.T, err error, kind wire.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want a %s error", kind)
	}
	if got := wire.Classify(err); got != kind {
		t.Fatalf("Classify(%v) = %q, want %q", err, got, kind)
	}
}

func asLimit(t *testing.T, err error, limit string) *wire.LimitError {
	t.Helper()
	var le *wire.LimitError
	if !errors.As(err, &le) {
		t.Fatalf("error %v (%T) is not a *wire.LimitError", err, err)
	}
	if le.Limit != limit {
		t.Fatalf("limit %q hit, want %q: %v", le.Limit, limit, err)
	}
	return le
}

func asTimeout(t *testing.T, err error, wait string) *wire.TimeoutError {
	t.Helper()
	var te *wire.TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("error %v (%T) is not a *wire.TimeoutError", err, err)
	}
	if te.Which != "step" || te.Wait != wait {
		t.Fatalf("timeout %q waiting for %q, want step timeout waiting for %q", te.Which, te.Wait, wait)
	}
	return te
}

// within fails when d is outside [lo, hi].
func within(t *testing.T, what string, d, lo, hi time.Duration) {
	t.Helper()
	if d < lo || d > hi {
		t.Errorf("%s took %s, want between %s and %s", what, d, lo, hi)
	}
	t.Logf("%s ended after %s", what, d.Round(time.Millisecond))
}

// testPKI is a throwaway CA and a server certificate for 127.0.0.1 and
// localhost.
type testPKI struct {
	pool   *x509.CertPool
	server tls.Certificate
}

func newPKI(t testing.TB, name string) *testPKI {
	t.Helper()
	ca := peertest.NewCA(t, name+" CA")
	leaf := peertest.Issue(t, ca, pki.Spec{DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}})
	return &testPKI{pool: ca.Pool(), server: leaf.TLS()}
}

func (p *testPKI) serverConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.server}, MinVersion: tls.VersionTLS12}
}

// fastLimits are short timeouts for tests; sizes keep their defaults.
func fastLimits(step time.Duration) wire.Limits {
	return wire.Limits{StepTimeout: step, ConnectTimeout: 2 * time.Second, SessionTimeout: time.Minute}
}
