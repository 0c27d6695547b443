package smtp

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"

	"github.com/mailflow/mailflow/internal/peertest"
	"github.com/mailflow/mailflow/internal/transcripttest"
)

func dial(t *testing.T, addr string, opts Options) (*Client, *transcript.Store) {
	t.Helper()
	ts := transcript.NewStore()
	opts.Transcript = ts
	if opts.Limits.StepTimeout == 0 {
		opts.Limits.StepTimeout = 5 * time.Second
	}
	c, err := Dial(context.Background(), addr, opts)
	if err != nil {
		t.Fatalf("Dial() = %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, ts
}

var ctx = context.Background()

func TestGreetingRefused(t *testing.T) {
	for _, code := range []string{"554", "521"} {
		t.Run(code, func(t *testing.T) {
			quit := make(chan bool, 1)
			addr, _ := peertest.Start(t, func(p *peertest.Peer) {
				p.Send(code + " 5.3.2 no service for you")
				quit <- strings.HasPrefix(p.Expect("QUIT"), "QUIT")
				p.Send("221 bye")
			})
			_, err := Dial(ctx, addr, Options{Limits: wire.Limits{StepTimeout: 3 * time.Second}})
			var se *Error
			if !errors.As(err, &se) || se.Command != "greeting" || se.Code() != atoi(code) || se.Reply.Enhanced != "5.3.2" {
				t.Fatalf("Dial() = %v, want greeting *Error %s", err, code)
			}
			if !<-quit {
				t.Fatal("client did not send QUIT after a refusing greeting")
			}
		})
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestGreetingDelayMeasured(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		// The pause starts at Accept, which may come a little before the
		// client's connect returns and its clock starts: pause a bit
		// longer than the 150 ms asserted below.
		time.Sleep(170 * time.Millisecond)
		p.Send("220 slow.example ESMTP")
		p.Expect("QUIT")
		p.Send("221 bye")
	})
	c, _ := dial(t, addr, Options{})
	if d := c.Greeting().RTT; d < 150*time.Millisecond {
		t.Fatalf("greeting RTT = %v, want at least the server's 150ms delay", d)
	}
	if _, err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestHelloFallsBackToHELO(t *testing.T) {
	tests := []struct {
		name     string
		greeting string
		ehlo     string
		fallback bool
	}{
		{"500", "220 old.example SMTP", "500 unrecognised command", true},
		{"502", "220 old.example ESMTP", "502 5.5.1 not implemented", true},
		{"504", "220 old.example", "504 no", true},
		{"550 non-ESMTP", "220 old.example Sendmail 4", "550 what?", true},
		{"550 ESMTP", "220 new.example ESMTP", "550 5.7.1 go away", false},
		{"421", "220 x SMTP", "421 4.3.2 shutting down", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, _ := peertest.Start(t, func(p *peertest.Peer) {
				p.Send(tt.greeting)
				p.Expect("EHLO client.test")
				p.Send(tt.ehlo)
				if tt.fallback {
					p.Expect("HELO client.test")
					p.Send("250 old.example")
				}
			})
			c, ts := dial(t, addr, Options{})
			r, err := c.Hello(ctx, "client.test")
			if tt.fallback {
				if err != nil || r.Code != 250 || c.ESMTP() || c.Caps().Has("PIPELINING") {
					t.Fatalf("Hello() = %v, %v; esmtp %v", r, err, c.ESMTP())
				}
				if got := transcripttest.ClientLines(ts); len(got) != 2 || got[1] != "HELO client.test" {
					t.Fatalf("client lines = %q", got)
				}
				return
			}
			var se *Error
			if !errors.As(err, &se) || se.Command != "EHLO client.test" {
				t.Fatalf("Hello() = %v, want *Error for EHLO without fallback", err)
			}
			if se.Temporary() != strings.HasPrefix(tt.ehlo, "4") {
				t.Fatalf("Temporary() = %v for %s", se.Temporary(), tt.ehlo)
			}
		})
	}
}

func TestHelloRefusesBadName(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send("220 x ESMTP")
		p.Conn().SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		p.Read()
		if got := p.Lines(); len(got) != 0 {
			p.Errorf("server received %q", got)
		}
	})
	c, _ := dial(t, addr, Options{})
	for _, name := range []string{"a\r\nMAIL FROM:<x@y>", "two words"} {
		if _, err := c.Hello(ctx, name); wire.Classify(err) != wire.KindInput {
			t.Fatalf("Hello(%q) = %v, want input error", name, err)
		}
	}
}

