package wizard

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mailflow/mailflow/diag/checklist"
)

func exchangeParams() Params {
	return Params{
		From: "chris@contoso.com", To: "kate@fabrikam.com", Helo: "contoso.com",
		Subject: "Test from Contoso", Body: "This is a test message", Notify: "success,failure",
	}
}

// ehloExchange is an Exchange 2016 EHLO answer without STARTTLS, as in the
// procedure's example.
var ehloExchange = Reply{Lines: []string{
	"250-mail1.fabrikam.com Hello [192.0.2.10]",
	"250-SIZE 37748736",
	"250-PIPELINING",
	"250-DSN",
	"250-ENHANCEDSTATUSCODES",
	"250-8BITMIME",
	"250-BINARYMIME",
	"250 CHUNKING",
}}

func lines(s ...string) Reply { return Reply{Lines: s} }

func mustNew(t *testing.T, p Proto, params Params) Machine {
	t.Helper()
	m, err := New(p, params)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// expectSend checks that the next action sends exactly want, then feeds r.
func expectSend(t *testing.T, m *Machine, want []string, r Reply) Verdict {
	t.Helper()
	a := m.Next()
	if a.Kind != ActSend {
		t.Fatalf("step %s: action %s, want send", a.StepID, a.Kind)
	}
	if !slices.Equal(a.Lines, want) {
		t.Fatalf("step %s: lines %q, want %q", a.StepID, a.Lines, want)
	}
	if !a.ExpectReply {
		v, _ := m.Sent()
		return v
	}
	v, _ := m.Observe(r)
	return v
}

func TestExchangeGuidedRun(t *testing.T) {
	m := mustNew(t, SMTP, exchangeParams())
	_, total := m.Progress()
	lastN := 0
	step := func() {
		n, tot := m.Progress()
		if n <= lastN || tot != total {
			t.Fatalf("progress %d/%d after %d/%d", n, tot, lastN, total)
		}
		lastN = n
	}

	step()
	a := m.Next()
	if a.Kind != ActLookupMX || a.Domain != "fabrikam.com" {
		t.Fatalf("first action = %+v, want MX lookup of fabrikam.com", a)
	}
	if v, _ := m.ObserveMX([]string{"mail1.fabrikam.com.", "mail2.fabrikam.com."}, nil); v.Kind != VerdictOK {
		t.Fatalf("MX verdict %+v", v)
	}
	step()
	a = m.Next()
	if a.Kind != ActConnect || a.Host != "mail1.fabrikam.com" || a.Port != 25 || !a.ExpectReply {
		t.Fatalf("connect action = %+v", a)
	}
	if v, _ := m.Observe(lines("220 mail1.fabrikam.com Microsoft ESMTP MAIL Service ready at Thu, 1 Jan 2026 10:00:00 +0000")); v.Kind != VerdictOK {
		t.Fatalf("banner verdict %+v", v)
	}
	seq := []struct {
		send  []string
		reply Reply
	}{
		{[]string{"EHLO contoso.com"}, ehloExchange},
		{[]string{"MAIL FROM:<chris@contoso.com>"}, lines("250 2.1.0 Sender OK")},
		{[]string{"RCPT TO:<kate@fabrikam.com> NOTIFY=success,failure"}, lines("250 2.1.5 Recipient OK")},
		{[]string{"DATA"}, lines("354 Start mail input; end with <CRLF>.<CRLF>")},
		{[]string{"Subject: Test from Contoso"}, Reply{}},
		{[]string{""}, Reply{}},
		{[]string{"This is a test message"}, Reply{}},
		{[]string{"."}, lines("250 2.6.0 <abc@mail1.fabrikam.com> [InternalId=1] Queued mail for delivery")},
		{[]string{"QUIT"}, lines("221 2.0.0 Service closing transmission channel")},
	}
	for _, s := range seq {
		step()
		if v := expectSend(t, &m, s.send, s.reply); v.Kind != VerdictOK {
			t.Fatalf("%q: verdict %+v", s.send, v)
		}
	}
	if !m.Done() {
		t.Fatalf("not done; current %s", m.Current().ID)
	}
	a = m.Next()
	if a.Kind != ActEvaluate {
		t.Fatalf("final action %s", a.Kind)
	}
	sum := strings.Join(a.Summary, "\n")
	if !strings.Contains(sum, "accepted for delivery") || !strings.Contains(sum, "delivery report") || !strings.Contains(sum, "rcpt       ok      250 2.1.5") {
		t.Errorf("summary:\n%s", sum)
	}
	if n, tot := m.Progress(); n != tot {
		t.Errorf("progress at the end %d/%d", n, tot)
	}
	var ids []string
	for _, r := range m.Results() {
		ids = append(ids, r.StepID)
	}
	want := []string{"mx", "connect", "ehlo", "mail", "rcpt", "data", "subject", "blank", "body", "dot", "quit"}
	if !slices.Equal(ids, want) {
		t.Errorf("steps run %v, want %v", ids, want)
	}
}

// toMail drives a fresh run up to the point after the first EHLO.
func toEHLO(t *testing.T, p Params) Machine {
	t.Helper()
	p.Host = "mx.example.net"
	m := mustNew(t, SMTP, p)
	if a := m.Next(); a.Kind != ActConnect {
		t.Fatalf("with Host set the run starts with %s", a.Kind)
	}
	m.Observe(lines("220 mx.example.net ESMTP"))
	return m
}

func TestHELOFallback(t *testing.T) {
	m := toEHLO(t, exchangeParams())
	v, st := m.Observe(lines("502 5.5.2 Error: command not recognized"))
	if v.Kind != VerdictRetry || v.Offer != "HELO" || st.ID != "helo" {
		t.Fatalf("verdict %+v, step %s", v, st.ID)
	}
	if v := expectSend(t, &m, []string{"HELO contoso.com"}, lines("250 mx.example.net")); v.Kind != VerdictOK {
		t.Fatalf("HELO verdict %+v", v)
	}
	if m.Current().ID != "mail" {
		t.Fatalf("after HELO the run is at %s, want mail (no extensions, so no STARTTLS)", m.Current().ID)
	}
	// Without extensions, NOTIFY is still sent: DSN support is unknown.
	if a := m.Next(); a.Lines[0] != "MAIL FROM:<chris@contoso.com>" {
		t.Fatalf("mail line %q", a.Lines)
	}
}

func TestSTARTTLSBranches(t *testing.T) {
	ehloTLS := lines("250-mx.example.net", "250-STARTTLS", "250-DSN", "250 SIZE 1000")
	t.Run("offered", func(t *testing.T) {
		m := toEHLO(t, exchangeParams())
		m.Observe(ehloTLS)
		if m.Current().ID != "starttls" {
			t.Fatalf("at %s, want starttls", m.Current().ID)
		}
		v := expectSend(t, &m, []string{"STARTTLS"}, lines("220 2.0.0 Ready to start TLS"))
		if !v.StartTLS || m.Next().Kind != ActHandshake || m.Next().Host != "mx.example.net" {
			t.Fatalf("verdict %+v, next %+v", v, m.Next())
		}
		if v, st := m.Sent(); v.Kind != VerdictOK || st.ID != "ehlo-tls" {
			t.Fatalf("after handshake: %+v at %s", v, st.ID)
		}
		if m.Evidence().Caps.Seen {
			t.Error("capabilities must be forgotten after TLS (RFC 3207 section 4.2)")
		}
		expectSend(t, &m, []string{"EHLO contoso.com"}, lines("250-mx.example.net", "250 AUTH PLAIN LOGIN"))
		if m.Current().ID != "mail" || !m.Evidence().TLSActive {
			t.Fatalf("at %s, tls %v", m.Current().ID, m.Evidence().TLSActive)
		}
		// The second EHLO had no DSN, so NOTIFY is dropped with a warning.
		expectSend(t, &m, []string{"MAIL FROM:<chris@contoso.com>"}, lines("250 2.1.0 ok"))
		a := m.Next()
		if a.Lines[0] != "RCPT TO:<kate@fabrikam.com>" || a.Warning == "" {
			t.Fatalf("rcpt %q warning %q", a.Lines, a.Warning)
		}
	})
	t.Run("not offered, not required", func(t *testing.T) {
		m := toEHLO(t, exchangeParams())
		m.Observe(ehloExchange)
		if m.Current().ID != "mail" {
			t.Fatalf("at %s, want mail", m.Current().ID)
		}
	})
	t.Run("required, not offered", func(t *testing.T) {
		p := exchangeParams()
		p.UseTLS = true
		m := toEHLO(t, p)
		m.Observe(ehloExchange)
		if m.Current().ID != "starttls" || m.Next().Warning == "" {
			t.Fatalf("at %s warning %q", m.Current().ID, m.Next().Warning)
		}
		v, _ := m.Observe(lines("502 5.5.1 Not implemented"))
		if v.Kind != VerdictFail || v.Checklist != checklist.StepSTARTTLS || !m.Failed() {
			t.Fatalf("verdict %+v", v)
		}
		if st := m.Skip(); st.ID != "mail" {
			t.Fatalf("skip STARTTLS went to %s, want mail (the TLS group is skipped)", st.ID)
		}
	})
	t.Run("handshake fails", func(t *testing.T) {
		m := toEHLO(t, exchangeParams())
		m.Observe(ehloTLS)
		m.Observe(lines("220 2.0.0 go ahead"))
		v, _ := m.ObserveFailure("certificate has expired")
		if v.Kind != VerdictFail || v.Checklist != checklist.StepSTARTTLS || !v.Closing {
			t.Fatalf("verdict %+v", v)
		}
	})
}

func TestAUTHLogin(t *testing.T) {
	p := exchangeParams()
	p.UseAuth, p.User, p.Port = true, "chris@contoso.com", 587
	m := toEHLO(t, p)
	m.Observe(lines("250-mx.example.net", "250-AUTH LOGIN PLAIN", "250 SIZE"))
	if m.Current().ID != "auth" {
		t.Fatalf("at %s", m.Current().ID)
	}
	if a := m.Next(); a.Warning == "" || !strings.Contains(a.Warning, "TLS") {
		t.Errorf("AUTH without TLS must warn, got %q", a.Warning)
	}
	v := expectSend(t, &m, []string{"AUTH LOGIN"}, lines("334 VXNlcm5hbWU6"))
	if !strings.Contains(v.Reason, `"Username:"`) {
		t.Errorf("reason %q does not decode the challenge", v.Reason)
	}
	user64 := base64.StdEncoding.EncodeToString([]byte("chris@contoso.com"))
	v = expectSend(t, &m, []string{user64}, lines("334 UGFzc3dvcmQ6"))
	if !strings.Contains(v.Reason, `"Password:"`) {
		t.Errorf("reason %q", v.Reason)
	}
	a := m.Next()
	if !a.Secret || a.Lines != nil || a.Display[0] != mask {
		t.Fatalf("password action leaks: %+v", a)
	}
	got, err := a.Fill("s3cret")
	if err != nil || got[0] != base64.StdEncoding.EncodeToString([]byte("s3cret")) {
		t.Fatalf("Fill = %q, %v", got, err)
	}
	if _, err := a.Fill("x\r\nRCPT TO:<a@b>"); err == nil {
		t.Fatal("Fill accepted a password with CRLF")
	}
	if v, st := m.Observe(lines("235 2.7.0 Authentication successful")); v.Kind != VerdictOK || st.ID != "mail" {
		t.Fatalf("%+v at %s", v, st.ID)
	}
	if ev := m.Evidence(); !ev.Authenticated || ev.AuthMechanism != "LOGIN" || ev.Port != 587 {
		t.Errorf("evidence %+v", ev)
	}

	m2 := toEHLO(t, p)
	m2.Observe(lines("250-mx.example.net", "250 AUTH LOGIN"))
	m2.Observe(lines("334 VXNlcm5hbWU6"))
	m2.Observe(lines("334 UGFzc3dvcmQ6"))
	v, st := m2.Observe(lines("535 5.7.8 Authentication credentials invalid"))
	if v.Kind != VerdictFail || v.Checklist != checklist.StepAuth || st.ID != "auth-pass" {
		t.Fatalf("%+v at %s", v, st.ID)
	}
}

func TestRCPT550StopsAndPointsAtChecklist(t *testing.T) {
	m := toEHLO(t, exchangeParams())
	m.Observe(ehloExchange)
	m.Observe(lines("250 2.1.0 Sender OK"))
	v, st := m.Observe(lines("550 5.1.1 User unknown"))
	if v.Kind != VerdictFail || v.Checklist != checklist.StepRcpt || st.ID != "rcpt" || !m.Failed() || m.Done() {
		t.Fatalf("verdict %+v at %s failed=%v", v, st.ID, m.Failed())
	}
	if strings.Contains(v.Reason, "User unknown") {
		t.Errorf("reason copies server text: %q", v.Reason)
	}
	ev := m.Evidence()
	ev.Reply.Category = "mailbox-unknown" // the explainer's job
	items := checklist.Evaluate(v.Checklist, ev)
	if items[0].ID != "rcpt-unknown-user" || items[0].Status != checklist.Likely {
		t.Fatalf("checklist top item %s (%s)", items[0].ID, items[0].Status)
	}
	if !m.Quit() || m.Current().ID != "quit" {
		t.Fatalf("Quit went to %s", m.Current().ID)
	}
	m.Observe(lines("221 2.0.0 Bye"))
	sum := strings.Join(m.Next().Summary, "\n")
	if !m.Done() || !strings.Contains(sum, "failed at rcpt (550 5.1.1)") {
		t.Fatalf("done=%v summary:\n%s", m.Done(), sum)
	}
}

func TestTemporaryFailureRetries(t *testing.T) {
	m := toEHLO(t, exchangeParams())
	m.Observe(ehloExchange)
	m.Observe(lines("250 2.1.0 Sender OK"))
	v, st := m.Observe(lines("450 4.7.1 Greylisted, try again later"))
	if v.Kind != VerdictRetry || st.ID != "rcpt" || m.Failed() || v.Checklist != checklist.StepRcpt {
		t.Fatalf("%+v at %s", v, st.ID)
	}
	if v, _ := m.Observe(lines("250 2.1.5 ok")); v.Kind != VerdictOK {
		t.Fatalf("retry verdict %+v", v)
	}
	v, _ = m.Observe(lines("421 4.3.2 Service shutting down"))
	if v.Kind != VerdictFail || !v.Closing || m.Quit() {
		t.Fatalf("421: %+v, Quit must refuse on a closed connection", v)
	}
}

func TestQuitRefusedInsideDATA(t *testing.T) {
	m := toEHLO(t, exchangeParams())
	m.Observe(ehloExchange)
	m.Observe(lines("250 ok"))
	m.Observe(lines("250 ok"))
	m.Observe(lines("354 go"))
	if m.Quit() {
		t.Fatal("Quit inside DATA would put QUIT into the message")
	}
	if v, _ := m.Observe(lines("250 ok")); v.Kind != VerdictRetry {
		t.Fatalf("a reply during the header step must not advance: %+v", v)
	}
}

func TestDotStuffedBody(t *testing.T) {
	p := exchangeParams()
	p.Body = "first\r\n.hidden\n.\nlast"
	m := toEHLO(t, p)
	m.Observe(ehloExchange)
	m.Observe(lines("250 ok"))
	m.Observe(lines("250 ok"))
	m.Observe(lines("354 go"))
	m.Sent()
	m.Sent()
	a := m.Next()
	want := []string{"first", "..hidden", "..", "last"}
	if a.StepID != "body" || !slices.Equal(a.Lines, want) {
		t.Fatalf("body %s lines %q, want %q", a.StepID, a.Lines, want)
	}
}

func TestObserveMX(t *testing.T) {
	tests := []struct {
		name  string
		hosts []string
		err   error
		kind  VerdictKind
		host  string
	}{
		{"preferred first", []string{"a.example.", "b.example."}, nil, VerdictOK, "a.example"},
		{"implicit MX", nil, nil, VerdictOK, "fabrikam.com"},
		{"null MX", []string{"."}, nil, VerdictFail, ""},
		{"lookup error", nil, errors.New("mx: timeout"), VerdictFail, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mustNew(t, SMTP, exchangeParams())
			v, st := m.ObserveMX(tc.hosts, tc.err)
			if v.Kind != tc.kind || m.Host() != tc.host {
				t.Fatalf("verdict %+v host %q", v, m.Host())
			}
			if tc.kind == VerdictFail && (st.ID != "mx" || v.Checklist != checklist.StepConnect) {
				t.Fatalf("failure must stay on mx and point at connect: %s %s", st.ID, v.Checklist)
			}
		})
	}
}

