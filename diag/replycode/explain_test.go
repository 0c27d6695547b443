package replycode

import (
	"slices"
	"strings"
	"testing"
)

func explain(proto Protocol, cmd string, lines ...string) Explanation {
	return Explain(Input{Protocol: proto, Command: cmd, Lines: lines})
}

func TestExplainRules(t *testing.T) {
	cases := []struct {
		name     string
		proto    Protocol
		cmd      string
		lines    []string
		class    Class
		category Category
		note     string // a substring one of the notes must contain
	}{
		{"basic code decides class over enhanced", "", "STARTTLS", []string{"451 5.7.3 STARTTLS is required to send mail"}, ClassTransient, CategoryTLSRequired, "disagree"},
		{"enhanced class outside 2/4/5 ignored", "", "RCPT", []string{"550 9.1.1 no such user"}, ClassPermanent, CategoryMailboxUnknown, "outside 2, 4 and 5"},
		{"221 after protocol violation", "", "", []string{"221 2.7.0 Error: I can break rules, too. Goodbye."}, ClassSuccess, CategoryBadSequence, "broke protocol rules"},
		{"gmail 5.7.26", "", ".", []string{"550 5.7.26 This mail has been blocked because the sender is unauthenticated."}, ClassPermanent, CategoryDMARCFail, ""},
		{"registry 5.7.26 without vendor text", "", ".", []string{"550 5.7.26 Multiple authentication checks failed"}, ClassPermanent, CategoryDMARCFail, ""},
		{"exchange online 5.2.2 is a submission quota", "", "", []string{"550 5.2.2 STOREDRV.Submit; sender's submission quota was exceeded"}, ClassPermanent, CategoryRateLimited, "submission quota"},
		{"5.2.2 elsewhere is mailbox full", "", "RCPT", []string{"552 5.2.2 The email account that you tried to reach is over quota."}, ClassPermanent, CategoryMailboxFull, ""},
		{"550 at RCPT", "", "RCPT", []string{"550 Requested action not taken"}, ClassPermanent, CategoryMailboxUnknown, ""},
		{"550 at MAIL", "", "MAIL FROM:<a@example.com>", []string{"550 Requested action not taken"}, ClassPermanent, CategorySenderInvalid, ""},
		{"550 at end of data", "", "end of data", []string{"550 Requested action not taken"}, ClassPermanent, CategoryContentRejected, ""},
		{"530 at MAIL", "", "MAIL", []string{"530 Access denied"}, ClassPermanent, CategoryAuthRequired, ""},
		{"554 at connect", "", "connect", []string{"554 mx.example.net"}, ClassPermanent, CategoryBlocklisted, ""},
		{"554 at end of data", "", ".", []string{"554 Transaction failed"}, ClassPermanent, CategoryContentRejected, ""},
		{"421 at connect", "", "CONNECT", []string{"421 mx.example.net closing"}, ClassTransient, CategoryServiceUnavailable, ""},
		{"450 at RCPT is greylisting", "", "RCPT", []string{"450 Requested mail action not taken"}, ClassTransient, CategoryGreylisted, ""},
		{"out of range first digit", ProtocolSMTP, "", []string{"650 odd"}, ClassPermanent, CategoryOther, "outside the SMTP range"},
		{"pop3 in-use", "", "PASS", []string{"-ERR [IN-USE] Mailbox locked by another session"}, ClassTransient, CategoryMailboxLocked, ""},
		{"pop3 +ERR is not success", "", "", []string{"+ERR authentication failed"}, ClassPermanent, CategoryAuthFailed, "not a success"},
		{"pop3 sys/temp", "", "", []string{"-ERR [SYS/TEMP] Disk full"}, ClassTransient, CategoryServiceUnavailable, ""},
		{"pop3 bare -ERR at PASS", "", "PASS", []string{"-ERR nope"}, ClassPermanent, CategoryAuthFailed, ""},
		{"pop3 ok", "", "", []string{"+OK 2 messages"}, ClassSuccess, CategoryOK, ""},
		{"imap authenticationfailed", "", "", []string{"a1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)"}, ClassPermanent, CategoryAuthFailed, ""},
		{"imap BAD", "", "", []string{"a1 BAD Unknown command"}, ClassPermanent, CategorySyntax, ""},
		{"imap unavailable is transient", "", "LOGIN", []string{"a1 NO [UNAVAILABLE] Backend down"}, ClassTransient, CategoryServiceUnavailable, ""},
		{"imap ok over quota warns", "", "APPEND", []string{"a5 OK [OVERQUOTA] You are now over your soft quota"}, ClassSuccess, CategoryOK, "soft quota"},
		{"imap logout bye", "", "LOGOUT", []string{"* BYE Logging out", "a9 OK LOGOUT completed"}, ClassSuccess, CategoryOK, ""},
		{"imap bye at greeting", "", "", []string{"* BYE Too many connections, try later"}, ClassTransient, CategoryRateLimited, ""},
		{"imap preauth", "", "", []string{"* PREAUTH IMAP4rev2 server logged in as Smith"}, ClassSuccess, CategoryOK, ""},
		{"imap select nonexistent", "", "SELECT", []string{"a2 NO Mailbox doesn't exist: Foo"}, ClassPermanent, CategoryMailboxUnknown, ""},
		{"command hint from postfix log", "", "", []string{"host mx[192.0.2.1] said: 550 sorry (in reply to end of DATA command)"}, ClassPermanent, CategoryContentRejected, ""},
		{"keyword without code", "", "", []string{"Relay access denied"}, ClassUnknown, CategoryRelayDenied, ""},
		{"spamhaus at RCPT", "", "RCPT", []string{"554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org"}, ClassPermanent, CategoryBlocklisted, ""},
		{"greylist words", "", "RCPT", []string{"451 4.7.1 Greylisting in action, please come back later"}, ClassTransient, CategoryGreylisted, ""},
		{"starttls first", "", "MAIL", []string{"530 5.7.0 Must issue a STARTTLS command first"}, ClassPermanent, CategoryTLSRequired, ""},
		{"too many recipients", "", "RCPT", []string{"452 4.5.3 Too many recipients"}, ClassTransient, CategoryRateLimited, ""},
		{"helo fqdn", "", "RCPT", []string{"504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname"}, ClassPermanent, CategoryHELORejected, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ex := explain(tc.proto, tc.cmd, tc.lines...)
			if ex.Class != tc.class || ex.Category != tc.category {
				t.Errorf("got %s/%s via %s, want %s/%s", ex.Class, ex.Category, ex.Matched, tc.class, tc.category)
			}
			if tc.note != "" && !slices.ContainsFunc(ex.Notes, func(n string) bool { return strings.Contains(n, tc.note) }) {
				t.Errorf("notes %q lack %q", ex.Notes, tc.note)
			}
			if ex.Summary == "" || ex.Meaning == "" || len(ex.Causes) == 0 || len(ex.NextSteps) == 0 {
				t.Errorf("incomplete explanation: %+v", ex)
			}
		})
	}
}