// ehloLines is a typical Postfix EHLO reply.
func ehloLines(exts ...string) []string {
	out := []string{"250-mx.test"}
	for i, e := range exts {
		sep := "-"
		if i == len(exts)-1 {
			sep = " "
		}
		out = append(out, "250"+sep+e)
	}
	if len(exts) == 0 {
		out[0] = "250 mx.test"
	}
	return out
}

// greetEHLO plays the opening most scripts share: a greeting, then an
// EHLO reply offering exts.
func greetEHLO(p *peertest.Peer, exts ...string) {
	p.Send("220 x ESMTP")
	p.Expect("EHLO *")
	p.Send(ehloLines(exts...)...)
}

func TestRecipientInjectionRefused(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		greetEHLO(p, "PIPELINING", "DSN")
		p.Expect("QUIT")
		p.Send("221 bye")
	})
	c, ts := dial(t, addr, Options{})
	if _, err := c.Hello(ctx, "client.test"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		call func() error
		want string
	}{
		{func() error { _, err := c.Rcpt(ctx, "kate@abc\nDATA", nil); return err }, "recipient address contains a line feed (LF) at position 9"},
		{func() error { _, err := c.Mail(ctx, "a@b\r\nRCPT TO:<x@y>", nil); return err }, "sender address contains a carriage return (CR) at position 4"},
		{func() error { _, err := c.Rcpt(ctx, "not an address", nil); return err }, "recipient address"},
		{func() error { _, err := c.Rcpt(ctx, "x@y.test", &RcptOptions{ORCPT: "a\x00b"}); return err }, "ORCPT address contains a NUL byte at position 2"},
		{func() error {
			_, err := c.Rcpt(ctx, "x@y.test", &RcptOptions{Notify: []string{"SOMETIMES"}})
			return err
		}, "NOTIFY value"},
		{func() error { _, err := c.Do(ctx, "NOOP\r\nQUIT"); return err }, "command line contains a carriage return (CR) at position 5"},
		{func() error {
			_, err := c.Transaction(ctx, Tx{From: "a@b.test", To: []string{"ok@b.test", "bad\n@b.test"}})
			return err
		}, "recipient address contains a line feed (LF) at position 4"},
	}
	for i, tt := range tests {
		err := tt.call()
		if wire.Classify(err) != wire.KindInput || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("case %d: error = %v, want input error containing %q", i, err, tt.want)
		}
	}
	if got := transcripttest.ClientLines(ts); len(got) != 1 {
		t.Fatalf("client sent %q although every command was refused", got)
	}
	if _, err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSMTPUTF8RefusedWhenNotOffered(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		greetEHLO(p, "8BITMIME")
		p.Expect("MAIL FROM:<a@xn--bcher-kva.test>")
		p.Send("250 ok")
	})
	c, ts := dial(t, addr, Options{})
	c.Hello(ctx, "client.test")
	_, err := c.Rcpt(ctx, "jörg@example.test", nil)
	var ne *NotOfferedError
	if !errors.As(err, &ne) || ne.Extension != "SMTPUTF8" {
		t.Fatalf("Rcpt(non-ASCII local part) = %v, want NotOfferedError SMTPUTF8", err)
	}
	// An IDN domain alone goes out as its A-label, both forms noted.
	if _, err := c.Mail(ctx, "a@bücher.test", nil); err != nil {
		t.Fatal(err)
	}
	all := transcripttest.Text(ts)
	if !strings.Contains(all, "bücher.test") || !strings.Contains(all, "xn--bcher-kva.test") {
		t.Fatalf("transcript does not note both forms of the IDN domain:\n%s", all)
	}
}

