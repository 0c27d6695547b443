package check

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mailflow/mailflow/diag/mx/mxtest"
	"github.com/mailflow/mailflow/internal/realpeers"
	"github.com/mailflow/mailflow/session/wire"

	"github.com/mailflow/mailflow/internal/peertest"
)

func fastLimits() wire.Limits {
	return wire.Limits{ConnectTimeout: 2 * time.Second, StepTimeout: 5 * time.Second}
}

// With --all-mx every MX is tried at once: three hosts that each pause
// 1 s before their banner take about one pause, not three.
func TestRunDomainAllMXConcurrent(t *testing.T) {
	lns, port := peertest.ListenSamePort(t, "127.0.0.2", "127.0.0.3", "127.0.0.4")
	const pause = time.Second
	peer := serveSMTP(t, peerConfig{delay: pause}, lns...)
	dns := mxtest.Start(t, `
slow.test. 300 IN MX 10 mx1.slow.test.
slow.test. 300 IN MX 20 mx2.slow.test.
slow.test. 300 IN MX 30 mx3.slow.test.
mx1.slow.test. 300 IN A 127.0.0.2
mx2.slow.test. 300 IN A 127.0.0.3
mx3.slow.test. 300 IN A 127.0.0.4
`)
	opts := Options{Resolver: []string{dns.Addr}, Port: port, From: "a@b.test", To: []string{"x@slow.test"}, Limits: fastLimits()}

	start := time.Now()
	r := RunDomain(context.Background(), "slow.test", opts)
	seq := time.Since(start)
	if r.Exit != ExitOK || len(r.Hosts) != 3 || r.Hosts[0].Verdict != VerdictOK ||
		r.Hosts[1].Verdict != VerdictNotTried || r.Hosts[2].Verdict != VerdictNotTried {
		t.Fatalf("default: exit %d %q hosts %+v", r.Exit, r.Error, r.Hosts)
	}
	peer.conn(t)

	opts.AllMX = true
	start = time.Now()
	r = RunDomain(context.Background(), "slow.test", opts)
	all := time.Since(start)
	if r.Exit != ExitOK {
		t.Fatalf("all-mx: exit %d %q", r.Exit, r.Error)
	}
	for _, h := range r.Hosts {
		if h.Verdict != VerdictOK || h.GreetingMs < float64(pause.Milliseconds())*0.9 || len(h.Steps) == 0 {
			t.Errorf("all-mx host %+v", h)
		}
	}
	for range 3 {
		peer.conn(t)
	}
	t.Logf("default (first MX only): %v; --all-mx over 3 MX with a %v banner pause each: %v", seq, pause, all)
	// Loose bound: three pauses in a row would take 3 s.
	if all >= 3*pause-300*time.Millisecond {
		t.Errorf("--all-mx took %v: the three MX were not tried concurrently", all)
	}
	// The transcript holds each conversation, one after the other.
	n := 0
	for _, e := range r.Transcript.Entries() {
		if strings.Contains(string(e.Raw), "trying MX") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("transcript has %d conversations, want 3", n)
	}
}