func TestFlattenedReply(t *testing.T) {
	ex := explain("", "", "status=bounced (host gmail-smtp-in.l.google.com[142.250.27.27] said: 550-5.7.26 This mail is unauthenticated, which poses a security risk to the 550-5.7.26 sender and Gmail users, and has been blocked. 550 5.7.26 instructions. - gsmtp (in reply to end of DATA command))")
	if ex.Code != "550" || ex.EnhancedCode != "5.7.26" || ex.Command != "." {
		t.Fatalf("got code %q enhanced %q command %q", ex.Code, ex.EnhancedCode, ex.Command)
	}
	if strings.Contains(ex.Text, "550-") || strings.Contains(ex.Text, "5.7.26") {
		t.Errorf("repeated prefixes left in %q", ex.Text)
	}
	if !strings.Contains(ex.Text, "security risk to the sender and Gmail users") {
		t.Errorf("text was damaged: %q", ex.Text)
	}
	multi := explain("", "", "250-mx.example.com Hello", "250-SIZE 1000", "250 STARTTLS")
	if multi.Code != "250" || multi.Text != "mx.example.com Hello SIZE 1000 STARTTLS" {
		t.Errorf("multi-line: code %q text %q", multi.Code, multi.Text)
	}
}

func TestDecoded(t *testing.T) {
	cases := []struct {
		proto Protocol
		line  string
		want  []string
	}{
		{"", "334 VXNlcm5hbWU6", []string{"Username:"}},
		{"", "334 UGFzc3dvcmQ6", []string{"Password:"}},
		{ProtocolIMAP, "+ UGFzc3dvcmQ6", []string{"Password:"}},
		{ProtocolPOP3, "+ VXNlcm5hbWU6", []string{"Username:"}},
		{"", "334 ", []string{}},
		{"", "334 AAECAwQ=", []string{}},          // binary, not printable
		{"", "334 not base64 at all", []string{}}, // has spaces
		{"", "250 VXNlcm5hbWU6", []string{}},      // only challenges are decoded
		{ProtocolIMAP, "+ idling", []string{}},    // decodes to garbage
		{"", "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UuZXhhbXBsZS5uZXQ+", []string{"<1896.697170952@postoffice.example.net>"}},
	}
	for _, tc := range cases {
		ex := explain(tc.proto, "AUTH", tc.line)
		if !slices.Equal(ex.Decoded, tc.want) {
			t.Errorf("%q: decoded %q, want %q", tc.line, ex.Decoded, tc.want)
		}
	}
}

