package hostile

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
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

const (
	secretUser = "kate"
	secretPass = "S3cret-Pa55word!"
)

// forbidden are the forms of the password that must appear nowhere: in
// clear, in base64 (AUTH LOGIN sends it so), and the base64 PLAIN payload
// (RFC 4616: authzid NUL authcid NUL passwd).
func forbidden() map[string]string {
	return map[string]string{
		"password":              secretPass,
		"base64 password":       base64.StdEncoding.EncodeToString([]byte(secretPass)),
		"base64 PLAIN payload":  base64.StdEncoding.EncodeToString([]byte("\x00" + secretUser + "\x00" + secretPass)),
		"PLAIN payload, no NUL": base64.StdEncoding.EncodeToString([]byte(secretUser + "\x00" + secretPass)),
		// The CRAM-MD5 digest allows an offline guess of the password
		// (RFC 2195 §4), so it is kept out too.
		"CRAM-MD5 digest": hex.EncodeToString(cramDigest()),
	}
}

// cramChallenge is the challenge smtpAuthServer sends (RFC 2195's own
// example).
const cramChallenge = "<1896.697170952@auth.test>"

func cramDigest() []byte {
	m := hmac.New(md5.New, []byte(secretPass))
	m.Write([]byte(cramChallenge))
	return m.Sum(nil)
}

// decode64 returns the base64 text decoded, or "".
func decode64(s string) string {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return ""
	}
	return string(b)
}

// smtpAuthServer offers PLAIN, LOGIN and CRAM-MD5 and accepts any
// credentials. With echo it repeats what it decoded in its replies, the
// way a careless server's error message might.
func smtpAuthServer(echo bool) func(net.Conn) {
	return func(c net.Conn) {
		p := newPeer(c)
		p.send("220 auth.test ESMTP\r\n")
		ok := func(got string) {
			if echo {
				p.send("235 2.7.0 welcome, you sent " + got + "\r\n")
			} else {
				p.send("235 2.7.0 ok\r\n")
			}
		}
		for {
			l, good := p.line()
			if !good {
				return
			}
			f := strings.Fields(strings.ToUpper(l) + " x x")
			switch {
			case f[0] == "EHLO":
				p.send("250-auth.test\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n250 8BITMIME\r\n")
			case f[0] == "AUTH" && f[1] == "PLAIN":
				arg := strings.Fields(l + " ")[2:]
				if len(arg) == 0 {
					p.send("334 \r\n")
					a, _ := p.line()
					arg = []string{a}
				}
				ok(decode64(arg[0]) + " " + arg[0])
			case f[0] == "AUTH" && f[1] == "LOGIN":
				p.send("334 VXNlcm5hbWU6\r\n")
				u, _ := p.line()
				p.send("334 UGFzc3dvcmQ6\r\n")
				pw, _ := p.line()
				ok(decode64(u) + " " + decode64(pw) + " " + pw)
			case f[0] == "AUTH" && f[1] == "CRAM-MD5":
				p.send("334 " + base64.StdEncoding.EncodeToString([]byte(cramChallenge)) + "\r\n")
				r, _ := p.line()
				ok(decode64(r))
			case f[0] == "QUIT":
				p.send("221 bye\r\n")
				return
			default:
				p.send("250 ok\r\n")
			}
		}
	}
}

func pop3AuthServer(echo bool) func(net.Conn) {
	return func(c net.Conn) {
		p := newPeer(c)
		p.send("+OK pop3.test ready\r\n")
		ok := func(got string) {
			if echo {
				p.send("+OK welcome, you sent " + got + "\r\n")
			} else {
				p.send("+OK logged in\r\n")
			}
		}
		for {
			l, good := p.line()
			if !good {
				return
			}
			f := strings.Fields(l + " x x")
			switch strings.ToUpper(f[0]) {
			case "CAPA":
				p.send("+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n")
			case "USER":
				p.send("+OK send PASS\r\n")
			case "PASS":
				ok(strings.TrimPrefix(l, "PASS "))
			case "AUTH":
				arg := f[2]
				if arg == "x" {
					p.send("+ \r\n")
					arg, _ = p.line()
				}
				ok(decode64(arg) + " " + arg)
			case "STAT":
				p.send("+OK 0 0\r\n")
			case "LIST":
				p.send("+OK\r\n.\r\n")
			case "QUIT":
				p.send("+OK bye\r\n")
				return
			default:
				p.send("-ERR unknown\r\n")
			}
		}
	}
}

