package hostile

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailflow/mailflow/diag/addr"
	"github.com/mailflow/mailflow/session/check"
	"github.com/mailflow/mailflow/session/imap"
	"github.com/mailflow/mailflow/session/pop3"
	"github.com/mailflow/mailflow/session/smtp"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// injections are the characters that would end a command line early
// (CR, LF: command smuggling) or truncate it (NUL).
var injections = []struct{ name, s string }{
	{"CR", "\r"}, {"LF", "\n"}, {"CRLF", "\r\n"}, {"NUL", "\x00"},
}

// TestAddrRefusesControlAndOverlong checks address and domain validation
// with user input: control characters, over-long parts, look-alike
// domains and host:port forms.
func TestAddrRefusesControlAndOverlong(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	longDomain := strings.Repeat(long(63)+".", 4) + "com" // 259 bytes
	for _, in := range injections {
		for _, tc := range []struct{ field, value string }{
			{"address", "kate" + in.s + "RCPT TO:<x@evil.test>@example.com"},
			{"address-domain", "kate@example.com" + in.s + "RSET"},
			{"domain", "example.com" + in.s + "evil.test"},
		} {
			t.Run(in.name+"/"+tc.field, func(t *testing.T) {
				var err error
				if strings.HasPrefix(tc.field, "address") {
					_, err = addr.ParseAddress(tc.value)
				} else {
					_, err = addr.ParseDomain(tc.value)
				}
				if !errors.Is(err, addr.ErrControl) {
					t.Fatalf("parse %q: %v, want ErrControl", tc.value, err)
				}
				if controlByte([]byte(err.Error())) >= 0 {
					t.Errorf("error message echoes the control character: %q", err.Error())
				}
				if addr.CheckArg(tc.value) == nil {
					t.Errorf("CheckArg(%q) accepted it", tc.value)
				}
			})
		}
	}
	for _, tc := range []struct {
		name, in string
		want     error
		domain   bool
	}{
		{"local-part-65", long(65) + "@example.com", addr.ErrTooLong, false},
		{"address-255", long(64) + "@" + strings.Repeat(long(60)+".", 3) + long(20) + ".com", addr.ErrTooLong, false},
		{"label-64", long(64) + ".com", addr.ErrTooLong, true},
		{"domain-259", longDomain, addr.ErrTooLong, true},
		{"empty", "", addr.ErrEmpty, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.domain {
				_, err = addr.ParseDomain(tc.in)
			} else {
				_, err = addr.ParseAddress(tc.in)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("parse %d bytes: %v, want %v", len(tc.in), err, tc.want)
			}
		})
	}
	// Look-alike domains: the A-label is what goes on the wire and what
	// must be shown next to the Unicode form.
	for _, tc := range []struct{ in, ascii string }{
		{"pаypal.com", "xn--pypal-4ve.com"},         // Cyrillic а
		{"аррӏе.com", "xn--80ak6aa92e.com"},         // all Cyrillic
		{"bücher.example", "xn--bcher-kva.example"}, // a real IDN, not confusable
	} {
		t.Run("idn/"+tc.ascii, func(t *testing.T) {
			d, err := addr.ParseDomain(tc.in)
			if err != nil {
				t.Fatalf("ParseDomain(%q): %v", tc.in, err)
			}
			if d.ASCII != tc.ascii {
				t.Errorf("ASCII %q, want %q", d.ASCII, tc.ascii)
			}
			wantConfusable := !strings.Contains(tc.in, "ü")
			if d.Confusable != wantConfusable {
				t.Errorf("Confusable %v, want %v", d.Confusable, wantConfusable)
			}
		})
	}
	for _, tc := range []struct {
		in   string
		host string
		port int
		err  error
	}{
		{"mx.example.com", "mx.example.com", 25, nil},
		{"mx.example.com:587", "mx.example.com", 587, nil},
		{"[2001:db8::1]:465", "2001:db8::1", 465, nil},
		{"[2001:db8::1]", "2001:db8::1", 25, nil},
		{"2001:db8::1", "2001:db8::1", 25, nil},
		{"[::1]:0", "", 0, addr.ErrPort},
		{"mx.example.com:65536", "", 0, addr.ErrPort},
		{"mx.example.com:-1", "", 0, addr.ErrPort},
		{"mx.example.com:99999999999999999999", "", 0, addr.ErrPort},
		{"mx.example.com:smtp", "", 0, addr.ErrPort},
		{"[2001:db8::1:25", "", 0, addr.ErrBrackets},
		{"mx.example.com\r\n:25", "", 0, addr.ErrControl},
	} {
		t.Run("hostport/"+transcript.PrintableString(tc.in), func(t *testing.T) {
			h, p, err := addr.ParseHostPort(tc.in, 25)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("ParseHostPort(%q) = %q, %d, %v; want %v", tc.in, h, p, err, tc.err)
				}
				if controlByte([]byte(err.Error())) >= 0 {
					t.Errorf("error message echoes a control character: %q", err.Error())
				}
				return
			}
			if err != nil || h != tc.host || p != tc.port {
				t.Fatalf("ParseHostPort(%q) = %q, %d, %v; want %q, %d", tc.in, h, p, err, tc.host, tc.port)
			}
		})
	}
}

