package check

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mailflow/mailflow/internal/peertest"
)

// TestRunSMTPScrubsEchoedSecrets runs the SMTP check with a password
// against a server that echoes the AUTH PLAIN payload and the decoded
// credentials back, accepting or refusing them. The result (its JSON:
// the steps' reply lines, the error) must hold no form of the password.
func TestRunSMTPScrubsEchoedSecrets(t *testing.T) {
	const user, pw = "k.ate", "Echo-Me-S3cret"
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	forms := map[string]string{
		"password":        pw,
		"base64 password": b64(pw),
		"PLAIN payload":   b64("\x00" + user + "\x00" + pw),
	}
	echo := func(code string) func(string) string {
		return func(l string) string {
			f := strings.Fields(l)
			payload := f[len(f)-1]
			b, _ := base64.StdEncoding.DecodeString(payload)
			return code + " you sent " + payload + " = " + strings.ReplaceAll(string(b), "\x00", " ")
		}
	}
	for _, tc := range []struct {
		name, reply string
		exit        int
	}{
		{"accepted", "235 2.7.0", ExitOK},
		{"refused", "535 5.7.8", ExitRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lns, port := peertest.ListenSamePort(t, "127.0.0.1")
			serveSMTP(t, peerConfig{ehlo: []string{"AUTH PLAIN"}, auth: echo(tc.reply)}, lns...)
			res := RunSMTP(context.Background(), Options{Server: "127.0.0.1", Port: port, Limits: fastLimits(),
				User: user, Password: pw, AuthMech: "PLAIN"})
			if res.Exit != tc.exit {
				t.Fatalf("exit %d (%s), want %d", res.Exit, res.Error, tc.exit)
			}
			js, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(js), "you sent") {
				t.Fatalf("the echo is not in the result: %s", js)
			}
			for what, s := range forms {
				if strings.Contains(string(js), s) {
					t.Errorf("result JSON holds the %s: %s", what, js)
				}
			}
		})
	}
}