func TestDSNParameters(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		greetEHLO(p, "DSN", "SIZE 1000")
		p.Expect("MAIL FROM:<a@b.test> SIZE=10 RET=HDRS ENVID=id+2B1")
		p.Send("250 ok")
		p.Expect("RCPT TO:<kate@b.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;kate+2Bx@b.test")
		p.Send("250 ok")
	})
	c, _ := dial(t, addr, Options{})
	c.Hello(ctx, "client.test")
	if _, err := c.Mail(ctx, "a@b.test", &MailOptions{Size: 10, Ret: "hdrs", EnvID: "id+1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Rcpt(ctx, "kate@b.test", &RcptOptions{Notify: []string{"success", "failure"}, ORCPT: "kate+x@b.test"}); err != nil {
		t.Fatal(err)
	}
}

func TestNotifyWithoutDSNRefused(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		greetEHLO(p, "SIZE")
	})
	c, _ := dial(t, addr, Options{})
	c.Hello(ctx, "client.test")
	_, err := c.Rcpt(ctx, "kate@b.test", &RcptOptions{Notify: []string{"SUCCESS"}})
	var ne *NotOfferedError
	if !errors.As(err, &ne) || ne.Extension != "DSN" {
		t.Fatalf("Rcpt(NOTIFY) without DSN = %v", err)
	}
}

func TestDataDotStuffingAndCRLF(t *testing.T) {
	got := make(chan string, 1)
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send("220 x ESMTP")
		p.Expect("DATA")
		p.Send("354 go ahead")
		// Next reports a line that does not end in CRLF, so the lines
		// are put back together with CRLF.
		var b strings.Builder
		for l, ok := p.Next(); ok; l, ok = p.Next() {
			b.WriteString(l + "\r\n")
			if l == "." {
				break
			}
		}
		got <- b.String()
		p.Send("250 2.0.0 queued as ABC")
	})
	c, _ := dial(t, addr, Options{})
	msg := "Subject: dots\n\n.leading dot\n..two dots\nmiddle . dot\r\n.\nlast line without newline"
	r, err := c.Data(ctx, []byte(msg))
	if err != nil || r.Code != 250 || r.Enhanced != "2.0.0" {
		t.Fatalf("Data() = %v, %v", r, err)
	}
	want := "Subject: dots\r\n\r\n..leading dot\r\n...two dots\r\nmiddle . dot\r\n..\r\nlast line without newline\r\n.\r\n"
	if s := <-got; s != want {
		t.Fatalf("on the wire:\n%q\nwant\n%q", s, want)
	}
}

