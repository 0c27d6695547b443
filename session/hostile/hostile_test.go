package hostile

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailflow/mailflow/session/check"
	"github.com/mailflow/mailflow/session/imap"
	"github.com/mailflow/mailflow/session/pop3"
	"github.com/mailflow/mailflow/session/smtp"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// Buffers the hostile servers write from, made once so that the memory
// measured around a client call is the client's, not the server's.
var (
	bigChunk     = []byte(strings.Repeat("A", 64<<10))
	contLine     = []byte("250-" + strings.Repeat("x", 60) + "\r\n")
	shortCont    = []byte("250-\r\n")
	bigLineBytes = 10 << 20
)

// connOverhead is what a connection costs before any limit applies
// (dialling, buffers, transcript notes); about 30 KiB measured.
const connOverhead = 64 << 10

// bigLine sends prefix, then a 10 MB line, then drains.
func bigLine(prefix string) func(net.Conn) {
	return func(c net.Conn) {
		p := newPeer(c)
		p.send(prefix)
		for n := 0; n < bigLineBytes; n += len(bigChunk) {
			if _, err := c.Write(bigChunk); err != nil {
				return
			}
		}
		p.send("\r\n")
		p.drain()
	}
}

// endlessCont answers EHLO with a continuation that never ends.
func endlessCont(line []byte) func(net.Conn) {
	return func(c net.Conn) {
		p := newPeer(c)
		if !p.smtpUntil("EHLO") {
			return
		}
		for {
			if _, err := c.Write(line); err != nil {
				return
			}
		}
	}
}

// trickle sends s one byte at a time, every interval, then drains.
func trickle(s string, every time.Duration) func(net.Conn) {
	return func(c net.Conn) {
		for i := 0; i < len(s); i++ {
			if _, err := c.Write([]byte{s[i]}); err != nil {
				return
			}
			time.Sleep(every)
		}
		newPeer(c).drain()
	}
}

// silent accepts and says nothing.
func silent(c net.Conn) { newPeer(c).drain() }

// escapes is a banner full of terminal control sequences: clear screen,
// cursor movement, window titles (OSC 0 and 2), a clipboard write (OSC
// 52), a hyperlink (OSC 8), BEL, backspaces, a CR that would overwrite
// the line, and a C1 CSI (0x9b) in its bare 8-bit form.
const escapes = "hostile \x1b[2J\x1b[H\x1b[10;20Hmoved \x1b]0;owned-title\x07 \x1b]2;title2\x1b\\ " +
	"\x1b]52;c;cm0gLXJmIH4=\x07 \x1b]8;;http://evil.test/\x1b\\click\x1b]8;;\x1b\\ bell\x07 back\x08\x08\x08 " +
	"fake\rOVERWRITE \x9b31mred"

// escapesSMTP is escapes without the bare CR, which the SMTP client
// refuses as a protocol error (RFC 5321 §2.3.8: CR only as part of CRLF);
// that refusal has its own case.
var escapesSMTP = strings.Replace(escapes, "fake\rOVERWRITE", "fake OVERWRITE", 1)

// escapesShown are fragments of escapes as the exports must show them.
var escapesShown = []string{"␛[2J", "␛]0;owned-title␇", "␛]52;c;cm0gLXJmIH4=", "␛]8;;http://evil.test/", "bell␇", "back␈", "fake␍OVERWRITE", `\x9b31mred`}

// escapesSMTPShown is escapesShown for escapesSMTP.
var escapesSMTPShown = append(slices.Clone(escapesShown[:6]), escapesShown[7:]...)

type dialFunc func(ctx context.Context, addr string, ts *transcript.Store) error

func smtpGreet(lim wire.Limits) dialFunc {
	return func(ctx context.Context, addr string, ts *transcript.Store) error {
		c, err := smtp.Dial(ctx, addr, smtp.Options{Transcript: ts, Limits: lim})
		if err != nil {
			return err
		}
		return c.Close()
	}
}

func smtpEHLO(lim wire.Limits) dialFunc {
	return func(ctx context.Context, addr string, ts *transcript.Store) error {
		c, err := smtp.Dial(ctx, addr, smtp.Options{Transcript: ts, Limits: lim, LocalName: "client.test"})
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Hello(ctx, "")
		return err
	}
}