// A sending MTA goes on to the next MX after a 421 greeting; so does the
// default mode, and it stops at a 5xx.
func TestRunDomainContinuesLikeAnMTA(t *testing.T) {
	tests := []struct {
		name      string
		greeting1 string
		exit      int
		verdicts  []string
		kind      string
	}{
		{"421 greeting on MX 10", "421 4.3.2 mx1 busy, try later", ExitOK, []string{VerdictDeferred, VerdictOK}, ""},
		{"554 greeting on MX 10 stops", "554 5.7.1 go away", ExitRefused, []string{VerdictRefused, VerdictNotTried}, KindServerRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lns, port := peertest.ListenSamePort(t, "127.0.0.2", "127.0.0.3")
			serveSMTP(t, peerConfig{greeting: tt.greeting1}, lns[0])
			serveSMTP(t, peerConfig{}, lns[1])
			dns := mxtest.Start(t, `
mta.test. 300 IN MX 10 mx1.mta.test.
mta.test. 300 IN MX 20 mx2.mta.test.
mx1.mta.test. 300 IN A 127.0.0.2
mx2.mta.test. 300 IN A 127.0.0.3
`)
			r := RunDomain(context.Background(), "mta.test", Options{Resolver: []string{dns.Addr}, Port: port,
				From: "a@b.test", To: []string{"x@mta.test"}, Limits: fastLimits()})
			if r.Exit != tt.exit || r.ErrorKind != tt.kind {
				t.Fatalf("exit %d kind %q %q", r.Exit, r.ErrorKind, r.Error)
			}
			for i, v := range tt.verdicts {
				if r.Hosts[i].Verdict != v {
					t.Errorf("host %d verdict %q, want %q (%+v)", i, r.Hosts[i].Verdict, v, r.Hosts[i])
				}
			}
		})
	}
	t.Run("every MX defers: exit 1, not unreachable", func(t *testing.T) {
		lns, port := peertest.ListenSamePort(t, "127.0.0.2", "127.0.0.3")
		serveSMTP(t, peerConfig{greeting: "421 4.7.0 busy"}, lns...)
		dns := mxtest.Start(t, `
mta.test. 300 IN MX 10 mx1.mta.test.
mta.test. 300 IN MX 20 mx2.mta.test.
mx1.mta.test. 300 IN A 127.0.0.2
mx2.mta.test. 300 IN A 127.0.0.3
`)
		r := RunDomain(context.Background(), "mta.test", Options{Resolver: []string{dns.Addr}, Port: port, Limits: fastLimits()})
		if r.Exit != ExitRefused || r.ErrorKind != "deferred" || r.Hosts[1].Verdict != VerdictDeferred {
			t.Fatalf("exit %d kind %q %q hosts %+v", r.Exit, r.ErrorKind, r.Error, r.Hosts)
		}
		if r.Explanation == nil || r.Explanation.Code != "421" || r.Explanation.Summary == "" {
			t.Fatalf("explanation = %+v", r.Explanation)
		}
	})
}

// One MX with an IPv4 and an IPv6 address: the IPv6 side has no
// listener, so the verdicts differ per family.
func TestRunDomainPerFamily(t *testing.T) {
	ipv6Loopback(t)
	lns, port := peertest.ListenSamePort(t, "127.0.0.2")
	serveSMTP(t, peerConfig{}, lns...)
	dns := mxtest.Start(t, `
fam.test. 300 IN MX 10 mx.fam.test.
mx.fam.test. 300 IN A 127.0.0.2
mx.fam.test. 300 IN AAAA ::1
`)
	base := Options{Resolver: []string{dns.Addr}, Port: port, Limits: fastLimits(), AllMX: true}
	r := RunDomain(context.Background(), "fam.test", base)
	if r.Exit != ExitOK || len(r.Hosts) != 2 {
		t.Fatalf("exit %d %q hosts %+v", r.Exit, r.Error, r.Hosts)
	}
	fam := map[string]string{}
	for _, h := range r.Hosts {
		fam[h.Family] = h.Verdict
	}
	if fam["ipv4"] != VerdictOK || fam["ipv6"] != VerdictUnreachable {
		t.Fatalf("per-address verdicts %v", fam)
	}
	if len(r.MXHosts) != 1 || r.MXHosts[0].Verdict != VerdictOK || r.MXHosts[0].IPv4 != VerdictOK || r.MXHosts[0].IPv6 != VerdictUnreachable {
		t.Fatalf("MX summary %+v", r.MXHosts)
	}
	if r.Families["ipv4"] != VerdictOK || r.Families["ipv6"] != VerdictUnreachable {
		t.Fatalf("families %v", r.Families)
	}

	for _, tc := range []struct {
		network, family string
		exit            int
	}{{"tcp4", "ipv4", ExitOK}, {"tcp6", "ipv6", ExitUnreachable}} {
		o := base
		o.AllMX = false
		o.Network = tc.network
		r := RunDomain(context.Background(), "fam.test", o)
		if r.Exit != tc.exit || len(r.Hosts) != 1 || r.Hosts[0].Family != tc.family {
			t.Errorf("%s: exit %d hosts %+v", tc.network, r.Exit, r.Hosts)
		}
	}
}