func TestDataLines(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"a\nb\n", []string{"a", "b", "."}, ""},
		{"a\r\nb", []string{"a", "b", "."}, ""},
		{".", []string{"..", "."}, ""},
		{"", []string{"."}, ""},
		{"\n\n", []string{"", "", "."}, ""},
		{"ok\nbad\rline\n", nil, "message line 2 has a bare carriage return (CR) at position 4"},
		{"nul\x00\n", nil, "NUL"},
	}
	for _, tt := range tests {
		ls, err := DataLines([]byte(tt.in))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("DataLines(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		var got []string
		for _, l := range ls {
			got = append(got, l.Text)
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("DataLines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// txServer answers a transaction. With pipelining it checks that MAIL,
// the RCPTs and DATA arrived in one read.
func txServer(pipelining bool, rcptReplies ...string) func(p *peertest.Peer) {
	return func(p *peertest.Peer) {
		p.Send("220 x ESMTP")
		p.Expect("EHLO *")
		if pipelining {
			p.Send(ehloLines("PIPELINING", "SIZE 100000")...)
		} else {
			p.Send(ehloLines("SIZE 100000")...)
		}
		if pipelining {
			// Everything up to DATA must already be there: the client
			// sent it in one write without waiting for replies.
			buf := make([]byte, 4096)
			n, _ := p.Conn().Read(buf)
			got := string(buf[:n])
			want := "MAIL FROM:<a@b.test>\r\n"
			for i := range rcptReplies {
				want += "RCPT TO:<r" + string(rune('0'+i)) + "@b.test>\r\n"
			}
			want += "DATA\r\n"
			if got != want {
				p.Errorf("pipelined batch = %q, want %q", got, want)
			}
			p.Send("250 2.1.0 ok")
			p.Send(rcptReplies...)
			p.Send("354 go")
		} else {
			p.Expect("MAIL FROM:<a@b.test>")
			p.Send("250 ok")
			for i, r := range rcptReplies {
				p.Expect("RCPT TO:<r" + string(rune('0'+i)) + "@b.test>")
				p.Send(r)
			}
			p.Expect("DATA")
			p.Send("354 go")
		}
		// The message of TestTransactionRoundTrips.
		for _, l := range []string{"Subject: x", "", "hi", "."} {
			p.Expect(l)
		}
		p.Send("250 queued")
		p.Expect("QUIT")
		p.Send("221 bye")
	}
}

func TestTransactionRoundTrips(t *testing.T) {
	for _, pipelining := range []bool{true, false} {
		name := map[bool]string{true: "pipelining", false: "sequential"}[pipelining]
		t.Run(name, func(t *testing.T) {
			addr, _ := peertest.Start(t, txServer(pipelining, "250 ok", "550 5.1.1 no such user", "250 ok"))
			c, _ := dial(t, addr, Options{})
			if _, err := c.Hello(ctx, "client.test"); err != nil {
				t.Fatal(err)
			}
			before := c.RoundTrips()
			res, err := c.Transaction(ctx, Tx{From: "a@b.test", To: []string{"r0@b.test", "r1@b.test", "r2@b.test"}, Data: []byte("Subject: x\n\nhi\n")})
			var se *Error
			if !errors.As(err, &se) || se.Code() != 550 || se.Command != "RCPT TO:<r1@b.test>" {
				t.Fatalf("Transaction() error = %v, want the 550 of r1", err)
			}
			if res.Accepted != 2 || res.Message.Code != 250 || res.Pipelined != pipelining {
				t.Fatalf("Transaction() = %+v", res)
			}
			rt := c.RoundTrips() - before
			want := map[bool]int{true: 2, false: 6}[pipelining]
			if rt != want {
				t.Fatalf("round trips = %d, want %d", rt, want)
			}
			var steps []string
			for _, x := range c.Exchanges() {
				steps = append(steps, x.Step)
			}
			if got := strings.Join(steps, ","); got != "connect,ehlo,mail,rcpt,rcpt,rcpt,data,message" {
				t.Fatalf("exchanges = %s", got)
			}
			c.Quit(ctx)
		})
	}
}

func TestProbeEndsWithRSET(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		greetEHLO(p, "SIZE")
		p.Expect("MAIL FROM:<>")
		p.Send("250 ok")
		p.Expect("RCPT TO:<kate@b.test>")
		p.Send("250 ok")
		p.Expect("RSET")
		p.Send("250 flushed")
	})
	c, ts := dial(t, addr, Options{})
	c.Hello(ctx, "")
	res, err := c.Transaction(ctx, Tx{From: "", To: []string{"kate@b.test"}})
	if err != nil || res.Rset.Code != 250 || res.Accepted != 1 {
		t.Fatalf("probe = %+v, %v", res, err)
	}
	for _, l := range transcripttest.ClientLines(ts) {
		if l == "DATA" {
			t.Fatal("a probe sent DATA")
		}
	}
	if got := transcripttest.ClientLines(ts)[1]; got != "MAIL FROM:<>" {
		t.Fatalf("null reverse-path sent as %q", got)
	}
}

func TestTemporaryRcpt(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send("220 x ESMTP")
		p.Expect("RCPT TO:<kate@b.test>")
		p.Send("450 4.2.0 <kate@b.test>: Recipient address rejected: greylisted")
	})
	c, _ := dial(t, addr, Options{})
	_, err := c.Rcpt(ctx, "kate@b.test", nil)
	var se *Error
	if !errors.As(err, &se) || !se.Temporary() || se.Reply.Enhanced != "4.2.0" {
		t.Fatalf("Rcpt() = %v, want a temporary *Error", err)
	}
	if !strings.HasPrefix(err.Error(), "smtp: RCPT TO:<kate@b.test>: 450 4.2.0 <kate@b.test>: Recipient") {
		t.Fatalf("error text = %q", err)
	}
}

