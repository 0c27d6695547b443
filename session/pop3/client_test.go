package pop3

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mailflow/mailflow/internal/clienttest"
	"github.com/mailflow/mailflow/internal/peertest"
	"github.com/mailflow/mailflow/internal/transcripttest"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

func TestSessionUserPassListRetr(t *testing.T) {
	addr, p := peertest.Start(t, func(p *peertest.Peer) {
		p.Send("+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>")
		p.Expect("CAPA")
		p.Send("+OK Capability list follows", "TOP", "USER", "SASL PLAIN", "RESP-CODES", "UIDL", ".")
		p.Expect("USER kate")
		p.Send("+OK")
		p.Expect("PASS s3cret pass")
		p.Send("+OK Logged in.")
		p.Expect("STAT")
		p.Send("+OK 2 320")
		p.Expect("LIST")
		p.Send("+OK 2 messages", "1 120", "2 200", ".")
		p.Expect("UIDL")
		p.Send("+OK", "1 whqtswO00WBw418f9t5JxYwZ", "2 QhdPYR:00WBw1Ph7x7", ".")
		p.Expect("RETR 2")
		p.Send("+OK 200 octets", "Subject: hi", "", "..leading dot", "...", "end", ".")
		p.Expect("TOP 1 0")
		p.Send("+OK", "Subject: one", "", ".")
		p.Expect("DELE 1")
		p.Send("+OK")
		p.Expect("RSET")
		p.Send("+OK")
		p.Expect("NOOP")
		p.Send("+OK")
		p.Expect("QUIT")
		p.Send("+OK Bye")
	})
	c, ctx, ts := clienttest.Dial(t, Dial, addr, wire.Options{})
	if c.Timestamp() != "<1896.697170952@dbc.mtview.ca.us>" {
		t.Errorf("Timestamp = %q", c.Timestamp())
	}
	caps, err := c.Capa(ctx)
	if err != nil || !caps.Has("RESP-CODES") || !reflect.DeepEqual(caps["SASL"], []string{"PLAIN"}) {
		t.Fatalf("Capa = %v, %v", caps, err)
	}
	if err := c.User(ctx, "kate"); err != nil {
		t.Fatal(err)
	}
	if err := c.Pass(ctx, "s3cret pass"); err != nil {
		t.Fatal(err)
	}
	n, size, err := c.Stat(ctx)
	if err != nil || n != 2 || size != 320 {
		t.Fatalf("Stat = %d, %d, %v", n, size, err)
	}
	list, err := c.List(ctx)
	if err != nil || !reflect.DeepEqual(list, []ListEntry{{1, 120}, {2, 200}}) {
		t.Fatalf("List = %v, %v", list, err)
	}
	uids, err := c.Uidl(ctx)
	if err != nil || len(uids) != 2 || uids[1].UID != "QhdPYR:00WBw1Ph7x7" {
		t.Fatalf("Uidl = %v, %v", uids, err)
	}
	msg, err := c.Retr(ctx, 2)
	if want := "Subject: hi\r\n\r\n.leading dot\r\n..\r\nend\r\n"; err != nil || string(msg) != want {
		t.Fatalf("Retr = %q, %v; want %q", msg, err, want)
	}
	top, err := c.Top(ctx, 1, 0)
	if err != nil || string(top) != "Subject: one\r\n\r\n" {
		t.Fatalf("Top = %q, %v", top, err)
	}
	for _, f := range []func(context.Context) error{
		func(ctx context.Context) error { return c.Dele(ctx, 1) }, c.Rset, c.Noop, c.Quit,
	} {
		if err := f(ctx); err != nil {
			t.Fatal(err)
		}
	}
	transcripttest.NoSecrets(t, ts, "s3cret")
	e, ok := transcripttest.Find(ts, "PASS <redacted>")
	if !ok || !e.Redacted || e.Step != "pass" || e.Dir != transcript.Client {
		t.Errorf("PASS entry = %+v, %v", e, ok)
	}
	if !p.Received("PASS s3cret pass") {
		t.Errorf("server did not receive the password: %q", p.Lines())
	}
	// The terminating line of RETR carries the reply, with its RTT.
	var retrEnd *transcript.Entry
	for _, e := range ts.Entries() {
		if e.Step == "retr" && e.Reply != nil {
			retrEnd = &e
		}
	}
	if retrEnd == nil || string(retrEnd.Raw) != "." || retrEnd.Reply.Code != "+OK" || !retrEnd.Reply.OK {
		t.Fatalf("RETR end entry = %+v", retrEnd)
	}
	// Raw lines stay dot-stuffed in the transcript: it shows the wire.
	if _, ok := transcripttest.Find(ts, "..leading dot"); !ok {
		t.Error("dot-stuffed line not recorded as received")
	}
	if _, ok := transcripttest.Find(ts, "the greeting carries the APOP timestamp <1896.697170952@dbc.mtview.ca.us> (RFC 1939 section 7)"); !ok {
		t.Error("APOP timestamp not noted")
	}
}

