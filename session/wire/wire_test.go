package wire

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailflow/mailflow/internal/peertest"
	"github.com/mailflow/mailflow/internal/pki"
	"github.com/mailflow/mailflow/session/transcript"
)

// serve accepts one connection on loopback and runs script on it.
func serve(t *testing.T, script func(c net.Conn)) string {
	t.Helper()
	addr, _ := peertest.Start(t, func(p *peertest.Peer) { script(p.Conn()) })
	return addr
}

// dialTest dials addr for a test; the connection is closed when the test
// ends (Close is idempotent, so tests may close it earlier).
func dialTest(t *testing.T, addr string, opts Options) *Conn {
	t.Helper()
	c, err := Dial(context.Background(), addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestReadLineAndRecord(t *testing.T) {
	addr := serve(t, func(c net.Conn) {
		c.Write([]byte("220 hello\r\n"))
		r := bufio.NewReader(c)
		r.ReadString('\n')
		c.Write([]byte("250 ok\n")) // bare LF is tolerated
	})
	ts := transcript.NewStore()
	c := dialTest(t, addr, Options{Proto: "smtp", Transcript: ts})
	ctx := context.Background()
	line, err := c.ReadLine(ctx, "greeting")
	if err != nil || string(line) != "220 hello" {
		t.Fatalf("ReadLine = %q, %v", line, err)
	}
	c.RecordServer(line, &transcript.Reply{Code: "220", OK: true}, "")
	c.BeginStep("ehlo")
	if err := c.WriteLine(ctx, Line{Text: "EHLO x"}); err != nil {
		t.Fatal(err)
	}
	line, err = c.ReadLine(ctx, "reply")
	if err != nil || string(line) != "250 ok" {
		t.Fatalf("ReadLine = %q, %v", line, err)
	}
	var dirs []string
	for _, e := range ts.Entries() {
		dirs = append(dirs, e.Dir.String())
	}
	if got := strings.Join(dirs, ","); got != "note,note,server,client" {
		t.Fatalf("transcript directions = %s", got)
	}
}

func TestWriteRefusesInjection(t *testing.T) {
	got := make(chan string, 1)
	addr := serve(t, func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		b := make([]byte, 100)
		n, _ := c.Read(b)
		got <- string(b[:n])
	})
	c := dialTest(t, addr, Options{Proto: "smtp"})
	for _, bad := range []string{"MAIL FROM:<a@b>\r\nRCPT TO:<x@y>", "A\nB", "A\x00B"} {
		err := c.WriteLines(context.Background(), Line{Text: "NOOP"}, Line{Text: bad})
		if Classify(err) != KindInput {
			t.Fatalf("WriteLines(%q) = %v, want an input error", bad, err)
		}
	}
	c.Close()
	if s := <-got; s != "" {
		t.Fatalf("server received %q although the batch was refused", s)
	}
}

func TestLineLimit(t *testing.T) {
	addr := serve(t, func(c net.Conn) {
		c.Write([]byte("220 " + strings.Repeat("A", 100000) + "\r\n"))
		time.Sleep(100 * time.Millisecond)
	})
	ts := transcript.NewStore()
	c := dialTest(t, addr, Options{Proto: "smtp", Transcript: ts, Limits: Limits{MaxLine: 1000}})
	_, err := c.ReadLine(context.Background(), "greeting")
	var le *LimitError
	if !errors.As(err, &le) || le.Max != 1000 || le.Step != "connect" {
		t.Fatalf("ReadLine = %v, want line-length LimitError", err)
	}
	es := ts.Entries()
	var partial bool
	for _, e := range es {
		if e.Partial && len(e.Raw) <= 512 && strings.HasPrefix(string(e.Raw), "220 AAA") {
			partial = true
		}
	}
	if !partial {
		t.Fatalf("partial line not kept in transcript: %+v", es)
	}
}

func TestStepTimeoutOnSlowServer(t *testing.T) {
	addr := serve(t, func(c net.Conn) {
		// One byte every 50ms: never completes a line within the step.
		for i := 0; i < 40; i++ {
			if _, err := c.Write([]byte("2")); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	ts := transcript.NewStore()
	c := dialTest(t, addr, Options{Proto: "smtp", Transcript: ts, Limits: Limits{StepTimeout: 300 * time.Millisecond}})
	c.BeginStep("connect")
	start := time.Now()
	_, err := c.ReadLine(context.Background(), "greeting")
	var te *TimeoutError
	if !errors.As(err, &te) || te.Which != "step" || te.Wait != "greeting" {
		t.Fatalf("ReadLine = %v, want step TimeoutError", err)
	}
	if el := time.Since(start); el > 1500*time.Millisecond {
		t.Fatalf("step ended after %v, long past its 300ms timeout", el)
	}
	if Classify(err) != KindTimeout {
		t.Fatalf("Classify = %v", Classify(err))
	}
}

func TestCancelClosesSocket(t *testing.T) {
	closed := make(chan struct{})
	addr := serve(t, func(c net.Conn) {
		b := make([]byte, 1)
		c.Read(b) // returns when the client closes
		close(closed)
	})
	c := dialTest(t, addr, Options{Proto: "smtp"})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() { _, err := c.ReadLine(ctx, "greeting"); errc <- err }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if Classify(err) != KindCanceled {
			t.Fatalf("ReadLine after cancel = %v (%s)", err, Classify(err))
		}
	case <-time.After(2 * time.Second):
		t.Fatal("ReadLine did not return after cancel")
	}
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatal("socket not closed after cancel")
	}
}

func TestConnectRefusedIsClassified(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	ts := transcript.NewStore()
	_, err := Dial(context.Background(), addr, Options{Proto: "smtp", Transcript: ts})
	if Classify(err) != KindRefused {
		t.Fatalf("Dial closed port = %v (%s), want refused", err, Classify(err))
	}
	last := ts.Entries()[ts.Len()-1]
	if last.Level != transcript.Error || !strings.Contains(string(last.Raw), "refused") {
		t.Fatalf("last note = %q", last.Raw)
	}
}

// testCA makes a CA and a leaf for names, valid in [nb, na].
func testCA(t *testing.T, names []string, nb, na time.Time) (*x509.CertPool, tls.Certificate) {
	t.Helper()
	ca := peertest.NewCA(t, "test CA")
	return ca.Pool(), peertest.Issue(t, ca, pki.Spec{DNSNames: names, NotBefore: nb, NotAfter: na}).TLS()
}

func TestImplicitTLSVerification(t *testing.T) {
	now := time.Now()
	pool, good := testCA(t, []string{"mx.test"}, now.Add(-time.Hour), now.Add(time.Hour))
	otherPool, _ := testCA(t, []string{"mx.test"}, now.Add(-time.Hour), now.Add(time.Hour))
	tests := []struct {
		name     string
		cert     tls.Certificate
		pool     *x509.CertPool
		sni      string
		insecure bool
		reason   string
	}{
		{"verified", good, pool, "mx.test", false, ""},
		{"unknown authority", good, otherPool, "mx.test", false, "unknown-authority"},
		{"name mismatch", good, pool, "other.test", false, "name-mismatch"},
		{"insecure proceeds", good, otherPool, "mx.test", true, "unknown-authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{tt.cert}})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				c.Write([]byte("* OK hi\r\n"))
				time.Sleep(100 * time.Millisecond)
			}()
			ts := transcript.NewStore()
			c, err := Dial(context.Background(), ln.Addr().String(), Options{Proto: "imap", Transcript: ts, TLS: TLSImplicit,
				TLSOptions: TLSOptions{ServerName: tt.sni, RootCAs: tt.pool, Insecure: tt.insecure}})
			switch {
			case tt.reason == "":
				if err != nil || !c.TLS().Verified {
					t.Fatalf("Dial = %v", err)
				}
				c.Close()
			case tt.insecure:
				if err != nil || c.TLS().Verified || !c.TLS().Insecure || c.TLS().VerifyReason != tt.reason {
					t.Fatalf("insecure Dial = %v, info %+v", err, c.TLS())
				}
				last := ts.Entries()[ts.Len()-1]
				if last.Level != transcript.Warning || !strings.Contains(string(last.Raw), "NOT VERIFIED") {
					t.Fatalf("insecure session not flagged: %q", last.Raw)
				}
				c.Close()
			default:
				var ve *VerifyError
				if errors.As(err, &ve) && (ve.Info == nil || len(ve.Info.Chain) == 0 || ve.Info.Version == "") {
					t.Fatalf("VerifyError carries no TLS facts: %+v", ve.Info)
				}
				if !errors.As(err, &ve) || ve.Reason != tt.reason {
					t.Fatalf("Dial = %v, want VerifyError %s", err, tt.reason)
				}
				if Classify(err) != KindTLSVerify {
					t.Fatalf("Classify = %s", Classify(err))
				}
			}
		})
	}
}