func TestDiffCaps(t *testing.T) {
	d := DiffCaps([]string{"PIPELINING", "SIZE 10240000", "STARTTLS", "AUTH PLAIN"}, []string{"PIPELINING", "SIZE 10240000", "AUTH LOGIN PLAIN"})
	if strings.Join(d.Removed, "|") != "STARTTLS" || len(d.Added) != 0 || len(d.Changed) != 1 || d.Changed[0].Keyword != "AUTH" {
		t.Fatalf("diff = %+v", d)
	}
	if d := DiffCaps([]string{"AUTH PLAIN LOGIN"}, []string{"auth login plain"}); !d.Empty() {
		t.Fatalf("parameter order or case counted as a change: %+v", d)
	}
	if DiffCaps([]string{"X"}, nil) != nil {
		t.Fatal("diff without an after list")
	}
}

// STARTTLS changes what the server offers; the result says how, and the
// JSON carries it.
func TestRunSMTPCapsBeforeAfterTLS(t *testing.T) {
	lns, _ := peertest.ListenSamePort(t, "127.0.0.1")
	serveSMTP(t, peerConfig{
		ehlo:    []string{"PIPELINING", "SIZE 1000"},
		ehloTLS: []string{"PIPELINING", "SIZE 50000", "AUTH PLAIN LOGIN"},
		tls:     &tls.Config{Certificates: []tls.Certificate{peertest.SelfSigned(t, "peer.test")}},
	}, lns...)
	addr := lns[0].Addr().String()
	r := RunSMTP(context.Background(), Options{Server: addr, TLS: wire.TLSStartTLS, TLSOptions: wire.TLSOptions{Insecure: true}, Limits: fastLimits()})
	if r.Exit != ExitOK {
		t.Fatalf("exit %d %q", r.Exit, r.Error)
	}
	d := r.CapsDiff
	if d == nil || strings.Join(d.Added, "|") != "AUTH PLAIN LOGIN" || strings.Join(d.Removed, "|") != "STARTTLS" ||
		len(d.Changed) != 1 || d.Changed[0].Before != "SIZE 1000" || d.Changed[0].After != "SIZE 50000" {
		t.Fatalf("caps diff = %+v (before %q after %q)", d, r.CapsBefore, r.CapsAfter)
	}
	b, _ := json.Marshal(r)
	if !strings.Contains(string(b), `"caps_diff":{"added":["AUTH PLAIN LOGIN"],"removed":["STARTTLS"],"changed":[{"keyword":"SIZE","before":"SIZE 1000","after":"SIZE 50000"}]}`) {
		t.Fatalf("JSON caps_diff:\n%s", b)
	}
	// --quit-after tls stops right after the second EHLO.
	r = RunSMTP(context.Background(), Options{Server: addr, TLS: wire.TLSStartTLS, TLSOptions: wire.TLSOptions{Insecure: true},
		Limits: fastLimits(), QuitAfter: "tls", User: "kate", Password: "pw", From: "a@b.test", To: []string{"x@y.test"}})
	if got := stepNames(r); r.Exit != ExitOK || got != "connect,ehlo,starttls,ehlo,quit" {
		t.Fatalf("quit-after tls: exit %d steps %s", r.Exit, got)
	}
}