func imapAuthServer(echo bool) func(net.Conn) {
	return func(c net.Conn) {
		p := newPeer(c)
		p.send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] imap.test ready\r\n")
		for {
			l, good := p.line()
			if !good {
				return
			}
			f := strings.Fields(l + " x x")
			tag := f[0]
			done := func(got string) {
				if echo {
					p.send(tag + " OK welcome, you sent " + got + "\r\n")
				} else {
					p.send(tag + " OK logged in\r\n")
				}
			}
			switch strings.ToUpper(f[1]) {
			case "CAPABILITY":
				p.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + " OK done\r\n")
			case "LOGIN":
				done(strings.Join(f[2:], " "))
			case "AUTHENTICATE":
				arg := f[3]
				if arg == "x" {
					p.send("+ \r\n")
					arg, _ = p.line()
				}
				done(decode64(arg) + " " + arg)
			case "LIST":
				p.send("* LIST () \"/\" INBOX\r\n" + tag + " OK done\r\n")
			case "SELECT", "EXAMINE":
				p.send("* 0 EXISTS\r\n" + tag + " OK [READ-WRITE] done\r\n")
			case "LOGOUT":
				p.send("* BYE bye\r\n" + tag + " OK done\r\n")
				return
			default:
				p.send(tag + " OK done\r\n")
			}
		}
	}
}

// sinks holds a store with a journal attached.
type sinks struct {
	ts      *transcript.Store
	journal *transcript.Journal
}

func newSinks(t *testing.T) *sinks {
	t.Helper()
	j, err := transcript.OpenJournal(t.TempDir(), "127.0.0.1", time.Now())
	if err != nil {
		t.Fatalf("OpenJournal: %v", err)
	}
	return &sinks{ts: transcript.NewStore(transcript.WithSink(j)), journal: j}
}

