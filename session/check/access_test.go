package check

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/mailflow/mailflow/internal/realpeers"
	"github.com/mailflow/mailflow/session/wire"

	"github.com/mailflow/mailflow/internal/peertest"
)

// accessPeer serves one connection: it sends greeting, then answers each
// command line with reply(line), which returns the lines to send (nil
// ends the conversation, and so does a nil reply). The peer's Lines are
// what it received.
func accessPeer(t *testing.T, greeting string, reply func(line string) []string) (string, *peertest.Peer) {
	t.Helper()
	return peertest.Start(t, func(p *peertest.Peer) {
		p.Send(greeting)
		for {
			l, ok := p.Next()
			if !ok || reply == nil {
				return
			}
			out := reply(l)
			if out == nil {
				return
			}
			p.Send(out...)
		}
	})
}

func pop3Script(pass string) func(string) []string {
	return func(l string) []string {
		switch {
		case l == "CAPA":
			return []string{"+OK", "USER", "RESP-CODES", "UIDL", "."}
		case strings.HasPrefix(l, "USER "):
			return []string{"+OK"}
		case strings.HasPrefix(l, "PASS "):
			if l == "PASS "+pass {
				return []string{"+OK Logged in."}
			}
			return []string{"-ERR [AUTH] Authentication failed."}
		case l == "STAT":
			return []string{"+OK 1 100"}
		case l == "LIST":
			return []string{"+OK", "1 100", "."}
		case l == "QUIT":
			return []string{"+OK Bye"}
		}
		return []string{"-ERR unknown"}
	}
}

func TestRunPOP3Scripted(t *testing.T) {
	ctx := context.Background()
	t.Run("success", func(t *testing.T) {
		addr, peer := accessPeer(t, "+OK ready", pop3Script("s3cret"))
		r := RunPOP3(ctx, Options{Server: addr, User: "kate", Password: "s3cret"})
		if r.Exit != ExitOK || !r.OK() {
			t.Fatalf("Exit %d, error %q", r.Exit, r.Error)
		}
		if got, want := stepNames(r), "connect,capa,user,pass,stat,list,quit"; got != want {
			t.Fatalf("steps = %s, want %s", got, want)
		}
		if s := r.Steps[3]; s.Command != "PASS <redacted>" || s.ReplyCode != "+OK" {
			t.Errorf("pass step = %+v", s)
		}
		if s := r.Steps[5]; len(s.Reply) != 3 || s.Reply[1] != "1 100" {
			t.Errorf("list step reply = %q", s.Reply)
		}
		if len(r.CapsBefore) != 3 {
			t.Errorf("CapsBefore = %q", r.CapsBefore)
		}
		for _, e := range r.Transcript.Entries() {
			if strings.Contains(string(e.Raw), "s3cret") {
				t.Errorf("password in transcript: %q", e.Raw)
			}
		}
		if lines := peer.Lines(); !strings.Contains(strings.Join(lines, "\n"), "PASS s3cret") {
			t.Errorf("server got %q", lines)
		}
	})
	t.Run("login refused", func(t *testing.T) {
		addr, _ := accessPeer(t, "+OK ready", pop3Script("right"))
		r := RunPOP3(ctx, Options{Server: addr, User: "kate", Password: "wrong"})
		if r.Exit != ExitRefused || r.ErrorKind != KindServerRefused {
			t.Fatalf("Exit %d kind %q error %q", r.Exit, r.ErrorKind, r.Error)
		}
		if got, want := stepNames(r), "connect,capa,user,pass(failed),quit,stat(skipped),list(skipped)"; got != want {
			t.Fatalf("steps = %s, want %s", got, want)
		}
		if s := r.Steps[3]; s.EnhancedCode != "AUTH" || s.ErrKind != KindServerRefused {
			t.Errorf("pass step = %+v", s)
		}
		// Called directly, not through Run, the result still carries
		// the explanation and the time taken.
		if r.Explanation == nil || r.ElapsedMs <= 0 {
			t.Errorf("explanation %+v, elapsed %v", r.Explanation, r.ElapsedMs)
		}
	})
	t.Run("STLS not offered", func(t *testing.T) {
		addr, peer := accessPeer(t, "+OK ready", pop3Script("x"))
		r := RunPOP3(ctx, Options{Server: addr, TLS: wire.TLSStartTLS})
		if r.Exit != ExitRefused || r.ErrorKind != KindNotOffered {
			t.Fatalf("Exit %d kind %q error %q", r.Exit, r.ErrorKind, r.Error)
		}
		if strings.Contains(strings.Join(peer.Lines(), "\n"), "STLS") {
			t.Error("STLS sent although not offered")
		}
	})
	t.Run("greeting refused", func(t *testing.T) {
		addr, _ := accessPeer(t, "-ERR [SYS/TEMP] too busy", nil)
		r := RunPOP3(ctx, Options{Server: addr})
		if r.Exit != ExitRefused || len(r.Steps) == 0 || r.Steps[0].ReplyCode != "-ERR" || r.Steps[0].EnhancedCode != "SYS/TEMP" {
			t.Fatalf("Exit %d, steps %+v", r.Exit, r.Steps)
		}
	})
}