func TestInfer(t *testing.T) {
	cases := []struct {
		lines []string
		want  Protocol
	}{
		{[]string{"+OK ready"}, ProtocolPOP3},
		{[]string{"-ERR no"}, ProtocolPOP3},
		{[]string{"+ERR odd"}, ProtocolPOP3},
		{[]string{"* OK IMAP4rev1 ready"}, ProtocolIMAP},
		{[]string{"a001 NO [AUTHENTICATIONFAILED] no"}, ProtocolIMAP},
		{[]string{"NO [ALERT] quoted without tag"}, ProtocolIMAP},
		{[]string{"220 mx.example.com ESMTP"}, ProtocolSMTP},
		{[]string{"", "550-5.1.1 first", "550 5.1.1 last"}, ProtocolSMTP},
		{[]string{"SMTP error from remote mail server after RCPT TO:<a@b.example>:", "550 5.1.1 unknown"}, ProtocolSMTP},
		{[]string{"said: 451 4.7.1 later"}, ProtocolSMTP},
		{[]string{"hello world"}, ProtocolUnknown},
		{nil, ProtocolUnknown},
	}
	for _, tc := range cases {
		if got := Infer(tc.lines); got != tc.want {
			t.Errorf("Infer(%q) = %q, want %q", tc.lines, got, tc.want)
		}
	}
}

func TestCommandNormalisation(t *testing.T) {
	cases := map[string]string{
		"MAIL FROM:<a@example.com>": "MAIL",
		"rcpt to:<b@example.com>":   "RCPT",
		"end of data":               ".",
		".":                         ".",
		"a1 LOGIN user pass":        "LOGIN",
		"greeting":                  "CONNECT",
		"ehlo client.example":       "EHLO",
		"AUTH LOGIN":                "AUTH",
		"STLS":                      "STARTTLS",
		"frobnicate":                "FROBNICATE",
	}
	k := load()
	for in, want := range cases {
		if got, _ := k.normCommand(in); got != want {
			t.Errorf("normCommand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGenericAndEmpty(t *testing.T) {
	ex := explain("", "", "573 something new")
	if !ex.Generic || ex.Class != ClassPermanent || ex.Matched != "smtp-digits:5yz,x7z" && !strings.HasPrefix(ex.Matched, "smtp-digits:5yz") {
		t.Errorf("unknown code: %+v", ex)
	}
	specific := explain("", "RCPT", "550 5.1.1 no such user")
	if specific.Generic {
		t.Error("a known code must not be generic")
	}
	empty := explain("", "")
	if empty.Class != ClassUnknown || !empty.Generic || empty.Category != CategoryOther {
		t.Errorf("empty: %+v", empty)
	}
}

func TestNextStepsFilled(t *testing.T) {
	ex := explain("", "RCPT", "554 5.7.1 Service unavailable; Client host [203.0.113.45] blocked using zen.spamhaus.org")
	joined := strings.Join(ex.NextSteps, "\n")
	if !strings.Contains(joined, "45.113.0.203.zen.spamhaus.org") {
		t.Errorf("reversed IP not filled in: %s", joined)
	}
	ex = explain("", "RCPT", "550 5.1.2 <bob@no-such-domain.example>: host not found")
	if !strings.Contains(strings.Join(ex.NextSteps, "\n"), "mailflow mx no-such-domain.example") {
		t.Errorf("domain not filled in: %q", ex.NextSteps)
	}
	if strings.Contains(strings.Join(ex.NextSteps, "\n"), "{") {
		t.Errorf("unfilled placeholder: %q", ex.NextSteps)
	}
}

// TestMeaningUsesCommand checks that the step changes the explanation.
func TestMeaningUsesCommand(t *testing.T) {
	rcpt := explain("", "RCPT", "550 5.7.1 Access denied")
	mail := explain("", "MAIL", "550 5.7.1 Access denied")
	if rcpt.Meaning == mail.Meaning {
		t.Errorf("same meaning for RCPT and MAIL: %q", rcpt.Meaning)
	}
	if !strings.Contains(rcpt.Meaning, "RCPT TO") || !strings.Contains(mail.Meaning, "MAIL FROM") {
		t.Errorf("meanings do not name the step: %q / %q", rcpt.Meaning, mail.Meaning)
	}
}