func TestConnectFailure(t *testing.T) {
	m := mustNew(t, SMTP, Params{To: "a@b.example", Helo: "c.example", Host: "192.0.2.1"})
	v, st := m.ObserveFailure("connection refused")
	if v.Kind != VerdictFail || v.Checklist != checklist.StepConnect || st.ID != "connect" {
		t.Fatalf("%+v at %s", v, st.ID)
	}
}

func TestPOP3Run(t *testing.T) {
	m := mustNew(t, POP3, Params{Host: "pop.example.net", User: "alice", UseTLS: true})
	if a := m.Next(); a.Kind != ActConnect || a.Port != 110 {
		t.Fatalf("connect %+v", a)
	}
	m.Observe(lines("+OK Dovecot ready."))
	v := expectSend(t, &m, []string{"STLS"}, lines("+OK Begin TLS negotiation now."))
	if !v.StartTLS {
		t.Fatalf("STLS verdict %+v", v)
	}
	m.Sent() // handshake
	expectSend(t, &m, []string{"USER alice"}, lines("+OK"))
	a := m.Next()
	if !a.Secret || a.Display[0] != "PASS "+mask {
		t.Fatalf("PASS action %+v", a)
	}
	if got, _ := a.Fill("pw"); got[0] != "PASS pw" {
		t.Fatalf("Fill = %q", got)
	}
	m.Observe(lines("+OK Logged in."))
	expectSend(t, &m, []string{"STAT"}, lines("+OK 2 320"))
	expectSend(t, &m, []string{"LIST"}, lines("+OK 2 messages", "1 120", "2 200", "."))
	expectSend(t, &m, []string{"RETR 1"}, lines("+OK 120 octets", "Subject: hi", "", "body", "."))
	expectSend(t, &m, []string{"QUIT"}, lines("+OK Logging out."))
	if !m.Done() {
		t.Fatalf("not done at %s", m.Current().ID)
	}

	// An empty mailbox skips RETR; a wrong password stops at PASS.
	m = mustNew(t, POP3, Params{Host: "pop.example.net", User: "alice"})
	m.Observe(lines("+OK"))
	m.Observe(lines("+OK"))
	v, st := m.Observe(lines("-ERR [AUTH] Authentication failed."))
	if v.Kind != VerdictFail || v.Checklist != checklist.StepPOP3Login || st.ID != "pass" {
		t.Fatalf("%+v at %s", v, st.ID)
	}
	m.Observe(lines("+OK Logged in."))
	m.Observe(lines("+OK 0 0"))
	m.Observe(lines("+OK", "."))
	if m.Current().ID != "quit" {
		t.Fatalf("empty mailbox: at %s, want quit", m.Current().ID)
	}
	m2 := mustNew(t, POP3, Params{Host: "h", User: "u"})
	m2.Observe(lines("+OK"))
	if v, _ := m2.Observe(lines("-ERR [IN-USE] locked")); v.Kind != VerdictRetry {
		t.Fatalf("[IN-USE] should be a retry: %+v", v)
	}
}

