package replycode

import (
	"strings"
	"testing"
)

// FuzzExplain checks that Explain never panics, always returns a valid
// category, and keeps the class consistent with the first digit of an SMTP
// code (RFC 5321 §4.2.1).
func FuzzExplain(f *testing.F) {
	for _, s := range []string{
		"550 5.1.1 <a@b>: Recipient address rejected",
		"550-5.7.26 x 550-5.7.26 y 550 5.7.26 z",
		"421 4.7.0 Try again later",
		"334 VXNlcm5hbWU6",
		"-ERR [IN-USE] locked",
		"+OK ready",
		"a1 NO [AUTHENTICATIONFAILED] bad",
		"* BYE bye",
		"+ UGFzc3dvcmQ6",
		"said: 554 5.7.1 blocked (in reply to RCPT TO command)",
		"999 9.9.9",
		"",
		"\x00\xff[",
	} {
		f.Add(s, "")
		f.Add(s, "RCPT")
	}
	f.Fuzz(func(t *testing.T, reply, cmd string) {
		ex := Explain(Input{Command: cmd, Lines: strings.Split(reply, "\n")})
		if !ex.Category.Valid() {
			t.Fatalf("invalid category %q", ex.Category)
		}
		if ex.Summary == "" {
			t.Fatal("empty summary")
		}
		if ex.Protocol == ProtocolSMTP && len(ex.Code) == 3 {
			want := map[byte]Class{'2': ClassSuccess, '3': ClassIntermediate, '4': ClassTransient}[ex.Code[0]]
			if want == "" {
				want = ClassPermanent
			}
			if ex.Class != want {
				t.Fatalf("code %s has class %s, want %s", ex.Code, ex.Class, want)
			}
		}
		if ex.Code == "" && ex.Class != ClassUnknown {
			t.Fatalf("class %s without a status", ex.Class)
		}
	})
}

// BenchmarkExplain measures one explanation of typical replies; the target
// is a few microseconds per call.
func BenchmarkExplain(b *testing.B) {
	inputs := []Input{
		{Command: "RCPT", Lines: []string{"550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table"}},
		{Lines: []string{"host gmail-smtp-in.l.google.com[142.250.27.27] said: 550-5.7.26 This mail is unauthenticated, which poses a security risk to the 550-5.7.26 sender and Gmail users, and has been blocked. 550 5.7.26 - gsmtp (in reply to end of DATA command)"}},
		{Command: "PASS", Lines: []string{"-ERR [IN-USE] Unable to lock maildrop"}},
		{Command: "LOGIN", Lines: []string{"a1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)"}},
		{Command: "MAIL", Lines: []string{"550 5.7.1 Unfortunately, messages from [203.0.113.9] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150)."}},
	}
	load()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = Explain(inputs[i%len(inputs)])
	}
}
