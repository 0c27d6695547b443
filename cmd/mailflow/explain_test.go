package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// runExplainCmd runs "mailflow explain ARGS" with stdin and returns the
// exit status main would use and what was printed.
func runExplainCmd(t *testing.T, stdin string, args ...string) (int, string) {
	t.Helper()
	return runOutput(t, stdin, append([]string{"explain"}, args...)...)
}

func TestExplainCommandText(t *testing.T) {
	cases := []struct {
		name  string
		stdin string
		args  []string
		want  []string
	}{
		{"argument", "", []string{"--command", "RCPT", "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table"},
			[]string{"SMTP 550 5.1.1", "permanent failure", "mailbox-unknown", "Step:     RCPT", "Next steps:", "Likely causes:"}},
		{"unquoted words", "", []string{"550", "5.1.1", "User", "unknown"}, []string{"SMTP 550 5.1.1", "mailbox-unknown"}},
		{"quoted lines", "", []string{"421-4.7.28 unusual rate of", "421 4.7.28 unsolicited mail - gsmtp"}, []string{"rate-limited", "temporary failure"}},
		{"stdin", "-ERR [IN-USE] maildrop locked\n", nil, []string{"POP3 -ERR [IN-USE]", "mailbox-locked", "temporary failure"}},
		{"decoded", "", []string{"334 VXNlcm5hbWU6"}, []string{`Decoded:  "Username:"`, "intermediate"}},
		{"imap", "", []string{"--protocol", "imap", "a1 NO [AUTHENTICATIONFAILED] Authentication failed."}, []string{"IMAP NO [AUTHENTICATIONFAILED]", "auth-failed"}},
		{"generic", "", []string{"577 something new"}, []string{"explained from the digits"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runExplainCmd(t, tc.stdin, tc.args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, l := range strings.Split(out, "\n") {
				if ansi.StringWidth(l) > 80 {
					t.Errorf("line wider than 80 columns: %q", l)
				}
			}
			if strings.Contains(out, "\x1b") {
				t.Error("output contains escape sequences")
			}
		})
	}
}

func TestExplainCommandJSON(t *testing.T) {
	code, out := runExplainCmd(t, "", "--json", "--command", "MAIL", "530 5.7.1 Client was not authenticated")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	for _, k := range []string{"protocol", "code", "enhanced_code", "class", "category", "summary", "meaning", "causes", "next_steps", "generic", "decoded"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if got["category"] != "auth-required" || got["class"] != "permanent" || got["code"] != "530" || got["enhanced_code"] != "5.7.1" {
		t.Errorf("unexpected values: %v", got)
	}
}

func TestExplainCommandEscapesControlCharacters(t *testing.T) {
	evil := "550 5.1.1 user \x1b[2J\x1b]0;pwned\x07 unknown"
	for _, args := range [][]string{{evil}, {"--json", evil}} {
		code, out := runExplainCmd(t, "", args...)
		if code != exitOK {
			t.Fatalf("exit %d", code)
		}
		if strings.ContainsAny(out, "\x1b\x07") {
			t.Errorf("raw control characters printed: %q", out)
		}
	}
}

func TestExplainCommandExitCodes(t *testing.T) {
	cases := []struct {
		name  string
		stdin string
		args  []string
		want  int
	}{
		{"empty argument", "", []string{"   "}, exitUsage},
		{"empty stdin", "\n\n", nil, exitUsage},
		{"bad protocol", "", []string{"--protocol", "x400", "250 ok"}, exitUsage},
		{"failure reply is not a failure of the command", "", []string{"554 5.7.1 no"}, exitOK},
		{"unknown text", "", []string{"hello"}, exitOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if code, out := runExplainCmd(t, tc.stdin, tc.args...); code != tc.want {
				t.Errorf("exit %d, want %d: %s", code, tc.want, out)
			}
		})
	}
}