func TestIMAPRun(t *testing.T) {
	m := mustNew(t, IMAP, Params{Host: "imap.example.net", User: "alice", ImplicitTLS: true})
	if a := m.Next(); a.Kind != ActConnect || a.Port != 993 || !a.ImplicitTLS {
		t.Fatalf("connect %+v", a)
	}
	m.Observe(lines("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] Dovecot ready."))
	a := m.Next()
	if a.StepID != "login" || a.Tag != "a001" || a.Display[0] != `a001 LOGIN "alice" "`+mask+`"` || a.Warning != "" {
		t.Fatalf("login %+v", a)
	}
	if got, _ := a.Fill(`p"w`); got[0] != `a001 LOGIN "alice" "p\"w"` {
		t.Fatalf("Fill = %q", got)
	}
	m.Observe(lines("a001 OK [CAPABILITY IMAP4rev1] Logged in"))
	expectSend(t, &m, []string{"a002 CAPABILITY"}, lines("* CAPABILITY IMAP4rev1 IDLE", "a002 OK done"))
	expectSend(t, &m, []string{`a003 LIST "" "*"`}, lines(`* LIST (\HasNoChildren) "/" INBOX`, "a003 OK List completed"))
	expectSend(t, &m, []string{"a004 SELECT INBOX"}, lines("* 3 EXISTS", "* OK [UIDVALIDITY 1] ok", "a004 OK [READ-WRITE] Select completed"))
	expectSend(t, &m, []string{"a005 FETCH 1:3 (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE)])"}, lines("* 1 FETCH (FLAGS ())", "a005 OK Fetch completed"))
	v := expectSend(t, &m, []string{"a006 LOGOUT"}, lines("* BYE Logging out", "a006 OK Logout completed"))
	if !v.Closing || !m.Done() {
		t.Fatalf("logout %+v done=%v", v, m.Done())
	}
}