func TestEndlessContinuationHitsMaxReply(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send("220 x ESMTP")
		p.Expect("EHLO *")
		for i := 0; i < 100000; i++ {
			if err := p.Write("250-PADDING PADDING PADDING PADDING\r\n"); err != nil {
				return
			}
		}
	})
	c, ts := dial(t, addr, Options{Limits: wire.Limits{MaxReply: 4096}})
	_, err := c.Hello(ctx, "client.test")
	var le *wire.LimitError
	if !errors.As(err, &le) || le.Max != 4096 || le.Step != "ehlo" || le.Limit != "reply size" {
		t.Fatalf("Hello() = %v, want reply size LimitError during ehlo", err)
	}
	n := 0
	for _, e := range ts.Entries() {
		if e.Dir == transcript.Server {
			n++
		}
	}
	if n > 4096/30+2 {
		t.Fatalf("%d server lines recorded, more than fit in 4096 bytes", n)
	}
}

func TestMismatchedCodesIsProtocolError(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send("220 x ESMTP")
		p.Expect("NOOP")
		p.Send("250-one", "251 two")
	})
	c, _ := dial(t, addr, Options{})
	_, err := c.Noop(ctx)
	if wire.Classify(err) != wire.KindProtocol || !strings.Contains(err.Error(), "code 251") {
		t.Fatalf("Noop() = %v, want protocol error", err)
	}
}

func TestStartTLS(t *testing.T) {
	cert, pool := peertest.ServerCert(t, "mx.test")
	tests := []struct {
		name   string
		sni    string
		roots  *x509.CertPool
		reason string
	}{
		{"verified", "mx.test", pool, ""},
		{"name mismatch", "other.test", pool, "name-mismatch"},
		{"unknown authority", "mx.test", x509.NewCertPool(), "unknown-authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, _ := peertest.Start(t, func(p *peertest.Peer) {
				greetEHLO(p, "PIPELINING", "STARTTLS")
				p.Expect("STARTTLS")
				p.Send("220 2.0.0 ready")
				if tt.reason != "" {
					// The client refuses the certificate: the handshake
					// fails on this side too, as it should.
					tls.Server(p.Conn(), &tls.Config{Certificates: []tls.Certificate{cert}}).Handshake()
					return
				}
				p.StartTLS(cert)
				p.Expect("EHLO client.test")
				p.Send(ehloLines("PIPELINING", "AUTH PLAIN LOGIN")...)
			})
			c, ts := dial(t, addr, Options{TLSOptions: wire.TLSOptions{ServerName: tt.sni, RootCAs: tt.roots}})
			c.Hello(ctx, "client.test")
			err := c.StartTLS(ctx)
			if tt.reason != "" {
				if wire.Classify(err) != wire.KindTLSVerify || c.TLS() == nil || c.TLS().VerifyReason != tt.reason {
					t.Fatalf("StartTLS() = %v, info %+v; want verify failure %s", err, c.TLS(), tt.reason)
				}
				return
			}
			if err != nil || !c.TLS().Verified {
				t.Fatalf("StartTLS() = %v", err)
			}
			if c.CapsBeforeTLS().Has("AUTH") || !c.CapsBeforeTLS().Has("STARTTLS") || !c.Caps().Has("AUTH") || c.Caps().Has("STARTTLS") {
				t.Fatalf("caps before %v after %v", c.CapsBeforeTLS().Strings(), c.Caps().Strings())
			}
			var secureEHLO bool
			for _, e := range ts.Entries() {
				if e.Dir == transcript.Client && string(e.Raw) == "EHLO client.test" && e.Secure {
					secureEHLO = true
				}
			}
			if !secureEHLO {
				t.Fatal("no EHLO recorded inside TLS")
			}
		})
	}
}