// A slow banner is reported as such and is not a failure.
func TestRunSMTPSlowBanner(t *testing.T) {
	lns, _ := peertest.ListenSamePort(t, "127.0.0.1")
	serveSMTP(t, peerConfig{delay: 400 * time.Millisecond}, lns...)
	addr := lns[0].Addr().String()
	r := RunSMTP(context.Background(), Options{Server: addr, SlowBanner: 200 * time.Millisecond, Limits: fastLimits()})
	if r.Exit != ExitOK || r.Error != "" {
		t.Fatalf("a slow banner failed the check: exit %d %q", r.Exit, r.Error)
	}
	if r.Greeting == nil || !r.Greeting.Slow || r.Greeting.DelayMs < 350 || len(r.Warnings) != 1 ||
		!strings.Contains(r.Warnings[0], "banner after 0.4 s") || !strings.Contains(r.Warnings[0], "postscreen") {
		t.Fatalf("greeting %+v warnings %q", r.Greeting, r.Warnings)
	}
	r = RunSMTP(context.Background(), Options{Server: addr, Limits: fastLimits()})
	if r.Greeting == nil || r.Greeting.Slow || len(r.Warnings) != 0 {
		t.Fatalf("400 ms reported slow under the default 2 s: %+v %q", r.Greeting, r.Warnings)
	}
}

// What each --quit-after value puts on the wire.
func TestRunSMTPQuitAfter(t *testing.T) {
	lns, _ := peertest.ListenSamePort(t, "127.0.0.1")
	peer := serveSMTP(t, peerConfig{ehlo: []string{"SIZE 1000000", "AUTH PLAIN"}}, lns...)
	addr := lns[0].Addr().String()
	tests := []struct {
		quit  string
		wire  string // lines the server received
		steps string
	}{
		{"connect", "", "connect"},
		{"banner", "QUIT", "connect,quit"},
		{"ehlo", "EHLO c.test|QUIT", "connect,ehlo,quit"},
		{"auth", "EHLO c.test|AUTH PLAIN|QUIT", "connect,ehlo,auth,quit"},
		{"mail", "EHLO c.test|MAIL FROM:<a@b.test>|RSET|QUIT", "connect,ehlo,mail,rset,quit"},
		{"rcpt", "EHLO c.test|MAIL FROM:<a@b.test>|RCPT TO:<x@y.test>|RCPT TO:<z@y.test>|RSET|QUIT", "connect,ehlo,mail,rcpt,rcpt,rset,quit"},
		// After 354 the client sends nothing: not RSET, not QUIT (they
		// would be message text), and never the final ".".
		{"data", "EHLO c.test|MAIL FROM:<a@b.test>|RCPT TO:<x@y.test>|RCPT TO:<z@y.test>|DATA", "connect,ehlo,mail,rcpt,rcpt,data"},
	}
	for _, tt := range tests {
		t.Run(tt.quit, func(t *testing.T) {
			o := Options{Server: addr, Helo: "c.test", From: "a@b.test", To: []string{"x@y.test", "z@y.test"}, QuitAfter: tt.quit, Limits: fastLimits()}
			if tt.quit == "auth" {
				o.User, o.Password = "kate", "pw"
			}
			r := RunSMTP(context.Background(), o)
			if r.Exit != ExitOK {
				t.Fatalf("exit %d %q", r.Exit, r.Error)
			}
			got := peer.conn(t)
			for i, l := range got {
				if strings.HasPrefix(l, "AUTH PLAIN") {
					got[i] = "AUTH PLAIN"
				}
			}
			if w := strings.Join(got, "|"); w != tt.wire {
				t.Errorf("wire = %s\nwant   %s", w, tt.wire)
			}
			if s := stepNames(r); s != tt.steps {
				t.Errorf("steps = %s, want %s", s, tt.steps)
			}
			if r.QuitAfter != tt.quit {
				t.Errorf("QuitAfter = %q", r.QuitAfter)
			}
		})
	}
}