func TestIMAPLoginDisabled(t *testing.T) {
	m := mustNew(t, IMAP, Params{Host: "imap.example.net", User: "alice"})
	m.Observe(lines("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready"))
	if m.Current().ID != "starttls" {
		t.Fatalf("STARTTLS offered in the greeting, but at %s", m.Current().ID)
	}
	m.Skip()
	if a := m.Next(); a.StepID != "login" || !strings.Contains(a.Warning, "LOGINDISABLED") {
		t.Fatalf("login warning %q", a.Warning)
	}
	v, _ := m.Observe(lines("a001 NO [PRIVACYREQUIRED] Plaintext authentication disallowed"))
	if v.Kind != VerdictFail || v.Checklist != checklist.StepIMAPLogin {
		t.Fatalf("%+v", v)
	}
	ev := m.Evidence()
	if !ev.Caps.LoginDisabled {
		t.Fatal("evidence lost LOGINDISABLED")
	}
	if items := checklist.Evaluate(v.Checklist, ev); items[0].ID != "imap-login-disabled" {
		t.Errorf("top checklist item %s", items[0].ID)
	}
}

func TestNewValidates(t *testing.T) {
	bad := []struct {
		proto Proto
		p     Params
	}{
		{"lmtp", exchangeParams()},
		{SMTP, Params{To: "nodomain", Helo: "x.example"}},
		{SMTP, Params{To: "a@b.example"}},
		{SMTP, func() Params { p := exchangeParams(); p.Subject = "hi\r\nBcc: x"; return p }()},
		{SMTP, func() Params { p := exchangeParams(); p.From = "a@b\nRCPT TO:<c@d>"; return p }()},
		{SMTP, func() Params { p := exchangeParams(); p.UseAuth = true; return p }()},
		{POP3, Params{Host: "h"}},
		{IMAP, Params{User: "u"}},
	}
	for i, tc := range bad {
		if _, err := New(tc.proto, tc.p); err == nil || !strings.HasPrefix(err.Error(), "wizard: ") {
			t.Errorf("case %d: err = %v", i, err)
		}
	}
}

