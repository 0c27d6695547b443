package smtp

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/mailflow/mailflow/internal/peertest"
	"github.com/mailflow/mailflow/internal/transcripttest"
)

// TestAuthEchoScrubbed logs in, typed and in raw mode, against a server
// that echoes back everything it received (decoded and as sent), the way
// a careless server's error text might. Every form of the credentials
// must be registered with the transcript's scrubber before it is sent, so
// that the echo is recorded redacted.
func TestAuthEchoScrubbed(t *testing.T) {
	const (
		// A five-letter user name keeps the PLAIN payload from being
		// "base64(NUL user NUL)" followed by base64(password), which the
		// password's own registration would catch by accident.
		user      = "k.ate"
		pw        = "Echo-Me-S3cret"
		challenge = "<1896.697170952@postoffice.example.net>"
	)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	m := hmac.New(md5.New, []byte(pw))
	m.Write([]byte(challenge))
	digest := hex.EncodeToString(m.Sum(nil))
	forms := map[string]string{
		"password":             pw,
		"base64 password":      b64(pw),
		"PLAIN payload":        b64("\x00" + user + "\x00" + pw),
		"CRAM-MD5 digest":      digest,
		"CRAM-MD5 response":    b64(user + " " + digest),
		"PLAIN payload no NUL": b64(user + "\x00" + pw),
	}
	dec := func(s string) string {
		b, _ := base64.StdEncoding.DecodeString(s)
		return strings.ReplaceAll(string(b), "\x00", " ")
	}
	// echo answers the last SASL response with a 235 that repeats it.
	echo := func(p *peertest.Peer, l string) { p.Send("235 2.7.0 welcome " + dec(l) + " / " + l) }
	plain := func(p *peertest.Peer) {
		l := p.Expect("AUTH PLAIN *")
		echo(p, strings.TrimPrefix(l, "AUTH PLAIN "))
	}
	login := func(p *peertest.Peer) {
		p.Expect("AUTH LOGIN")
		p.Send("334 VXNlcm5hbWU6")
		p.Expect(b64(user))
		p.Send("334 UGFzc3dvcmQ6")
		echo(p, p.Expect(b64(pw)))
	}
	cram := func(p *peertest.Peer) {
		p.Expect("AUTH CRAM-MD5")
		p.Send("334 " + b64(challenge))
		l := p.Expect(b64(user + " " + digest))
		p.Send("235 2.7.0 welcome " + dec(l) + " / " + l + " / " + b64(digest))
	}
	tests := []struct {
		name   string
		script func(p *peertest.Peer)
		raw    []string // lines typed in raw mode; nil means typed Auth
		mech   string
	}{
		{"typed/PLAIN", plain, nil, MechPlain},
		{"typed/LOGIN", login, nil, MechLogin},
		{"typed/CRAM-MD5", cram, nil, MechCRAMMD5},
		{"raw/PLAIN", plain, []string{"AUTH PLAIN " + b64("\x00"+user+"\x00"+pw)}, ""},
		{"raw/LOGIN", login, []string{"AUTH LOGIN", b64(user), b64(pw)}, ""},
		{"raw/CRAM-MD5", cram, []string{"AUTH CRAM-MD5", b64(user + " " + digest)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, _ := peertest.Start(t, func(p *peertest.Peer) {
				greetEHLO(p, "AUTH PLAIN LOGIN CRAM-MD5")
				tt.script(p)
			})
			c, ts := dial(t, addr, Options{})
			if _, err := c.Hello(ctx, "client.test"); err != nil {
				t.Fatal(err)
			}
			var r Reply
			var err error
			if tt.raw == nil {
				r, err = c.Auth(ctx, user, pw, tt.mech)
			} else {
				for _, l := range tt.raw {
					if r, err = c.Do(ctx, l); err != nil {
						break
					}
				}
			}
			if err != nil || r.Code != 235 {
				t.Fatalf("auth = %v, %v", r, err)
			}
			all := transcripttest.Text(ts)
			if !strings.Contains(all, "welcome") {
				t.Fatalf("the echo was not recorded:\n%s", all)
			}
			// The reply handed back (and the exchanges, which the check
			// runner turns into its result) are scrubbed like the
			// transcript.
			x := c.Exchanges()
			returned := strings.Join(r.Lines, "\n") + "\n" + strings.Join(r.Text, "\n") + "\n" + r.String() +
				"\n" + strings.Join(x[len(x)-1].Reply.Lines, "\n")
			if !strings.Contains(returned, "welcome") {
				t.Fatalf("the echo is not in the reply: %q", returned)
			}
			for what, s := range forms {
				if strings.Contains(all, s) {
					t.Errorf("transcript holds the %s %q:\n%s", what, s, all)
				}
				if strings.Contains(returned, s) {
					t.Errorf("the returned reply holds the %s %q: %s", what, s, returned)
				}
			}
		})
	}
}