// counter is a server that counts the lines it receives after the
// greeting and answers each with ok.
type counter struct{ lines atomic.Int64 }

func (k *counter) smtp(c net.Conn) {
	p := newPeer(c)
	p.send("220 count.test ESMTP\r\n")
	for {
		l, ok := p.line()
		if !ok {
			return
		}
		k.lines.Add(1)
		if strings.HasPrefix(strings.ToUpper(l), "EHLO") {
			p.send("250-count.test\r\n250 SMTPUTF8\r\n")
		} else {
			p.send("250 ok\r\n")
		}
	}
}

func (k *counter) pop3(c net.Conn) {
	p := newPeer(c)
	p.send("+OK count.test\r\n")
	for {
		if _, ok := p.line(); !ok {
			return
		}
		k.lines.Add(1)
		p.send("+OK\r\n")
	}
}

func (k *counter) imap(c net.Conn) {
	p := newPeer(c)
	p.send("* OK count.test\r\n")
	for {
		l, ok := p.line()
		if !ok {
			return
		}
		k.lines.Add(1)
		p.send(strings.Fields(l + " x")[0] + " OK done\r\n")
	}
}

// TestClientsRefuseInjection sends CR, LF and NUL in every field a user
// fills in, through the typed helpers and raw mode of each client, and
// checks that each is refused as an input error before anything reaches
// the server.
func TestClientsRefuseInjection(t *testing.T) {
	lim := fastLimits(3 * time.Second)
	ctx := context.Background()
	k := &counter{}
	smtpSrv := startServer(t, k.smtp)
	pop3Srv := startServer(t, k.pop3)
	imapSrv := startServer(t, k.imap)
	for _, in := range injections {
		bad := "x" + in.s + "QUIT"
		calls := []struct {
			field string
			call  func() error
		}{
			{"smtp/helo", func() error {
				c, err := smtp.Dial(ctx, smtpSrv.addr(), smtp.Options{Limits: lim})
				if err != nil {
					return err
				}
				defer c.Close()
				_, err = c.Hello(ctx, "client"+in.s+".test")
				return err
			}},
			{"smtp/mail", func() error {
				c, err := smtp.Dial(ctx, smtpSrv.addr(), smtp.Options{Limits: lim})
				if err != nil {
					return err
				}
				defer c.Close()
				_, err = c.Mail(ctx, "a"+in.s+"@example.com", nil)
				return err
			}},
			{"smtp/rcpt", func() error {
				c, err := smtp.Dial(ctx, smtpSrv.addr(), smtp.Options{Limits: lim})
				if err != nil {
					return err
				}
				defer c.Close()
				_, err = c.Rcpt(ctx, "b@example.com"+in.s, nil)
				return err
			}},
			{"smtp/auth-user", func() error {
				c, err := smtp.Dial(ctx, smtpSrv.addr(), smtp.Options{Limits: lim})
				if err != nil {
					return err
				}
				defer c.Close()
				_, err = c.Auth(ctx, bad, "password", smtp.MechPlain)
				return err
			}},
			{"smtp/raw", func() error {
				c, err := smtp.Dial(ctx, smtpSrv.addr(), smtp.Options{Limits: lim})
				if err != nil {
					return err
				}
				defer c.Close()
				_, err = c.Do(ctx, "NOOP"+in.s+"RSET")
				return err
			}},
			{"pop3/user", func() error {
				c, err := pop3.Dial(ctx, pop3Srv.addr(), wire.Options{Limits: lim})
				if err != nil {
					return err
				}
				defer c.Close()
				return c.User(ctx, bad)
			}},
			{"pop3/pass", func() error {
				c, err := pop3.Dial(ctx, pop3Srv.addr(), wire.Options{Limits: lim})
				if err != nil {
					return err
				}
				defer c.Close()
				return c.Pass(ctx, bad)
			}},
			{"pop3/raw", func() error {
				c, err := pop3.Dial(ctx, pop3Srv.addr(), wire.Options{Limits: lim})
				if err != nil {
					return err
				}
				defer c.Close()
				_, err = c.Do(ctx, "NOOP"+in.s+"DELE 1")
				return err
			}},
			// A user name with CR or LF is refused (no server takes
			// one); a password or mailbox name with CR or LF goes as a
			// literal, which is legal (RFC 9051 §4.3), so only NUL is
			// refused there (see below).
			{"imap/login-user", func() error {
				c, err := imap.Dial(ctx, imapSrv.addr(), wire.Options{Limits: lim})
				if err != nil {
					return err
				}
				defer c.Close()
				return c.Login(ctx, bad, "password")
			}},
			{"imap/authenticate-user", func() error {
				c, err := imap.Dial(ctx, imapSrv.addr(), wire.Options{Limits: lim})
				if err != nil {
					return err
				}
				defer c.Close()
				return c.AuthenticatePlain(ctx, bad, "password")
			}},
			{"imap/raw", func() error {
				c, err := imap.Dial(ctx, imapSrv.addr(), wire.Options{Limits: lim})
				if err != nil {
					return err
				}
				defer c.Close()
				_, err = c.Do(ctx, "a1 NOOP"+in.s+"a2 LOGOUT")
				return err
			}},
		}
		if in.s == "\x00" {
			// RFC 9051 §4.3: no NUL anywhere, not even in a literal.
			calls = append(calls, []struct {
				field string
				call  func() error
			}{
				{"imap/login-password", func() error {
					c, err := imap.Dial(ctx, imapSrv.addr(), wire.Options{Limits: lim})
					if err != nil {
						return err
					}
					defer c.Close()
					return c.Login(ctx, "kate", bad)
				}},
				{"imap/select", func() error {
					c, err := imap.Dial(ctx, imapSrv.addr(), wire.Options{Limits: lim})
					if err != nil {
						return err
					}
					defer c.Close()
					_, err = c.Select(ctx, bad)
					return err
				}},
				{"imap/list", func() error {
					c, err := imap.Dial(ctx, imapSrv.addr(), wire.Options{Limits: lim})
					if err != nil {
						return err
					}
					defer c.Close()
					_, err = c.List(ctx, "", bad)
					return err
				}},
			}...)
		}
		for _, tc := range calls {
			t.Run(in.name+"/"+tc.field, func(t *testing.T) {
				before := k.lines.Load()
				err := tc.call()
				if err == nil {
					t.Fatal("accepted")
				}
				if got := wire.Classify(err); got != wire.KindInput {
					t.Errorf("Classify(%v) = %q, want %q", err, got, wire.KindInput)
				}
				checkErrInert(t, err)
				if n := k.lines.Load() - before; n != 0 {
					t.Errorf("the server received %d lines", n)
				}
			})
		}
	}
}