func TestVerifyReasonExpired(t *testing.T) {
	now := time.Now()
	ca := peertest.NewCA(t, "ca")
	leaf := peertest.Issue(t, ca, pki.Spec{DNSNames: []string{"mx.test"}, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)}).Leaf
	if ve := verifyChain([]*x509.Certificate{leaf}, ca.Pool(), "mx.test"); ve == nil || ve.Reason != "expired" {
		t.Fatalf("verifyChain(expired) = %v", ve)
	}
}

func TestStartTLSRefusesInjectedBytes(t *testing.T) {
	addr := serve(t, func(c net.Conn) {
		r := bufio.NewReader(c)
		r.ReadString('\n')
		// The reply and an injected command arrive together, before TLS.
		c.Write([]byte("220 go ahead\r\n250 injected\r\n"))
		time.Sleep(200 * time.Millisecond)
	})
	ts := transcript.NewStore()
	c := dialTest(t, addr, Options{Proto: "smtp", Transcript: ts})
	ctx := context.Background()
	c.BeginStep("starttls")
	c.WriteLine(ctx, Line{Text: "STARTTLS"})
	if _, err := c.ReadLine(ctx, "reply"); err != nil {
		t.Fatal(err)
	}
	_, err := c.StartTLS(ctx)
	var pe *ProtocolError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "before the handshake") {
		t.Fatalf("StartTLS = %v, want injection refusal", err)
	}
}