// smtpStartTLS says EHLO and asks for STARTTLS, trusting roots.
func smtpStartTLS(lim wire.Limits, roots *x509.CertPool) dialFunc {
	return func(ctx context.Context, addr string, ts *transcript.Store) error {
		c, err := smtp.Dial(ctx, addr, smtp.Options{Transcript: ts, Limits: lim, LocalName: "client.test",
			TLSOptions: wire.TLSOptions{RootCAs: roots}})
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.Hello(ctx, ""); err != nil {
			return err
		}
		return c.StartTLS(ctx)
	}
}

func pop3Greet(lim wire.Limits) dialFunc {
	return func(ctx context.Context, addr string, ts *transcript.Store) error {
		c, err := pop3.Dial(ctx, addr, wire.Options{Transcript: ts, Limits: lim})
		if err != nil {
			return err
		}
		return c.Close()
	}
}

func imapGreet(lim wire.Limits) dialFunc {
	return func(ctx context.Context, addr string, ts *transcript.Store) error {
		c, err := imap.Dial(ctx, addr, wire.Options{Transcript: ts, Limits: lim})
		if err != nil {
			return err
		}
		return c.Close()
	}
}

func imapCapability(lim wire.Limits) dialFunc {
	return func(ctx context.Context, addr string, ts *transcript.Store) error {
		c, err := imap.Dial(ctx, addr, wire.Options{Transcript: ts, Limits: lim})
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Capability(ctx)
		return err
	}
}

// hostileCase is one misbehaving server and what the client must do.
type hostileCase struct {
	name    string
	handler func(net.Conn)
	tls     *tls.Config // serve TLS on the listener
	dial    dialFunc
	kind    wire.Kind
	check   func(t *testing.T, err error)
	maxTime time.Duration // generous bound on the elapsed time
	minTime time.Duration
	memMax  int64    // bound on TotalAlloc during the call; 0: not measured
	want    []string // text the exports must show
}