func TestErrResponseCodes(t *testing.T) {
	tests := []struct {
		reply     string
		code      string
		temporary bool
	}{
		{"-ERR [IN-USE] Mailbox is locked by another POP3 session.", "IN-USE", true},
		{"-ERR [LOGIN-DELAY] Wait 5 minutes", "LOGIN-DELAY", true},
		{"-ERR [SYS/TEMP] Temporary failure", "SYS/TEMP", true},
		{"-ERR [SYS/PERM] Mailbox unavailable", "SYS/PERM", false},
		{"-ERR [AUTH] Authentication failed.", "AUTH", false},
		{"-ERR Authentication failed.", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			addr, _ := peertest.Start(t, func(p *peertest.Peer) {
				p.Send("+OK ready")
				p.Expect("USER kate")
				p.Send("+OK")
				p.Expect("PASS *")
				p.Send(tt.reply)
			})
			c, ctx, ts := clienttest.Dial(t, Dial, addr, wire.Options{})
			if err := c.User(ctx, "kate"); err != nil {
				t.Fatal(err)
			}
			err := c.Pass(ctx, "pw")
			var pe *Error
			if !errors.As(err, &pe) || pe.Code != tt.code || pe.Command != "PASS" || pe.Step != "pass" || pe.Temporary() != tt.temporary {
				t.Fatalf("Pass = %#v, want Code %q Temporary %v", err, tt.code, tt.temporary)
			}
			e, _ := transcripttest.Find(ts, tt.reply)
			if e.Reply == nil || e.Reply.OK || e.Reply.Code != "-ERR" || e.Reply.RespCode != tt.code {
				t.Fatalf("recorded reply = %+v", e.Reply)
			}
			if tt.code != "" && e.Annotation == "" {
				t.Errorf("no annotation for [%s]", tt.code)
			}
		})
	}
}

func TestBadStatusIsProtocolError(t *testing.T) {
	for _, reply := range []string{"+ERR no such user", "+OKAY", "* OK IMAP4rev1", "+ VXNlcm5hbWU6"} {
		t.Run(reply, func(t *testing.T) {
			addr, _ := peertest.Start(t, func(p *peertest.Peer) {
				p.Send("+OK ready")
				p.Expect("USER kate")
				p.Send(reply)
			})
			c, ctx, ts := clienttest.Dial(t, Dial, addr, wire.Options{})
			err := c.User(ctx, "kate")
			var pe *wire.ProtocolError
			if !errors.As(err, &pe) || pe.Step != "user" || wire.Classify(err) != wire.KindProtocol {
				t.Fatalf("User after %q = %v, want a protocol error in step user", reply, err)
			}
			if e, ok := transcripttest.Find(ts, reply); !ok || e.Reply == nil || e.Reply.OK {
				t.Fatalf("bad line recorded as %+v (found %v)", e, ok)
			}
		})
	}
}

func TestGreeting(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		addr, _ := peertest.Start(t, func(p *peertest.Peer) { p.Send("-ERR [SYS/TEMP] Too many connections") })
		_, err := Dial(clienttest.Context(t), addr, wire.Options{})
		var pe *Error
		if !errors.As(err, &pe) || pe.Command != "greeting" || pe.Step != "connect" || !pe.Temporary() {
			t.Fatalf("Dial = %v, want a temporary greeting refusal", err)
		}
		if got := err.Error(); got != "pop3: greeting refused: -ERR [SYS/TEMP] Too many connections" {
			t.Errorf("Error() = %q", got)
		}
	})
	t.Run("hostile bytes are printable in the error", func(t *testing.T) {
		addr, _ := peertest.Start(t, func(p *peertest.Peer) { p.Send("-ERR \x1b[31mred\x07") })
		_, err := Dial(clienttest.Context(t), addr, wire.Options{})
		if err == nil || strings.ContainsAny(err.Error(), "\x1b\x07") {
			t.Fatalf("Dial = %q, want an error without control bytes", err)
		}
	})
	t.Run("closed before greeting", func(t *testing.T) {
		addr, _ := peertest.Start(t, func(p *peertest.Peer) {})
		_, err := Dial(clienttest.Context(t), addr, wire.Options{})
		if k := wire.Classify(err); k != wire.KindClosed {
			t.Fatalf("Dial = %v (%s), want closed", err, k)
		}
	})
}