// searchAll fails when any form of the password appears in the store's
// entries, its three exports, the journal file or the extra texts.
func (s *sinks) searchAll(t *testing.T, extra map[string]string) {
	t.Helper()
	texts := map[string]string{}
	for k, v := range extra {
		texts[k] = v
	}
	for _, e := range s.ts.Entries() {
		r, _ := json.Marshal(e.Reply)
		texts["entry raw"] += string(e.Raw) + "\n"
		texts["entry annotation"] += e.Annotation + "\n"
		texts["entry reply"] += string(r) + "\n"
	}
	for f, b := range exports(t, s.ts) {
		texts[string(f)+" export"] = string(b)
	}
	if err := s.journal.Close(); err != nil {
		t.Fatalf("journal close: %v", err)
	}
	jb, err := os.ReadFile(s.journal.Path())
	if err != nil {
		t.Fatalf("read journal: %v", err)
	}
	if len(jb) == 0 || !bytes.Contains(jb, []byte(`"entry"`)) {
		t.Fatalf("journal %s holds no entries", s.journal.Path())
	}
	texts["journal"] = string(jb)
	if !strings.Contains(texts["text export"], "<redacted") {
		t.Errorf("text export shows no <redacted> marker: was a credential sent at all?\n%s", texts["text export"])
	}
	for where, text := range texts {
		for what, secret := range forbidden() {
			if strings.Contains(text, secret) {
				t.Errorf("%s found in %s: %s", what, where, clip([]byte(text)))
			}
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestSecretsNeverRecorded logs in with every mechanism mailflow speaks,
// against servers that do and do not echo the credentials back, and
// searches every output for the password.
func TestSecretsNeverRecorded(t *testing.T) {
	lim := fastLimits(3 * time.Second)
	type flow struct {
		name string
		// echoSafe marks the flows whose client registers the password
		// with the store's scrubber, so that a server echoing it back is
		// redacted too.
		echoSafe bool
		handler  func(echo bool) func(net.Conn)
		run      func(ctx context.Context, addr string, ts *transcript.Store) error
	}
	smtpAuth := func(mech string) func(ctx context.Context, addr string, ts *transcript.Store) error {
		return func(ctx context.Context, addr string, ts *transcript.Store) error {
			c, err := smtp.Dial(ctx, addr, smtp.Options{Transcript: ts, Limits: lim, LocalName: "client.test"})
			if err != nil {
				return err
			}
			defer c.Close()
			if _, err := c.Hello(ctx, ""); err != nil {
				return err
			}
			_, err = c.Auth(ctx, secretUser, secretPass, mech)
			return err
		}
	}
	flows := []flow{
		{"smtp/AUTH-PLAIN", true, smtpAuthServer, smtpAuth(smtp.MechPlain)},
		{"smtp/AUTH-LOGIN", true, smtpAuthServer, smtpAuth(smtp.MechLogin)},
		{"smtp/CRAM-MD5", true, smtpAuthServer, smtpAuth(smtp.MechCRAMMD5)},
		{"smtp/raw-AUTH-PLAIN", true, smtpAuthServer, func(ctx context.Context, addr string, ts *transcript.Store) error {
			// An engineer typing the PLAIN payload by hand in raw mode.
			c, err := smtp.Dial(ctx, addr, smtp.Options{Transcript: ts, Limits: lim})
			if err != nil {
				return err
			}
			defer c.Close()
			if _, err := c.Do(ctx, "EHLO client.test"); err != nil {
				return err
			}
			_, err = c.Do(ctx, "AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00"+secretUser+"\x00"+secretPass)))
			return err
		}},
		{"pop3/USER-PASS", true, pop3AuthServer, func(ctx context.Context, addr string, ts *transcript.Store) error {
			c, err := pop3.Dial(ctx, addr, wire.Options{Transcript: ts, Limits: lim})
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.User(ctx, secretUser); err != nil {
				return err
			}
			return c.Pass(ctx, secretPass)
		}},
		{"pop3/AUTH-PLAIN", true, pop3AuthServer, func(ctx context.Context, addr string, ts *transcript.Store) error {
			c, err := pop3.Dial(ctx, addr, wire.Options{Transcript: ts, Limits: lim})
			if err != nil {
				return err
			}
			defer c.Close()
			return c.AuthPlain(ctx, secretUser, secretPass)
		}},
		{"imap/LOGIN", true, imapAuthServer, func(ctx context.Context, addr string, ts *transcript.Store) error {
			c, err := imap.Dial(ctx, addr, wire.Options{Transcript: ts, Limits: lim})
			if err != nil {
				return err
			}
			defer c.Close()
			return c.Login(ctx, secretUser, secretPass)
		}},
		{"imap/AUTHENTICATE-PLAIN", true, imapAuthServer, func(ctx context.Context, addr string, ts *transcript.Store) error {
			c, err := imap.Dial(ctx, addr, wire.Options{Transcript: ts, Limits: lim})
			if err != nil {
				return err
			}
			defer c.Close()
			return c.AuthenticatePlain(ctx, secretUser, secretPass)
		}},
	}
	for _, f := range flows {
		for _, echo := range []bool{false, true} {
			if echo && !f.echoSafe {
				continue
			}
			name := f.name
			if echo {
				name += "/server-echoes"
			}
			t.Run(name, func(t *testing.T) {
				srv := startServer(t, f.handler(echo))
				s := newSinks(t)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err := f.run(ctx, srv.addr(), s.ts)
				if err != nil {
					t.Fatalf("login failed: %v", err)
				}
				s.searchAll(t, map[string]string{"error": errText(err)})
			})
		}
	}
}

// TestSecretsCheckRunners runs the check runners (what `mailflow check`
// does) with a password against servers that echo the credentials back,
// and searches the transcript, its exports, the journal, the error and
// the result's JSON for the password.
func TestSecretsCheckRunners(t *testing.T) {
	lim := fastLimits(3 * time.Second)
	cases := []struct {
		name    string
		proto   string
		mech    string
		handler func(net.Conn)
	}{
		{"smtp/PLAIN", "smtp", smtp.MechPlain, smtpAuthServer(true)},
		{"smtp/LOGIN", "smtp", smtp.MechLogin, smtpAuthServer(true)},
		{"smtp/CRAM-MD5", "smtp", smtp.MechCRAMMD5, smtpAuthServer(true)},
		{"pop3", "pop3", "", pop3AuthServer(true)},
		{"imap", "imap", "", imapAuthServer(true)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, tc.handler)
			s := newSinks(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res := check.Run(ctx, check.Options{Server: srv.addr(), Protocol: tc.proto, Limits: lim, Transcript: s.ts,
				User: secretUser, Password: secretPass, AuthMech: tc.mech})
			js, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			authed := false
			for _, st := range res.Steps {
				if (st.Name == "auth" || st.Name == "pass" || st.Name == "login" || st.Name == "authenticate") && st.OK {
					authed = true
				}
			}
			if !authed {
				t.Fatalf("no successful login step: %s", js)
			}
			s.searchAll(t, map[string]string{"result JSON": string(js), "result error": res.Error})
		})
	}
}

