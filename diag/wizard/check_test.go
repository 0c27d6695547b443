package wizard

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func stepByID(t *testing.T, p Proto, id string) Step {
	t.Helper()
	for _, s := range Steps(p) {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no step %s/%s", p, id)
	return Step{}
}

func TestCheckTyped(t *testing.T) {
	tests := []struct {
		proto Proto
		step  string
		line  string
		codes []string // hint codes, errors first
	}{
		{SMTP, "mail", "MAIL FROM:<chris@contoso.com>", nil},
		{SMTP, "mail", "mail from:<chris@contoso.com>", nil}, // case-insensitive
		{SMTP, "mail", "MAIL FROM:<>", nil},                  // null sender
		{SMTP, "mail", "MAIL FROM <chris@contoso.com>", []string{"missing-colon"}},
		{SMTP, "mail", "MAIL FROM: <chris@contoso.com>", []string{"space-after-colon"}},
		{SMTP, "mail", "MAIL FROM:chris@contoso.com", []string{"missing-brackets"}},
		{SMTP, "mail", "MAIL FROM:<chris>", []string{"no-domain"}},
		{SMTP, "rcpt", "RCPT TO:kate@fabrikam.com", []string{"missing-brackets"}},
		{SMTP, "rcpt", "RCPT TO:<kate@fabrikam.com> NOTIFY=success,failure", nil},
		{SMTP, "rcpt", "rcpt to:<Postmaster>", nil},
		{SMTP, "rcpt", "RCPT TO:<>", []string{"empty-address"}},
		{SMTP, "rcpt", "RCPT TO : <kate@fabrikam.com>", []string{"space-before-colon", "space-after-colon"}},
		{SMTP, "mail", "RCPT TO:<kate@fabrikam.com>", []string{"out-of-order"}},
		{SMTP, "mail", "DATA", []string{"out-of-order"}},
		{SMTP, "rcpt", "EHLO contoso.com", []string{"wrong-step"}},
		{SMTP, "mail", "NOOP", []string{"wrong-step"}},
		{SMTP, "ehlo", "EHLO", []string{"missing-domain"}},
		{SMTP, "ehlo", "ehlo contoso.com", nil},
		{SMTP, "ehlo", "EHLO [192.0.2.1]", nil},
		{SMTP, "ehlo", "EHLO myhost", []string{"not-fqdn"}},
		{SMTP, "ehlo", "HELO contoso.com", []string{"helo-not-ehlo"}},
		{SMTP, "rcpt", "RCTP TO:<kate@fabrikam.com>", []string{"unknown-verb"}},
		{SMTP, "data", "SEND", []string{"unknown-verb"}},
		{SMTP, "data", "", []string{"empty"}},
		{SMTP, "auth-user", "Y2hyaXM=", nil},
		{SMTP, "auth-user", "chris", []string{"not-base64"}},
		{SMTP, "auth-user", "Y2hyaXMK", []string{"trailing-newline"}}, // echo chris | base64
		{SMTP, "subject", "Subject: Test from Contoso", nil},
		{SMTP, "subject", "Test from Contoso", []string{"header-syntax"}},
		{SMTP, "subject", "", []string{"early-blank"}},
		{SMTP, "blank", "", nil},
		{SMTP, "blank", "hello", []string{"not-blank"}},
		{SMTP, "body", "This is a test message", nil},
		{SMTP, "body", ".", []string{"early-end"}},
		{SMTP, "body", ".hidden", []string{"dot-stuffing"}},
		{SMTP, "body", "..hidden", []string{"dot-stuffing"}},
		{SMTP, "dot", ".", nil},
		{SMTP, "dot", "end", []string{"not-dot"}},
		{POP3, "user", "USER alice", nil},
		{POP3, "user", "user", []string{"missing-argument"}},
		{POP3, "user", "STAT", []string{"out-of-order"}},
		{POP3, "pass", "PSAS secret", []string{"unknown-verb"}},
		{POP3, "retr", "RETR 1", nil},
		{IMAP, "login", `a001 LOGIN alice "secret"`, nil},
		{IMAP, "login", "LOGIN alice secret", []string{"missing-tag"}},
		{IMAP, "login", "a001 LOGIN alice", []string{"missing-argument"}},
		{IMAP, "select", "a004 select inbox", nil},
		{IMAP, "select", "a004 FETCH 1 FLAGS", []string{"wrong-step"}},
		{IMAP, "select", "a004 SELCT INBOX", []string{"unknown-verb"}},
		{IMAP, "select", "a-4 SELECT INBOX", []string{"bad-tag"}},
	}
	for _, tc := range tests {
		t.Run(string(tc.proto)+"/"+tc.step+"/"+tc.line, func(t *testing.T) {
			hs := CheckTyped(stepByID(t, tc.proto, tc.step), tc.line)
			var got []string
			for _, h := range hs {
				got = append(got, h.Code)
				if h.Message == "" || !strings.HasSuffix(h.Message, ".") {
					t.Errorf("hint %s: message %q is not a sentence", h.Code, h.Message)
				}
			}
			if !slices.Equal(got, tc.codes) {
				t.Fatalf("hints %v, want %v (%+v)", got, tc.codes, hs)
			}
		})
	}
}

func TestCheckTypedSeverities(t *testing.T) {
	mail := stepByID(t, SMTP, "mail")
	if hs := CheckTyped(mail, "MAIL FROM: <a@b.example>"); Blocks(hs) || hs[0].Severity != SeverityWarning {
		t.Errorf("space after colon must warn, not block: %+v", hs)
	}
	for _, line := range []string{"MAIL FROM <a@b.example>", "RCPT TO:<a@b.example>", "MAIL FROM:a@b.example", "XYZZY"} {
		if !Blocks(CheckTyped(mail, line)) {
			t.Errorf("%q must block", line)
		}
	}
	if hs := CheckTyped(mail, "FOO"); !strings.Contains(hs[0].Message, "500 5.3.3") {
		t.Errorf("unknown verb should explain the 500 reply: %q", hs[0].Message)
	}
	if hs := CheckTyped(stepByID(t, SMTP, "rcpt"), "RCTP TO:<a@b.example>"); !strings.Contains(hs[0].Message, "did you mean RCPT") {
		t.Errorf("no suggestion: %q", hs[0].Message)
	}
	if hs := CheckTyped(stepByID(t, SMTP, "rcpt"), "MAIL FROM:<a@b.example>"); hs[0].Code != "wrong-step" || !Blocks(hs) {
		t.Errorf("MAIL at the RCPT step: %+v", hs)
	}
}

func TestLoadStepsRejectsBadData(t *testing.T) {
	good := `proto = "pop3"
[[step]]
id = "user"
title = "t"
why = "w"
action = "send"
input = "command"
verb = "USER"
send = "USER {user}"
expect = ["+OK"]
checklist = "pop3-login"
[[step]]
id = "evaluate"
title = "t"
why = "w"
action = "evaluate"
input = "none"
`
	if _, err := LoadSteps(fstest.MapFS{"pop3.toml": {Data: []byte(good)}}, POP3); err != nil {
		t.Fatalf("good data rejected: %v", err)
	}
	bad := map[string]string{
		"placeholder of another protocol": strings.Replace(good, "{user}", "{from}", 1),
		"password not marked secret":      strings.Replace(good, "USER {user}", "PASS {password}", 1),
		"unknown checklist":               strings.Replace(good, "pop3-login", "pop3-auth", 1),
		"unknown action":                  strings.Replace(good, `"send"`, `"transmit"`, 1),
		"unknown when":                    strings.Replace(good, `verb = "USER"`, "verb = \"USER\"\nwhen = \"sometimes\"", 1),
		"command without expect":          strings.Replace(good, `expect = ["+OK"]`, "", 1),
		"bad expect":                      strings.Replace(good, `"+OK"`, `"+ok"`, 1),
		"no evaluate at the end":          good[:strings.LastIndex(good, "[[step]]")],
		"wrong proto":                     strings.Replace(good, `proto = "pop3"`, `proto = "imap"`, 1),
		"unknown key":                     good + "colour = \"red\"\n",
		"duplicate id":                    strings.Replace(good, `id = "evaluate"`, `id = "user"`, 1),
	}
	for name, data := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := LoadSteps(fstest.MapFS{"pop3.toml": {Data: []byte(data)}}, POP3)
			if err == nil || !strings.HasPrefix(err.Error(), "wizard: ") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