func TestResetInMultiLineResponse(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send("+OK ready")
		p.Expect("RETR 1")
		p.Write("+OK 500 octets\r\nSubject: first\r\nSecond li")
		time.Sleep(50 * time.Millisecond)
		p.Reset()
	})
	c, ctx, ts := clienttest.Dial(t, Dial, addr, wire.Options{})
	_, err := c.Retr(ctx, 1)
	if err == nil || !strings.Contains(err.Error(), "retr") {
		t.Fatalf("Retr = %v, want an error naming the retr step", err)
	}
	if k := wire.Classify(err); k != wire.KindReset && k != wire.KindClosed {
		t.Errorf("Classify = %s, want reset or closed", k)
	}
	if e, ok := transcripttest.Find(ts, "Subject: first"); !ok || e.Step != "retr" {
		t.Errorf("complete line lost: %+v", e)
	}
	if e, ok := transcripttest.Find(ts, "Second li"); !ok || !e.Partial {
		t.Errorf("partial line not kept: %+v %v", e, ok)
	}
}

func TestMessageDataLimit(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send("+OK ready")
		p.Expect("RETR 1")
		p.Send("+OK")
		for i := 0; i < 100; i++ {
			if err := p.Write(strings.Repeat("x", 70) + "\r\n"); err != nil {
				return
			}
		}
		p.Send(".")
	})
	c, ctx, _ := clienttest.Dial(t, Dial, addr, wire.Options{Limits: wire.Limits{MaxData: 1000}})
	_, err := c.Retr(ctx, 1)
	var le *wire.LimitError
	if !errors.As(err, &le) || le.Limit != "message data" || le.Max != 1000 || le.Step != "retr" {
		t.Fatalf("Retr = %v, want the message data limit in step retr", err)
	}
}

func TestSTLS(t *testing.T) {
	cert, pool := peertest.ServerCert(t)
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send("+OK ready")
		p.Expect("STLS")
		p.Send("+OK Begin TLS negotiation now.")
		p.StartTLS(cert)
		p.Expect("CAPA")
		p.Send("+OK", "USER", ".")
		p.Expect("QUIT")
		p.Send("+OK")
	})
	c, ctx, ts := clienttest.Dial(t, Dial, addr, wire.Options{TLSOptions: wire.TLSOptions{RootCAs: pool}})
	info, err := c.STLS(ctx)
	if err != nil || !info.Verified {
		t.Fatalf("STLS = %+v, %v", info, err)
	}
	if _, err := c.Capa(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}
	e, _ := transcripttest.Find(ts, "CAPA")
	if !e.Secure {
		t.Error("CAPA after STLS not marked secure")
	}
	e, _ = transcripttest.Find(ts, "STLS")
	if e.Secure {
		t.Error("STLS marked secure")
	}
}

func TestSTLSUntrustedCertificate(t *testing.T) {
	cert, _ := peertest.ServerCert(t)
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send("+OK ready")
		p.Expect("STLS")
		p.Send("+OK")
		// The client aborts the handshake; the error is expected.
		tls.Server(p.Conn(), &tls.Config{Certificates: []tls.Certificate{cert}}).Handshake()
	})
	c, ctx, _ := clienttest.Dial(t, Dial, addr, wire.Options{})
	_, err := c.STLS(ctx)
	if wire.Classify(err) != wire.KindTLSVerify {
		t.Fatalf("STLS with an unknown CA = %v (%s)", err, wire.Classify(err))
	}
}