// TestTLSVerifyNeverFallsBack checks that a certificate from an unknown
// CA ends the session with a verification error, for implicit TLS and
// for STARTTLS, unless Insecure is set; and that an insecure session is
// flagged in the transcript and in the TLS facts.
func TestTLSVerifyNeverFallsBack(t *testing.T) {
	lim := fastLimits(3 * time.Second)
	served := newPKI(t, "server")
	trusted := newPKI(t, "other") // the client trusts a different CA
	starttls := func(c net.Conn) {
		p := newPeer(c)
		if !p.smtpUntil("STARTTLS") {
			return
		}
		p.send("220 go ahead\r\n")
		tc := tls.Server(c, served.serverConfig())
		if tc.Handshake() != nil {
			return
		}
		p = newPeer(tc)
		for {
			l, ok := p.line()
			if !ok {
				return
			}
			switch strings.ToUpper(strings.Fields(l + " x")[0]) {
			case "EHLO":
				p.send("250-tls.test\r\n250 AUTH PLAIN\r\n")
			case "QUIT":
				p.send("221 bye\r\n")
				return
			default:
				p.send("250 ok\r\n")
			}
		}
	}
	implicit := func(c net.Conn) {
		p := newPeer(c)
		if p.smtpUntil("QUIT") {
			p.send("221 bye\r\n")
		}
	}
	for _, mode := range []string{"implicit", "starttls"} {
		for _, insecure := range []bool{false, true} {
			name := mode + map[bool]string{false: "/verify", true: "/insecure"}[insecure]
			t.Run(name, func(t *testing.T) {
				var srv *server
				tlsMode := wire.TLSImplicit
				if mode == "implicit" {
					srv = startServerTLS(t, served.serverConfig(), implicit)
				} else {
					srv = startServer(t, starttls)
					tlsMode = wire.TLSStartTLS
				}
				ts := transcript.NewStore()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				res := check.RunSMTP(ctx, check.Options{Server: srv.addr(), Protocol: "smtp", TLS: tlsMode, Limits: lim, Transcript: ts,
					TLSOptions: wire.TLSOptions{RootCAs: trusted.pool, Insecure: insecure}})
				text := string(exports(t, ts)[transcript.FormatText])
				if !insecure {
					if res.ErrorKind != string(wire.KindTLSVerify) || res.Exit == check.ExitOK {
						t.Fatalf("ErrorKind %q exit %d (%s), want %q and a failure", res.ErrorKind, res.Exit, res.Error, wire.KindTLSVerify)
					}
					if !strings.Contains(text, "verification failed (unknown-authority)") {
						t.Fatalf("transcript does not name the verification failure:\n%s", text)
					}
					// For implicit TLS smtp.Dial returns no client on a
					// failed handshake; the check keeps the verdict from
					// the verification error.
					if res.TLS == nil || res.TLS.Verified || res.TLS.VerifyReason != "unknown-authority" {
						t.Fatalf("TLS facts %+v, want unverified with reason unknown-authority", res.TLS)
					}
					for _, e := range ts.Entries() {
						if e.Secure && e.Dir == transcript.Client {
							t.Fatalf("a line was sent inside the unverified session: %q", e.Raw)
						}
					}
					return
				}
				if res.Exit != check.ExitOK {
					t.Fatalf("insecure check failed: %s (%s)", res.Error, res.ErrorKind)
				}
				if res.TLS == nil || !res.TLS.Insecure || res.TLS.Verified {
					t.Fatalf("TLS facts %+v, want Insecure and not Verified", res.TLS)
				}
				flagged := false
				for _, e := range ts.Entries() {
					if e.Dir == transcript.Note && e.Level == transcript.Warning && e.Proto == "tls" {
						flagged = true
					}
				}
				if !flagged || !strings.Contains(strings.ToLower(text), "insecure") {
					t.Fatalf("insecure session not flagged with a TLS warning in the transcript:\n%s", text)
				}
			})
		}
	}
}

// TestNoPasswordFlag builds the mailflow binary and checks that a
// password on the command line is refused as a usage error (exit 2)
// without echoing the value: command lines are visible to every user of
// the machine (ps, /proc) and end up in shell history.
func TestNoPasswordFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "mailflow")
	build := exec.Command("go", "build", "-o", bin, "github.com/mailflow/mailflow/cmd/mailflow")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"check", "--server", "127.0.0.1:1", "--user", "kate", "--password", secretPass},
		{"check", "--server", "127.0.0.1:1", "--user", "kate", "--password=" + secretPass},
		{"check", "--password", secretPass, "--server", "127.0.0.1:1"},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "MAILFLOW_PASSWORD=", "NO_COLOR=1", "HOME="+t.TempDir())
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Fatalf("mailflow %q: %v, want exit status 2\n%s%s", args, err, stdout.String(), stderr.String())
		}
		all := stdout.String() + stderr.String()
		if !strings.Contains(all, "unknown flag: --password") {
			t.Errorf("mailflow %q did not report the unknown flag:\n%s", args, all)
		}
		if strings.Contains(all, secretPass) {
			t.Errorf("mailflow %q echoed the password:\n%s", args, all)
		}
	}
}