func TestMachineIsAValue(t *testing.T) {
	m := toEHLO(t, exchangeParams())
	m.Observe(ehloExchange)
	cp := m
	cp.Observe(lines("250 2.1.0 ok"))
	m.Observe(lines("550 5.1.7 bad"))
	if m.Current().ID != "mail" || cp.Current().ID != "rcpt" {
		t.Fatalf("copies interfere: %s %s", m.Current().ID, cp.Current().ID)
	}
	r1, r2 := m.Results(), cp.Results()
	if r1[len(r1)-1].Verdict != VerdictFail || r2[len(r2)-1].Verdict != VerdictOK {
		t.Fatalf("results alias between copies: %v / %v", r1, r2)
	}
	a, b := m.Next(), m.Next()
	if !slices.Equal(a.Lines, b.Lines) || a.StepID != b.StepID {
		t.Fatal("Next is not repeatable")
	}
}

func TestEmbeddedProcedures(t *testing.T) {
	want := map[Proto][]string{
		SMTP: {"mx", "connect", "ehlo", "helo", "starttls", "tls", "ehlo-tls", "auth", "auth-user", "auth-pass", "mail", "rcpt", "data", "subject", "blank", "body", "dot", "quit", "evaluate"},
		POP3: {"connect", "stls", "tls", "user", "pass", "stat", "list", "retr", "quit", "evaluate"},
		IMAP: {"connect", "starttls", "tls", "login", "capability", "list", "select", "fetch", "logout", "evaluate"},
	}
	for p, ids := range want {
		var got []string
		for _, s := range Steps(p) {
			got = append(got, s.ID)
			if s.Proto != p || s.Why == "" {
				t.Errorf("%s/%s: proto %q why %q", p, s.ID, s.Proto, s.Why)
			}
		}
		if !slices.Equal(got, ids) {
			t.Errorf("%s steps %v, want %v", p, got, ids)
		}
	}
}