func imapScript(l string) []string {
	tag, rest, _ := strings.Cut(l, " ")
	switch {
	case rest == "CAPABILITY":
		return []string{"* CAPABILITY IMAP4rev1 AUTH=PLAIN", tag + " OK done"}
	case strings.HasPrefix(rest, "LOGIN "):
		if strings.HasSuffix(rest, `"s3cret"`) {
			return []string{tag + " OK Logged in"}
		}
		return []string{tag + " NO [AUTHENTICATIONFAILED] Authentication failed."}
	case strings.HasPrefix(rest, "LIST "):
		return []string{`* LIST (\HasNoChildren) "." INBOX`, tag + " OK List completed"}
	case rest == "SELECT INBOX":
		return []string{"* 2 EXISTS", "* OK [UIDVALIDITY 7] ok", tag + " OK [READ-WRITE] Select completed"}
	case rest == "LOGOUT":
		return []string{"* BYE bye", tag + " OK Logout completed"}
	}
	return []string{tag + " BAD unknown"}
}

func TestRunIMAPScripted(t *testing.T) {
	ctx := context.Background()
	t.Run("success", func(t *testing.T) {
		addr, _ := accessPeer(t, "* OK ready", imapScript)
		r := RunIMAP(ctx, Options{Server: addr, User: "kate", Password: "s3cret"})
		if r.Exit != ExitOK || !r.OK() {
			t.Fatalf("Exit %d, error %q", r.Exit, r.Error)
		}
		if got, want := stepNames(r), "connect,capability,login,list,select,logout"; got != want {
			t.Fatalf("steps = %s, want %s", got, want)
		}
		if s := r.Steps[2]; s.Command != "a002 LOGIN kate <redacted>" || s.ReplyCode != "OK" {
			t.Errorf("login step = %+v", s)
		}
		if s := r.Steps[4]; s.EnhancedCode != "READ-WRITE" || len(s.Reply) != 3 {
			t.Errorf("select step = %+v", s)
		}
	})
	t.Run("login refused", func(t *testing.T) {
		addr, _ := accessPeer(t, "* OK ready", imapScript)
		r := RunIMAP(ctx, Options{Server: addr, User: "kate", Password: "wrong"})
		if r.Exit != ExitRefused || r.ErrorKind != KindServerRefused {
			t.Fatalf("Exit %d kind %q error %q", r.Exit, r.ErrorKind, r.Error)
		}
		if got, want := stepNames(r), "connect,capability,login(failed),logout,list(skipped),select(skipped)"; got != want {
			t.Fatalf("steps = %s, want %s", got, want)
		}
	})
	t.Run("PREAUTH skips login", func(t *testing.T) {
		addr, peer := accessPeer(t, "* PREAUTH logged in", imapScript)
		r := RunIMAP(ctx, Options{Server: addr, User: "kate", Password: "s3cret"})
		if r.Exit != ExitOK {
			t.Fatalf("Exit %d error %q", r.Exit, r.Error)
		}
		if strings.Contains(strings.Join(peer.Lines(), "\n"), "LOGIN") {
			t.Error("LOGIN sent after PREAUTH")
		}
		if got, want := stepNames(r), "connect,capability,list,select,logout"; got != want {
			t.Fatalf("steps = %s, want %s", got, want)
		}
	})
	t.Run("BYE greeting", func(t *testing.T) {
		addr, _ := accessPeer(t, "* BYE [UNAVAILABLE] maintenance", nil)
		r := RunIMAP(ctx, Options{Server: addr})
		if r.Exit != ExitRefused || r.Steps[0].ReplyCode != "BYE" {
			t.Fatalf("Exit %d steps %+v", r.Exit, r.Steps)
		}
	})
}