func TestHostileServers(t *testing.T) {
	const step = 1500 * time.Millisecond
	lim := fastLimits(step)
	certs := newPKI(t, "hostile")
	cases := []hostileCase{
		{
			name: "smtp/10MB-banner", handler: bigLine("220 "), dial: smtpGreet(fastLimits(10 * time.Second)),
			kind: wire.KindLimit, check: limitIs("line length", wire.DefaultMaxLine),
			maxTime: 5 * time.Second, memMax: 4*wire.DefaultMaxLine + connOverhead, want: []string{"220 AAAA", "line length limit of 8192 bytes"},
		},
		{
			name: "pop3/10MB-greeting", handler: bigLine("+OK "), dial: pop3Greet(fastLimits(10 * time.Second)),
			kind: wire.KindLimit, check: limitIs("line length", wire.DefaultMaxLine),
			maxTime: 5 * time.Second, memMax: 4*wire.DefaultMaxLine + connOverhead, want: []string{"+OK AAAA"},
		},
		{
			name: "imap/10MB-greeting", handler: bigLine("* OK "), dial: imapGreet(fastLimits(10 * time.Second)),
			kind: wire.KindLimit, check: limitIs("line length", wire.DefaultMaxLineIMAP),
			maxTime: 5 * time.Second, memMax: 4*wire.DefaultMaxLineIMAP + connOverhead, want: []string{"* OK AAAA"},
		},
		{
			name: "smtp/endless-continuation", handler: endlessCont(contLine), dial: smtpEHLO(fastLimits(10 * time.Second)),
			kind: wire.KindLimit, check: limitIs("reply size", wire.DefaultMaxReply),
			// Every continuation line becomes a transcript entry, so the
			// memory of a reply grows with its line count, not only its
			// bytes: 66-byte lines cost about 18x MaxReply (see
			// BenchmarkHostileAmplification and SECURITY.md). The bound
			// catches regressions until the client caps recorded lines.
			maxTime: 8 * time.Second, memMax: 32 * wire.DefaultMaxReply, want: []string{"250-xxxx", "reply size limit"},
		},
		{
			name: "smtp/byte-per-second-banner", handler: trickle("220 slow.test ESMTP\r\n", time.Second), dial: smtpGreet(lim),
			kind: wire.KindTimeout, check: timeoutIs("greeting"),
			minTime: step - 100*time.Millisecond, maxTime: step + 2*time.Second, want: []string{"step timeout"},
		},
		{
			name: "imap/byte-per-second-greeting", handler: trickle("* OK slow\r\n", time.Second), dial: imapGreet(lim),
			kind: wire.KindTimeout, check: timeoutIs("greeting"),
			minTime: step - 100*time.Millisecond, maxTime: step + 2*time.Second, want: []string{"step timeout"},
		},
		{
			name: "smtp/byte-per-second-ehlo", dial: smtpEHLO(lim),
			handler: func(c net.Conn) {
				p := newPeer(c)
				if p.smtpUntil("EHLO") {
					trickle("250-slow\r\n250 ok\r\n", time.Second)(c)
				}
			},
			kind: wire.KindTimeout, check: timeoutIs("reply"),
			minTime: step - 100*time.Millisecond, maxTime: step + 2*time.Second, want: []string{"220 hostile.test", "step timeout"},
		},
		{
			name: "smtp/no-banner", handler: silent, dial: smtpGreet(lim), kind: wire.KindTimeout, check: timeoutIs("greeting"),
			minTime: step - 100*time.Millisecond, maxTime: step + 2*time.Second, want: []string{"step timeout"},
		},
		{
			name: "pop3/no-banner", handler: silent, dial: pop3Greet(lim), kind: wire.KindTimeout, check: timeoutIs("greeting"),
			minTime: step - 100*time.Millisecond, maxTime: step + 2*time.Second, want: []string{"step timeout"},
		},
		{
			name: "imap/no-banner", handler: silent, dial: imapGreet(lim), kind: wire.KindTimeout, check: timeoutIs("greeting"),
			minTime: step - 100*time.Millisecond, maxTime: step + 2*time.Second, want: []string{"step timeout"},
		},
		{
			name: "smtp/invalid-utf8", dial: smtpEHLO(lim), kind: wire.KindNone,
			handler: func(c net.Conn) {
				p := newPeer(c)
				p.send("220 bad\xff\xfe\xc3( utf8\r\n")
				if l, ok := p.line(); ok && strings.HasPrefix(l, "EHLO") {
					p.send("250-host\xc0\xafname\r\n250 \xed\xa0\x80surrogate\r\n")
				}
				p.drain()
			},
			maxTime: 3 * time.Second, want: []string{`bad\xff\xfe\xc3( utf8`, `host\xc0\xafname`, `\xed\xa0\x80surrogate`},
		},
		{
			name: "smtp/terminal-escapes", dial: smtpEHLO(lim), kind: wire.KindNone,
			handler: func(c net.Conn) {
				p := newPeer(c)
				p.send("220 " + escapesSMTP + "\r\n")
				if l, ok := p.line(); ok && strings.HasPrefix(l, "EHLO") {
					p.send("250-" + escapesSMTP + "\r\n250 SIZE \x1b[31m1\x1b[0m\r\n")
				}
				p.drain()
			},
			maxTime: 3 * time.Second, want: escapesSMTPShown,
		},
		{
			name: "smtp/terminal-escapes-in-refusal", kind: wire.KindNone,
			dial: func(ctx context.Context, addr string, ts *transcript.Store) error {
				c, err := smtp.Dial(ctx, addr, smtp.Options{Transcript: ts, Limits: lim, LocalName: "client.test"})
				if err != nil {
					return err
				}
				defer c.Close()
				_, err = c.Mail(ctx, "a@example.com", nil)
				var se *smtp.Error
				if !errors.As(err, &se) || se.Code() != 550 {
					return errors.New("no 550 *smtp.Error")
				}
				if controlByte([]byte(err.Error())) >= 0 {
					return errors.New("refusal message not inert: " + transcript.PrintableString(err.Error()))
				}
				return nil
			},
			handler: func(c net.Conn) {
				p := newPeer(c)
				if p.smtpUntil("MAIL") {
					p.send("550 5.7.1 " + escapesSMTP + "\r\n")
				}
				p.drain()
			},
			maxTime: 3 * time.Second, want: escapesSMTPShown,
		},
		{
			name: "smtp/bare-cr-overwrite", dial: smtpGreet(lim), kind: wire.KindProtocol,
			handler: func(c net.Conn) {
				p := newPeer(c)
				p.send("220 fake\rOVERWRITE \x1b]0;t\x07\r\n")
				p.drain()
			},
			maxTime: 3 * time.Second, want: []string{"fake␍OVERWRITE ␛]0;t␇", "bare carriage return"},
		},
		{
			name: "pop3/terminal-escapes", dial: pop3Greet(lim), kind: wire.KindNone,
			handler: func(c net.Conn) {
				newPeer(c).send("+OK " + escapes + "\r\n")
				newPeer(c).drain()
			},
			maxTime: 3 * time.Second, want: escapesShown,
		},
		{
			name: "imap/terminal-escapes", dial: imapGreet(lim), kind: wire.KindNone,
			handler: func(c net.Conn) {
				newPeer(c).send("* OK " + escapes + "\r\n")
				newPeer(c).drain()
			},
			maxTime: 3 * time.Second, want: escapesShown,
		},
		{
			name: "imap/terabyte-literal", dial: imapCapability(lim),
			handler: func(c net.Conn) {
				p := newPeer(c)
				p.send("* OK [CAPABILITY IMAP4rev1] hostile\r\n")
				if _, ok := p.line(); ok {
					p.send("* CAPABILITY {1099511627776}\r\n")
					for {
						if _, err := c.Write(bigChunk); err != nil {
							return
						}
					}
				}
			},
			kind: wire.KindLimit, check: limitIs("message data", wire.DefaultMaxData),
			maxTime: 3 * time.Second, memMax: 1 << 20, want: []string{"{1099511627776}", "1099511627776 bytes"},
		},
		{
			name: "smtp/tls-client-to-plain-server", kind: wire.KindTLS,
			dial: func(ctx context.Context, addr string, ts *transcript.Store) error {
				c, err := smtp.Dial(ctx, addr, smtp.Options{Transcript: ts, Limits: lim, TLS: wire.TLSImplicit,
					TLSOptions: wire.TLSOptions{RootCAs: certs.pool}})
				if err == nil {
					c.Close()
				}
				return err
			},
			handler: func(c net.Conn) {
				p := newPeer(c)
				p.send("220 plain.test ESMTP \x1b[2J\r\n")
				p.drain()
			},
			maxTime: 2*time.Second + 2*time.Second, want: []string{"TLS handshake failed"},
		},
		{
			name: "smtp/plain-client-to-tls-server", tls: certs.serverConfig(), dial: smtpGreet(lim),
			handler: func(c net.Conn) {
				_ = c.(*tls.Conn).Handshake()
				newPeer(c).drain()
			},
			kind: wire.KindTimeout, check: timeoutIs("greeting"),
			minTime: step - 100*time.Millisecond, maxTime: step + 2*time.Second, want: []string{"step timeout"},
		},
		{
			name: "smtp/reset-mid-reply", dial: smtpEHLO(lim), kind: wire.KindReset,
			handler: func(c net.Conn) {
				p := newPeer(c)
				if p.smtpUntil("EHLO") {
					p.send("250-first \x1b[2J\r\n250-second\r\n")
					time.Sleep(100 * time.Millisecond)
					c.(*net.TCPConn).SetLinger(0)
				}
			},
			maxTime: 3 * time.Second, want: []string{"250-first ␛[2J", "250-second"},
		},
		{
			name: "smtp/closed-during-data", kind: wire.KindClosed,
			dial: func(ctx context.Context, addr string, ts *transcript.Store) error {
				c, err := smtp.Dial(ctx, addr, smtp.Options{Transcript: ts, Limits: lim, LocalName: "client.test"})
				if err != nil {
					return err
				}
				defer c.Close()
				if _, err := c.Hello(ctx, ""); err != nil {
					return err
				}
				_, err = c.Transaction(ctx, smtp.Tx{From: "a@example.com", To: []string{"b@example.com"},
					Data: []byte("Subject: t\r\n\r\nbody\r\n")})
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					return errors.Join(errors.New("not io.ErrUnexpectedEOF"), err)
				}
				return err
			},
			handler: func(c net.Conn) {
				p := newPeer(c)
				if !p.smtpUntil("DATA") {
					return
				}
				p.send("354 go on\r\n")
				for {
					l, ok := p.line()
					if !ok || l == "." {
						return // close without a final reply
					}
				}
			},
			maxTime: 3 * time.Second, want: []string{"354 go on", "closed the connection"},
		},
		{
			name: "smtp/starttls-220-then-garbage", kind: wire.KindProtocol, dial: smtpStartTLS(lim, certs.pool),
			handler: func(c net.Conn) {
				p := newPeer(c)
				if p.smtpUntil("STARTTLS") {
					p.send("220 go ahead\r\n250-INJECTED \x1b]0;t\x07\r\n")
				}
				p.drain()
			},
			check: func(t *testing.T, err error) {
				var pe *wire.ProtocolError
				if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "after agreeing to start TLS") {
					t.Fatalf("error %v is not the STARTTLS injection ProtocolError", err)
				}
			},
			maxTime: 3 * time.Second, want: []string{"220 go ahead", "refusing to continue"},
		},
		{
			name: "smtp/starttls-220-then-late-garbage", kind: wire.KindTLS, dial: smtpStartTLS(lim, certs.pool),
			handler: func(c net.Conn) {
				p := newPeer(c)
				if p.smtpUntil("STARTTLS") {
					p.send("220 go ahead\r\n")
					time.Sleep(100 * time.Millisecond)
					p.send("this is not TLS \x1b[2J\r\n")
				}
				p.drain()
			},
			maxTime: 2*time.Second + 2*time.Second, want: []string{"220 go ahead", "TLS handshake failed"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runHostile(t, tc) })
	}
}