func TestAuthPlain(t *testing.T) {
	long := strings.Repeat("p", 300)
	tests := []struct {
		name, user, pass string
		continuation     bool
	}{
		{"initial response", "kate", "kate-pass", false},
		{"continuation for long credentials", "kate", long, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := base64.StdEncoding.EncodeToString([]byte("\x00" + tt.user + "\x00" + tt.pass))
			addr, _ := peertest.Start(t, func(p *peertest.Peer) {
				p.Send("+OK ready")
				if tt.continuation {
					p.Expect("AUTH PLAIN")
					p.Send("+ ")
					p.Expect(payload)
				} else {
					p.Expect("AUTH PLAIN " + payload)
				}
				p.Send("+OK Logged in.")
			})
			c, ctx, ts := clienttest.Dial(t, Dial, addr, wire.Options{})
			if err := c.AuthPlain(ctx, tt.user, tt.pass); err != nil {
				t.Fatal(err)
			}
			transcripttest.NoSecrets(t, ts, tt.pass, payload)
			var redacted int
			for _, e := range ts.Entries() {
				if e.Redacted {
					redacted++
				}
			}
			if redacted != 1 {
				t.Errorf("%d redacted entries, want 1", redacted)
			}
		})
	}
}

func TestDoRaw(t *testing.T) {
	cert, pool := peertest.ServerCert(t)
	challenge := base64.StdEncoding.EncodeToString([]byte("Password:"))
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send("+OK ready")
		p.Expect("capa")
		p.Send("+OK", "STLS", "SASL PLAIN LOGIN", ".")
		p.Expect("stls")
		p.Send("+OK go ahead")
		p.StartTLS(cert)
		p.Expect("AUTH LOGIN")
		p.Send("+ " + base64.StdEncoding.EncodeToString([]byte("Username:")))
		p.Expect(base64.StdEncoding.EncodeToString([]byte("kate")))
		p.Send("+ " + challenge)
		p.Expect(base64.StdEncoding.EncodeToString([]byte("hunter2")))
		p.Send("+OK logged in")
		p.Expect("LIST 1")
		p.Send("+OK 1 120")
		p.Expect("list")
		p.Send("+OK", "1 120", ".")
		p.Expect("PASS hunter2")
		p.Send("-ERR [AUTH] already authenticated")
		p.Expect("XTND")
		p.Send("-ERR unknown command")
	})
	c, ctx, ts := clienttest.Dial(t, Dial, addr, wire.Options{TLSOptions: wire.TLSOptions{RootCAs: pool}})
	steps := []struct {
		line   string
		status string
		lines  int
		err    bool
	}{
		{"capa", "+OK", 2, false},
		{"stls", "+OK", 0, false},
		{"AUTH LOGIN", "+", 0, false},
		{base64.StdEncoding.EncodeToString([]byte("kate")), "+", 0, false},
		{base64.StdEncoding.EncodeToString([]byte("hunter2")), "+OK", 0, false},
		{"LIST 1", "+OK", 0, false},
		{"list", "+OK", 1, false},
		{"PASS hunter2", "-ERR", 0, true},
		{"XTND", "-ERR", 0, true},
	}
	for _, s := range steps {
		r, err := c.Do(ctx, s.line)
		if r == nil || r.Status != s.status || len(r.Lines) != s.lines || (err != nil) != s.err {
			t.Fatalf("Do(%q) = %+v, %v; want %s with %d lines", s.line, r, err, s.status, s.lines)
		}
	}
	if !c.Conn().Secure() {
		t.Error("raw STLS did not upgrade the connection")
	}
	// Capabilities learnt before STLS must be forgotten after it
	// (RFC 2595 section 3.1).
	if c.Caps() != nil {
		t.Errorf("capabilities kept across STLS: %v", c.Caps())
	}
	transcripttest.NoSecrets(t, ts, "hunter2", base64.StdEncoding.EncodeToString([]byte("hunter2")))
	var ann bool
	for _, e := range ts.Entries() {
		if e.Annotation == `base64 for "Password:"` && string(e.Raw) == "+ "+challenge {
			ann = true
		}
	}
	if !ann {
		t.Error("AUTH challenge not decoded into the annotation")
	}
	if _, err := c.Do(ctx, "  "); wire.Classify(err) != wire.KindInput {
		t.Errorf("Do(blank) = %v, want an input error", err)
	}
	if _, err := c.Do(ctx, "USER a\r\nPASS b"); wire.Classify(err) != wire.KindInput {
		t.Errorf("Do(injection) = %v, want an input error", err)
	}
}

func TestCancelEndsRead(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send("+OK ready")
		p.Expect("NOOP")
		p.Read() // wait for the client to go away
	})
	c, err := Dial(clienttest.Context(t), addr, wire.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err = c.Noop(ctx)
	if wire.Classify(err) != wire.KindCanceled {
		t.Fatalf("Noop after cancel = %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("cancel took %v", el)
	}
}