// DSN parameters and free MAIL/RCPT parameters on the wire.
func TestRunSMTPParamsOnTheWire(t *testing.T) {
	lns, _ := peertest.ListenSamePort(t, "127.0.0.1")
	peer := serveSMTP(t, peerConfig{ehlo: []string{"DSN", "SIZE 1000000"}}, lns...)
	r := RunSMTP(context.Background(), Options{Server: lns[0].Addr().String(), Helo: "c.test", From: "a@b.test", To: []string{"x@y.test"},
		Notify: "success,failure", Ret: "hdrs", EnvID: "id+1=2", MailParams: []string{"X-TEST=1"}, RcptParams: []string{"X-R=a-b"},
		Limits: fastLimits()})
	if r.Exit != ExitOK {
		t.Fatalf("exit %d %q", r.Exit, r.Error)
	}
	got := strings.Join(peer.conn(t), "\n")
	for _, w := range []string{
		"MAIL FROM:<a@b.test> RET=HDRS ENVID=id+2B1+3D2 X-TEST=1",
		"RCPT TO:<x@y.test> NOTIFY=SUCCESS,FAILURE X-R=a-b",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("server did not get %q:\n%s", w, got)
		}
	}
	// Without DSN announced, RET is not sent: the server's answer is
	// "not offered", exit 1, and nothing is smuggled.
	lns2, _ := peertest.ListenSamePort(t, "127.0.0.1")
	serveSMTP(t, peerConfig{}, lns2...)
	r = RunSMTP(context.Background(), Options{Server: lns2[0].Addr().String(), From: "a@b.test", To: []string{"x@y.test"}, Ret: "FULL", Limits: fastLimits()})
	if r.Exit != ExitRefused || r.ErrorKind != KindNotOffered {
		t.Fatalf("RET without DSN: exit %d kind %q", r.Exit, r.ErrorKind)
	}
}

func TestOptionValidation(t *testing.T) {
	good := Options{Server: "127.0.0.1:1", From: "a@b.test", To: []string{"x@y.test"}}
	tests := []struct {
		name string
		mod  func(*Options)
		want string
	}{
		{"space in value", func(o *Options) { o.MailParams = []string{"X=a b"} }, "a space"},
		{"CR in value", func(o *Options) { o.RcptParams = []string{"X=a\rRSET"} }, "carriage return"},
		{"LF in keyword", func(o *Options) { o.RcptParams = []string{"X\nY=1"} }, "keyword"},
		{"equals in value", func(o *Options) { o.MailParams = []string{"X=a=b"} }, `"="`},
		{"empty value", func(o *Options) { o.MailParams = []string{"X="} }, "empty value"},
		{"bad ret", func(o *Options) { o.Ret = "ALL" }, "FULL or HDRS"},
		{"bad notify", func(o *Options) { o.Notify = "NEVER,SUCCESS" }, "NEVER"},
		{"envid control", func(o *Options) { o.EnvID = "a\x01" }, "printable"},
		{"envid long", func(o *Options) { o.EnvID = strings.Repeat("a", 101) }, "100"},
		{"bad quit-after", func(o *Options) { o.QuitAfter = "dot" }, "want one of"},
		{"send and quit-after", func(o *Options) { o.Send = true; o.QuitAfter = "rcpt" }, "cannot be combined"},
		{"quit-after tls without tls", func(o *Options) { o.QuitAfter = "tls" }, "--tls"},
		{"quit-after auth without user", func(o *Options) { o.QuitAfter = "auth" }, "--user"},
		{"quit-after data without to", func(o *Options) { o.QuitAfter = "data"; o.To = nil }, "--to"},
		// A CR/LF in the subject would add a header (a Bcc:) to the test
		// message; in the user name it would split the AUTH exchange.
		{"CRLF in subject", func(o *Options) { o.Send = true; o.Subject = "hi\r\nBcc: x@evil.test" }, "--subject: addr: CR in protocol argument at position 3"},
		{"LF in subject", func(o *Options) { o.Subject = "hi\nBcc: x@evil.test" }, "--subject: addr: LF in protocol argument at position 3"},
		{"ESC in subject", func(o *Options) { o.Subject = "a\x1b[2J" }, "--subject: character 2 is a control character"},
		{"long subject", func(o *Options) { o.Subject = strings.Repeat("s", 990) }, "998"},
		{"CR in user", func(o *Options) { o.User = "kate\rQUIT"; o.Password = "pw" }, "--user: addr: CR in protocol argument at position 5"},
		{"NUL in user", func(o *Options) { o.User = "ka\x00te"; o.Password = "pw" }, "--user: addr: NUL"},
		{"LF in auth mech", func(o *Options) { o.User = "kate"; o.Password = "pw"; o.AuthMech = "PLAIN\nQUIT" }, "--auth-mech: addr: LF"},
		{"unknown auth mech", func(o *Options) { o.User = "kate"; o.Password = "pw"; o.AuthMech = "GSSAPI" }, "PLAIN, LOGIN or CRAM-MD5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			tt.mod(&o)
			r := RunSMTP(context.Background(), o)
			if r.Exit != ExitUsage || !strings.Contains(r.Error, tt.want) {
				t.Fatalf("exit %d %q, want usage error with %q", r.Exit, r.Error, tt.want)
			}
		})
	}
	for _, p := range []string{"X-FOO", "BODY=8BITMIME", "X=+2B", "SMTPUTF8"} {
		if err := CheckParam(p); err != nil {
			t.Errorf("CheckParam(%q) = %v", p, err)
		}
	}
}