func runHostile(t *testing.T, tc hostileCase) {
	leak := goroutineGuard(t)
	srv := startServerTLS(t, tc.tls, tc.handler)
	ts := transcript.NewStore()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	var elapsed time.Duration
	run := func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("panic: %v", p)
			}
		}()
		start := time.Now()
		err = tc.dial(ctx, srv.addr(), ts)
		elapsed = time.Since(start)
	}
	if tc.memMax > 0 {
		total, inuse := memDelta(run)
		t.Logf("memory: TotalAlloc +%d bytes, HeapInuse %+d bytes (bound %d)", total, inuse, tc.memMax)
		if total > tc.memMax {
			t.Errorf("allocated %d bytes during the step, bound %d", total, tc.memMax)
		}
	} else {
		run()
	}
	if tc.kind == wire.KindNone {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
	} else {
		wantKind(t, err, tc.kind)
	}
	if tc.check != nil {
		tc.check(t, err)
	}
	checkErrInert(t, err)
	within(t, "step", elapsed, tc.minTime, tc.maxTime)
	checkInert(t, ts, tc.want...)
	srv.stop()
	leak()
}

func limitIs(limit string, max int64) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		le := asLimit(t, err, limit)
		if le.Max != max {
			t.Errorf("limit %d, want %d", le.Max, max)
		}
	}
}