// TestCheckRefusesInjection checks the check runner's own input
// validation: every field refused with a usage error, nothing sent.
func TestCheckRefusesInjection(t *testing.T) {
	k := &counter{}
	srv := startServer(t, k.smtp)
	base := check.Options{Server: srv.addr(), Protocol: "smtp", Limits: fastLimits(3 * time.Second)}
	for _, in := range injections {
		for _, tc := range []struct {
			field string
			set   func(o *check.Options)
		}{
			{"helo", func(o *check.Options) { o.Helo = "client" + in.s + ".test" }},
			{"from", func(o *check.Options) { o.From = "a" + in.s + "@example.com" }},
			{"to", func(o *check.Options) { o.To = []string{"b@example.com" + in.s} }},
			// A CR/LF in the subject would add a header to the test
			// message; in the user name it would split AUTH.
			{"subject", func(o *check.Options) {
				o.Send, o.From, o.To = true, "a@example.com", []string{"b@example.com"}
				o.Subject = "hi" + in.s + "Bcc: x@evil.test"
			}},
			{"user", func(o *check.Options) { o.User, o.Password = "kate"+in.s+"QUIT", "S3cret-Pa55word!" }},
			{"auth-mech", func(o *check.Options) {
				o.User, o.Password, o.AuthMech = "kate", "S3cret-Pa55word!", "PLAIN"+in.s+"QUIT"
			}},
			{"server", func(o *check.Options) { o.Server = "127.0.0.1" + in.s + ":25" }},
		} {
			t.Run(in.name+"/"+tc.field, func(t *testing.T) {
				o := base
				tc.set(&o)
				before := k.lines.Load()
				res := check.Run(context.Background(), o)
				if res.Exit != check.ExitUsage {
					t.Errorf("exit %d (%s: %s), want the usage status %d", res.Exit, res.ErrorKind, res.Error, check.ExitUsage)
				}
				if controlByte([]byte(res.Error)) >= 0 {
					t.Errorf("error echoes a control character: %q", res.Error)
				}
				if n := k.lines.Load() - before; n != 0 {
					t.Errorf("the server received %d lines", n)
				}
			})
		}
	}
}