// Several recipients, each with its own answer.
func TestRunSMTPRecipients(t *testing.T) {
	lns, _ := peertest.ListenSamePort(t, "127.0.0.1")
	serveSMTP(t, peerConfig{rcpt: func(to string) string {
		switch {
		case strings.Contains(to, "grey"):
			return "450 4.2.0 greylisted, try again later"
		case strings.Contains(to, "nobody"):
			return "550 5.1.1 no such user"
		}
		return "250 2.1.5 ok"
	}}, lns...)
	r := RunSMTP(context.Background(), Options{Server: lns[0].Addr().String(), From: "a@b.test",
		To: []string{"ok@y.test", "grey@y.test", "nobody@y.test"}, Limits: fastLimits()})
	if r.Exit != ExitRefused {
		t.Fatalf("exit %d", r.Exit)
	}
	var got []string
	for _, rr := range r.Recipients {
		got = append(got, rr.Address+"="+rr.Verdict+"/"+rr.ReplyCode)
	}
	if w := "ok@y.test=accepted/250 grey@y.test=deferred/450 nobody@y.test=refused/550"; strings.Join(got, " ") != w {
		t.Fatalf("recipients = %v", got)
	}
	if r.Explanation == nil || r.Explanation.Step != "rcpt" || r.Explanation.Code != "450" || len(r.Explanation.Causes) == 0 {
		t.Fatalf("explanation = %+v", r.Explanation)
	}
}

// Real Postfix: STARTTLS takes STARTTLS away and AUTH is offered only on
// the submission port after TLS.
func TestRealPostfixCapsDiff(t *testing.T) {
	m := realpeers.Postfix(t)
	m.LogOnFailure(t)
	r := RunSMTP(context.Background(), Options{Server: m.Submission, TLS: wire.TLSStartTLS, TLSOptions: wire.TLSOptions{CAFile: m.CAFile}})
	if r.Exit != ExitOK {
		t.Fatalf("exit %d %q", r.Exit, r.Error)
	}
	if r.CapsDiff == nil || !contains(r.CapsDiff.Removed, "STARTTLS") {
		t.Fatalf("caps diff %+v (before %q after %q)", r.CapsDiff, r.CapsBefore, r.CapsAfter)
	}
	if r.Greeting == nil || r.Greeting.Slow {
		t.Fatalf("greeting %+v", r.Greeting)
	}
}