func TestStartTLSNotOffered(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		greetEHLO(p, "PIPELINING")
	})
	c, ts := dial(t, addr, Options{})
	c.Hello(ctx, "client.test")
	err := c.StartTLS(ctx)
	var ne *NotOfferedError
	if !errors.As(err, &ne) || ne.Extension != "STARTTLS" || !strings.Contains(err.Error(), "PIPELINING") {
		t.Fatalf("StartTLS() = %v", err)
	}
	if got := transcripttest.ClientLines(ts); len(got) != 1 {
		t.Fatalf("sent %q", got)
	}
}

func TestStartTLSRefusesInjectedBytes(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		greetEHLO(p, "STARTTLS")
		p.Expect("STARTTLS")
		p.Write("220 ready\r\n250 injected\r\n")
		time.Sleep(200 * time.Millisecond)
	})
	c, _ := dial(t, addr, Options{})
	c.Hello(ctx, "client.test")
	time.Sleep(0)
	if err := c.StartTLS(ctx); wire.Classify(err) != wire.KindProtocol {
		t.Fatalf("StartTLS() with bytes after 220 = %v, want protocol error", err)
	}
}

const user = "kate"

// pass is a variable so that TestAuthRedaction can also use a password
// shorter than four bytes, which the transcript's own scrubber ignores:
// then only the client's redaction stands between it and the transcript.
var pass = "s3cret-Pässword"

// secretForms are the ways the password could leak.
func secretForms() []string {
	return []string{
		pass,
		base64.StdEncoding.EncodeToString([]byte(pass)),
		base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass)),
	}
}

// loginExchange plays the server side of AUTH LOGIN up to the final
// reply: both prompts, expecting user and pass in base64.
func loginExchange(p *peertest.Peer) {
	p.Expect("AUTH LOGIN")
	p.Send("334 VXNlcm5hbWU6")
	p.Expect(base64.StdEncoding.EncodeToString([]byte(user)))
	p.Send("334 UGFzc3dvcmQ6")
	p.Expect(base64.StdEncoding.EncodeToString([]byte(pass)))
}

func TestAuthRedaction(t *testing.T) {
	challenge := "<1896.697170952@postoffice.example.net>"
	tests := []struct {
		mech   string
		script func(p *peertest.Peer)
		lines  []string // recorded client lines after EHLO
		notes  []string // annotations that must appear
	}{
		{MechPlain, func(p *peertest.Peer) {
			l := p.Expect("AUTH PLAIN *")
			b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(l, "AUTH PLAIN "))
			if string(b) != "\x00"+user+"\x00"+pass {
				p.Errorf("PLAIN payload = %q", b)
			}
			p.Send("235 2.7.0 Authentication successful")
		}, []string{"AUTH PLAIN <redacted>"}, []string{`user "kate"`}},
		{MechLogin, func(p *peertest.Peer) {
			loginExchange(p)
			p.Send("235 2.7.0 ok")
		}, []string{"AUTH LOGIN", base64.StdEncoding.EncodeToString([]byte(user)), "<redacted>"}, []string{"decoded: Username:", "decoded: Password:", `user name "kate"`}},
		{MechCRAMMD5, func(p *peertest.Peer) {
			p.Expect("AUTH CRAM-MD5")
			p.Send("334 " + base64.StdEncoding.EncodeToString([]byte(challenge)))
			l := p.Read()
			b, _ := base64.StdEncoding.DecodeString(l)
			m := hmac.New(md5.New, []byte(pass))
			m.Write([]byte(challenge))
			if string(b) != user+" "+hex.EncodeToString(m.Sum(nil)) {
				p.Errorf("CRAM-MD5 response = %q", b)
			}
			p.Send("235 2.7.0 ok")
		}, []string{"AUTH CRAM-MD5", "<redacted digest>"}, []string{"decoded: " + challenge, `CRAM-MD5 response of user "kate"`}},
	}
	for _, tt := range tests {
		for _, pw := range []string{"s3cret-Pässword", "pw1"} {
			t.Run(tt.mech+"/"+pw, func(t *testing.T) {
				pass = pw
				addr, _ := peertest.Start(t, func(p *peertest.Peer) {
					greetEHLO(p, "AUTH PLAIN LOGIN CRAM-MD5")
					tt.script(p)
				})
				c, ts := dial(t, addr, Options{})
				c.Hello(ctx, "client.test")
				r, err := c.Auth(ctx, user, pass, tt.mech)
				if err != nil || r.Code != 235 {
					t.Fatalf("Auth() = %v, %v", r, err)
				}
				got := transcripttest.ClientLines(ts)[1:]
				if strings.Join(got, "|") != strings.Join(tt.lines, "|") {
					t.Fatalf("recorded client lines = %q, want %q", got, tt.lines)
				}
				transcripttest.NoSecrets(t, ts, secretForms()...)
				all := transcripttest.Text(ts)
				for _, n := range tt.notes {
					if !strings.Contains(all, n) {
						t.Errorf("transcript lacks annotation %q:\n%s", n, all)
					}
				}
				x := c.Exchanges()
				if last := x[len(x)-1]; last.Step != "auth" || strings.Contains(last.Command, pass) {
					t.Fatalf("auth exchange = %+v", last)
				}
			})
		}
	}
}