func TestRedactedRecord(t *testing.T) {
	addr := serve(t, func(c net.Conn) { bufio.NewReader(c).ReadString('\n') })
	ts := transcript.NewStore()
	c := dialTest(t, addr, Options{Proto: "pop3", Transcript: ts})
	if err := c.WriteLine(context.Background(), Line{Text: "PASS hunter2", Record: "PASS <redacted>"}); err != nil {
		t.Fatal(err)
	}
	for _, e := range ts.Entries() {
		if strings.Contains(string(e.Raw), "hunter2") {
			t.Fatalf("secret recorded: %q", e.Raw)
		}
	}
	last := ts.Entries()[ts.Len()-1]
	if !last.Redacted || string(last.Raw) != "PASS <redacted>" {
		t.Fatalf("last entry = %+v", last)
	}
}

func TestReadFullRefusesHugeLiteralBeforeReading(t *testing.T) {
	addr := serve(t, func(c net.Conn) { time.Sleep(100 * time.Millisecond) })
	c := dialTest(t, addr, Options{Proto: "imap"})
	_, err := c.ReadFull(context.Background(), 1<<40, "literal")
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != "message data" {
		t.Fatalf("ReadFull(1 TiB) = %v", err)
	}
}

func TestPipelinedLinesKeepTheirSteps(t *testing.T) {
	addr := serve(t, func(c net.Conn) { bufio.NewReader(c).ReadString('\n') })
	ts := transcript.NewStore()
	c := dialTest(t, addr, Options{Proto: "smtp", Transcript: ts})
	c.BeginStep("pipeline")
	err := c.WriteLines(context.Background(), Line{Text: "MAIL FROM:<a@b.test>", Step: "mail"},
		Line{Text: "RCPT TO:<c@d.test>", Step: "rcpt"}, Line{Text: "NOOP"})
	if err != nil {
		t.Fatal(err)
	}
	es := ts.Since(ts.Len() - 3)
	if es[0].Step != "mail" || es[1].Step != "rcpt" || es[2].Step != "pipeline" {
		t.Fatalf("steps = %q %q %q", es[0].Step, es[1].Step, es[2].Step)
	}
}