func TestRunAccessUsageAndUnreachable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	for _, run := range []Runner{RunPOP3, RunIMAP} {
		tests := []struct {
			opts Options
			exit int
		}{
			{Options{}, ExitUsage},
			{Options{Server: "bad host:110"}, ExitUsage},
			{Options{Server: "127.0.0.1:1", User: "kate"}, ExitUsage},
			{Options{Server: "127.0.0.1:1", User: "kate", Password: "a\r\nb"}, ExitUsage},
			{Options{Server: closed}, ExitUnreachable},
		}
		for _, tt := range tests {
			r := run(context.Background(), tt.opts)
			if r.Exit != tt.exit {
				t.Errorf("%s %+v: exit %d (%s), want %d", r.Protocol, tt.opts, r.Exit, r.Error, tt.exit)
			}
		}
	}
	if r := Run(context.Background(), Options{Protocol: "imap", Server: closed}); r.Exit != ExitUnreachable || r.Protocol != "imap" {
		t.Errorf("Run(imap) not registered: %+v", r)
	}
}

func TestRealDovecotChecks(t *testing.T) {
	m := realpeers.Postfix(t)
	m.LogOnFailure(t)
	tlsOpts := wire.TLSOptions{CAFile: m.CAFile}
	ctx := context.Background()
	user, pass := "kate", m.Users["kate"]
	tests := []struct {
		name   string
		run    Runner
		opts   Options
		exit   int
		kind   string
		steps  string
		secure bool
	}{
		{"pop3 stls", RunPOP3, Options{Server: m.POP3, TLS: wire.TLSStartTLS, TLSOptions: tlsOpts, User: user, Password: pass}, ExitOK, "",
			"connect,capa,stls,capa,user,pass,stat,list,quit", true},
		{"pop3s", RunPOP3, Options{Server: m.POP3S, TLS: wire.TLSImplicit, TLSOptions: tlsOpts, User: user, Password: pass}, ExitOK, "",
			"connect,capa,user,pass,stat,list,quit", true},
		{"imap starttls", RunIMAP, Options{Server: m.IMAP, TLS: wire.TLSStartTLS, TLSOptions: tlsOpts, User: user, Password: pass}, ExitOK, "",
			"connect,capability,starttls,capability,login,list,select,logout", true},
		{"imaps", RunIMAP, Options{Server: m.IMAPS, TLS: wire.TLSImplicit, TLSOptions: tlsOpts, User: user, Password: pass}, ExitOK, "",
			"connect,capability,login,list,select,logout", true},
		{"imaps unknown CA", RunIMAP, Options{Server: m.IMAPS, TLS: wire.TLSImplicit, User: user, Password: pass}, ExitRefused, string(wire.KindTLSVerify),
			"connect(failed),capability(skipped),login(skipped),list(skipped),select(skipped),logout(skipped)", false},
		{"imap wrong password", RunIMAP, Options{Server: m.IMAP, User: user, Password: "wrong-password"}, ExitRefused, KindServerRefused,
			"connect,capability,login(failed),logout,list(skipped),select(skipped)", false},
		// From 127.0.0.2 Dovecot does not count the connection as secure
		// and announces LOGINDISABLED: the check says so without trying.
		{"imap plaintext refused", RunIMAP, Options{Server: m.IMAP, User: user, Password: pass, Dialer: &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}}, ExitRefused, KindNotOffered,
			"connect,capability,logout,login(skipped),list(skipped),select(skipped)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.run(ctx, tt.opts)
			if r.Exit != tt.exit || r.ErrorKind != tt.kind {
				t.Fatalf("Exit %d kind %q error %q; want %d %q", r.Exit, r.ErrorKind, r.Error, tt.exit, tt.kind)
			}
			if got := stepNames(r); got != tt.steps {
				t.Errorf("steps = %s\nwant    %s", got, tt.steps)
			}
			if tt.secure && (r.TLS == nil || !r.TLS.Verified) {
				t.Errorf("TLS = %+v", r.TLS)
			}
			for _, e := range r.Transcript.Entries() {
				if strings.Contains(string(e.Raw), pass) || strings.Contains(string(e.Raw), "wrong-password") {
					t.Errorf("password in transcript: %q", e.Raw)
				}
			}
		})
	}
}