func timeoutIs(wait string) func(*testing.T, error) {
	return func(t *testing.T, err error) { asTimeout(t, err, wait) }
}

// TestHostileCheckRunners drives the check runners (the code behind
// `mailflow check`) against hostile servers: each ends with a result that
// names the failure's kind instead of hanging or crashing.
func TestHostileCheckRunners(t *testing.T) {
	lim := fastLimits(1500 * time.Millisecond)
	cases := []struct {
		name     string
		proto    string
		handler  func(net.Conn)
		run      func(context.Context, check.Options) *check.Result
		wantKind string
	}{
		{"smtp/no-banner", "smtp", silent, check.RunSMTP, "timeout"},
		{"smtp/endless-continuation", "smtp", endlessCont(contLine), check.RunSMTP, "limit"},
		{"pop3/10MB-greeting", "pop3", bigLine("+OK "), check.RunPOP3, "limit"},
		{"imap/terabyte-literal", "imap", func(c net.Conn) {
			p := newPeer(c)
			p.send("* OK hostile\r\n")
			if l, ok := p.line(); ok {
				p.send("* CAPABILITY {1099511627776}\r\n" + strings.Fields(l)[0] + " OK done\r\n")
			}
			p.drain()
		}, check.RunIMAP, "limit"},
		{"imap/terminal-escapes", "imap", func(c net.Conn) {
			p := newPeer(c)
			p.send("* OK " + escapes + "\r\n")
			for {
				l, ok := p.line()
				if !ok {
					return
				}
				p.send("* BYE " + escapes + "\r\n" + strings.Fields(l + " x")[0] + " NO " + escapes + "\r\n")
			}
		}, check.RunIMAP, "refused-by-server"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leak := goroutineGuard(t)
			srv := startServer(t, tc.handler)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			res := tc.run(ctx, check.Options{Server: srv.addr(), Protocol: tc.proto, Limits: lim})
			within(t, "check", time.Since(start), 0, 6*time.Second)
			if res.ErrorKind != tc.wantKind {
				t.Errorf("ErrorKind %q (%s), want %q", res.ErrorKind, res.Error, tc.wantKind)
			}
			if res.Exit == check.ExitOK {
				t.Errorf("exit status OK for a failed check")
			}
			if i := controlByte([]byte(res.Error)); i >= 0 {
				t.Errorf("Result.Error holds a control byte: %q", res.Error)
			}
			checkInert(t, res.Transcript)
			srv.stop()
			leak()
		})
	}
}