func TestRecordCapPerStep(t *testing.T) {
	addr := serve(t, func(c net.Conn) { time.Sleep(50 * time.Millisecond) })
	ts := transcript.NewStore()
	c := dialTest(t, addr, Options{Proto: "pop3", Transcript: ts, Limits: Limits{MaxRecordLines: 10}})
	c.BeginStep("retr")
	before := ts.Len()
	for i := 0; i < 1000; i++ {
		c.RecordServer([]byte("x"), nil, "")
	}
	c.RecordServer([]byte("."), &transcript.Reply{Code: "+OK", OK: true}, "")
	es := ts.Since(before)
	if len(es) != 12 {
		t.Fatalf("recorded %d entries, want 10 lines + 1 note + the final line", len(es))
	}
	note, last := es[10], es[11]
	if note.Dir != transcript.Note || !strings.Contains(string(note.Raw), "990 more server lines (2970 bytes)") {
		t.Fatalf("summary note = %q", note.Raw)
	}
	if last.Reply == nil || string(last.Raw) != "." {
		t.Fatalf("final line not recorded: %+v", last)
	}
	// The next step starts a fresh budget.
	c.BeginStep("quit")
	c.RecordServer([]byte("+OK bye"), nil, "")
	if got := ts.Since(ts.Len() - 1)[0]; string(got.Raw) != "+OK bye" {
		t.Fatalf("new step's line not recorded: %q", got.Raw)
	}
}

// TestCancelAfterStepKeepsConnection checks the contract of the context
// watch: cancelling a step's context after the step succeeded (the usual
// defer cancel()) must not close the connection, while cancelling it during
// a step must.
func TestCancelAfterStepKeepsConnection(t *testing.T) {
	addr := serve(t, func(c net.Conn) {
		c.Write([]byte("220 one\r\n"))
		r := bufio.NewReader(c)
		r.ReadString('\n')
		c.Write([]byte("250 two\r\n"))
		r.ReadString('\n')
	})
	c := dialTest(t, addr, Options{Proto: "smtp"})
	ctx1, cancel1 := context.WithCancel(context.Background())
	if _, err := c.ReadLine(ctx1, "greeting"); err != nil {
		t.Fatal(err)
	}
	cancel1()
	time.Sleep(20 * time.Millisecond) // let the watch run if it were going to close
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	if err := c.WriteLine(ctx2, Line{Text: "NOOP"}); err != nil {
		t.Fatalf("connection closed by a cancel after its step: %v", err)
	}
	if line, err := c.ReadLine(ctx2, "reply"); err != nil || string(line) != "250 two" {
		t.Fatalf("ReadLine = %q, %v", line, err)
	}
	// Reusing the cancelled context fails at once.
	if _, err := c.ReadLine(ctx1, "reply"); Classify(err) != KindCanceled {
		t.Fatalf("ReadLine with a cancelled context = %v", err)
	}
}

func BenchmarkReadLineSameContext(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		line := []byte("x\r\n")
		buf := bytes.Repeat(line, 4096)
		for {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	c, err := Dial(context.Background(), ln.Addr().String(), Options{Proto: "pop3"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := c.ReadLine(ctx, "data"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSilentGreetingHint(t *testing.T) {
	for _, tc := range []struct {
		name string
		send string
		hint bool
	}{
		{"silent", "", true},
		{"slow banner", "22", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := serve(t, func(c net.Conn) {
				c.Write([]byte(tc.send))
				time.Sleep(400 * time.Millisecond)
			})
			c, err := Dial(context.Background(), addr, Options{Proto: "smtp", Limits: Limits{StepTimeout: 150 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.BeginStep("connect")
			_, err = c.ReadLine(context.Background(), "greeting")
			var te *TimeoutError
			if !errors.As(err, &te) {
				t.Fatalf("ReadLine = %v", err)
			}
			if got := strings.Contains(err.Error(), "--tls implicit"); got != tc.hint {
				t.Fatalf("hint shown = %v, want %v: %v", got, tc.hint, err)
			}
		})
	}
}