func TestAuthRawModeRedaction(t *testing.T) {
	plain := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send("220 x ESMTP")
		p.Expect("AUTH PLAIN *")
		p.Send("535 5.7.8 Error: authentication failed")
		loginExchange(p)
		p.Send("235 ok")
	})
	c, ts := dial(t, addr, Options{})
	for _, l := range []string{"AUTH PLAIN " + plain, "AUTH LOGIN", base64.StdEncoding.EncodeToString([]byte(user)), base64.StdEncoding.EncodeToString([]byte(pass))} {
		if _, err := c.Do(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"AUTH PLAIN <redacted>", "AUTH LOGIN", base64.StdEncoding.EncodeToString([]byte(user)), "<redacted>"}
	if got := transcripttest.ClientLines(ts); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("raw AUTH recorded as %q, want %q", got, want)
	}
	transcripttest.NoSecrets(t, ts, secretForms()...)
}

func TestRawModeDataAndStates(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send("220 x ESMTP")
		p.Expect("ehlo me.test")
		p.Send(ehloLines("PIPELINING", "SIZE 10")...)
		p.Expect("DATA")
		p.Send("354 end with .")
		p.Expect("Subject: hi")
		p.Expect("")
		p.Expect("..dot")
		p.Expect(".")
		p.Send("250 queued")
		p.Expect("QUIT")
		p.Send("221 bye")
	})
	c, _ := dial(t, addr, Options{})
	for _, tt := range []struct {
		line string
		code int
	}{{"ehlo me.test", 250}, {"DATA", 354}, {"Subject: hi", 0}, {"", 0}, {"..dot", 0}, {".", 250}, {"QUIT", 221}} {
		r, err := c.Do(ctx, tt.line)
		if err != nil || r.Code != tt.code {
			t.Fatalf("Do(%q) = %d, %v; want %d", tt.line, r.Code, err, tt.code)
		}
		if tt.line == "ehlo me.test" && !c.Caps().Has("PIPELINING") {
			t.Fatal("raw EHLO did not update the capabilities")
		}
	}
}

func TestCancelEndsWait(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send("220 x ESMTP")
		p.Expect("NOOP")
		time.Sleep(2 * time.Second)
	})
	c, _ := dial(t, addr, Options{})
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	start := time.Now()
	_, err := c.Noop(cctx)
	if wire.Classify(err) != wire.KindCanceled {
		t.Fatalf("Noop() after cancel = %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatalf("cancel took %v", time.Since(start))
	}
}
