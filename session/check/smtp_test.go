package check

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mailflow/mailflow/diag/mx/mxtest"
	"github.com/mailflow/mailflow/internal/realpeers"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"

	"github.com/mailflow/mailflow/internal/peertest"
)

func TestMain(m *testing.M) { os.Exit(realpeers.Main(m)) }

func stepNames(r *Result) string {
	var out []string
	for _, s := range r.Steps {
		n := s.Name
		if s.Skipped {
			n += "(skipped)"
		} else if !s.OK {
			n += "(failed)"
		}
		out = append(out, n)
	}
	return strings.Join(out, ",")
}

func TestRunSMTPProbeNeverSendsData(t *testing.T) {
	lns, _ := peertest.ListenSamePort(t, "127.0.0.1")
	peer := serveSMTP(t, peerConfig{}, lns...)
	r := RunSMTP(context.Background(), Options{Server: lns[0].Addr().String(), From: "a@b.test", To: []string{"x@y.test", "z@y.test"}, Helo: "client.test"})
	if r.Exit != ExitOK || r.Error != "" {
		t.Fatalf("RunSMTP = exit %d, %q", r.Exit, r.Error)
	}
	if got := stepNames(r); got != "connect,ehlo,mail,rcpt,rcpt,rset,quit" {
		t.Fatalf("steps = %s", got)
	}
	for _, c := range peer.conn(t) {
		if strings.EqualFold(c, "DATA") {
			t.Fatal("a probe sent DATA")
		}
	}
	if s := r.Steps[3]; s.Command != "RCPT TO:<x@y.test>" || s.ReplyCode != "250" || s.EnhancedCode != "2.1.5" || !s.OK {
		t.Fatalf("rcpt step = %+v", s)
	}
}

func TestRunSMTPRefusedRecipient(t *testing.T) {
	lns, _ := peertest.ListenSamePort(t, "127.0.0.1")
	serveSMTP(t, peerConfig{rcpt: func(to string) string {
		if strings.Contains(to, "nobody") {
			return "550 5.1.1 <nobody@y.test>: Recipient address rejected: User unknown"
		}
		return "250 2.1.5 ok"
	}}, lns...)
	r := RunSMTP(context.Background(), Options{Server: lns[0].Addr().String(), From: "a@b.test", To: []string{"nobody@y.test", "ok@y.test"}, Send: true})
	if r.Exit != ExitRefused || r.ErrorKind != KindServerRefused || !strings.Contains(r.Error, "550 5.1.1") {
		t.Fatalf("RunSMTP = exit %d kind %s %q", r.Exit, r.ErrorKind, r.Error)
	}
	// The accepted recipient still gets the message; QUIT is still sent.
	if got := stepNames(r); got != "connect,ehlo,mail,rcpt(failed),rcpt,data,message,quit" {
		t.Fatalf("steps = %s", got)
	}
	if r.MessageID == "" {
		t.Fatal("no Message-ID recorded for --send")
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	steps, _ := m["steps"].([]any)
	if len(steps) == 0 {
		t.Fatalf("JSON has no steps: %s", b)
	}
	s := steps[3].(map[string]any)
	for _, k := range []string{"name", "command", "reply_code", "enhanced_code", "reply", "ok", "rtt_ms"} {
		if _, ok := s[k]; !ok {
			t.Errorf("JSON step lacks %q: %v", k, s)
		}
	}
	if _, ok := m["tls"]; !ok {
		t.Error("JSON lacks tls")
	}
	if m["error"] == "" {
		t.Error("JSON error empty for a refused check")
	}
}

func TestRunSMTPUsageAndUnreachable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	tests := []struct {
		name string
		opts Options
		exit int
		kind string
	}{
		{"no server", Options{}, ExitUsage, "usage"},
		{"bad recipient", Options{Server: closed, To: []string{"a b@c"}}, ExitUsage, "usage"},
		{"send without to", Options{Server: closed, Send: true, From: "a@b.test"}, ExitUsage, "usage"},
		{"user without password", Options{Server: closed, User: "kate"}, ExitUsage, "usage"},
		{"closed port", Options{Server: closed}, ExitUnreachable, "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := RunSMTP(context.Background(), tt.opts)
			if r.Exit != tt.exit || r.ErrorKind != tt.kind {
				t.Fatalf("RunSMTP = exit %d kind %q (%s), want %d %q", r.Exit, r.ErrorKind, r.Error, tt.exit, tt.kind)
			}
		})
	}
}

// Domain mode: the first MX does not answer, the second does.
func TestRunDomainTriesMXInOrder(t *testing.T) {
	lns, port := peertest.ListenSamePort(t, "127.0.0.2")
	serveSMTP(t, peerConfig{}, lns...)
	dns := mxtest.Start(t, `
example.test. 300 IN MX 10 mx1.example.test.
example.test. 300 IN MX 20 mx2.example.test.
mx1.example.test. 300 IN A 127.0.0.3
mx2.example.test. 300 IN A 127.0.0.2
nullmx.test. 300 IN MX 0 .
`)
	opts := Options{Resolver: []string{dns.Addr}, Port: port, From: "a@b.test", To: []string{"x@example.test"},
		Limits: wire.Limits{ConnectTimeout: 2 * time.Second}}
	r := RunDomain(context.Background(), "example.test", opts)
	if r.Exit != ExitOK {
		t.Fatalf("RunDomain = exit %d %q, hosts %+v", r.Exit, r.Error, r.Hosts)
	}
	if len(r.Hosts) != 2 || r.Hosts[0].Host != "mx1.example.test" || r.Hosts[0].Verdict != VerdictUnreachable ||
		r.Hosts[1].Host != "mx2.example.test" || r.Hosts[1].Verdict != VerdictOK || r.Hosts[1].Preference != 20 {
		t.Fatalf("hosts = %+v", r.Hosts)
	}
	r = RunDomain(context.Background(), "nullmx.test", opts)
	if r.Exit != ExitRefused || r.ErrorKind != "null-mx" || !strings.Contains(r.Error, "RFC 7505") {
		t.Fatalf("null MX: exit %d %q %q", r.Exit, r.ErrorKind, r.Error)
	}
}

// Real Postfix (internal/realpeers).

func TestRealPostfixSend(t *testing.T) {
	m := realpeers.Postfix(t)
	m.LogOnFailure(t)
	r := RunSMTP(context.Background(), Options{Server: m.SMTP, TLS: wire.TLSStartTLS, TLSOptions: wire.TLSOptions{CAFile: m.CAFile},
		From: "tester@example.org", To: []string{m.Address("kate")}, Send: true, Notify: "SUCCESS,FAILURE"})
	if r.Exit != ExitOK {
		t.Fatalf("RunSMTP --send = exit %d %q; steps %s", r.Exit, r.Error, stepNames(r))
	}
	if got := stepNames(r); got != "connect,ehlo,starttls,ehlo,mail,rcpt,data,message,quit" {
		t.Fatalf("steps = %s", got)
	}
	if r.TLS == nil || !r.TLS.Verified || len(r.CapsAfter) == 0 || !contains(r.CapsBefore, "STARTTLS") {
		t.Fatalf("TLS %+v caps before %v after %v", r.TLS, r.CapsBefore, r.CapsAfter)
	}
	id := strings.Trim(r.MessageID, "<>")
	msg := m.WaitMessage(t, "kate", id, 15*time.Second)
	if !strings.Contains(msg, "mailflow check") {
		t.Fatalf("delivered message lacks the body:\n%s", msg)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.HasPrefix(strings.ToUpper(x), s) {
			return true
		}
	}
	return false
}

func TestRealPostfixRefusals(t *testing.T) {
	m := realpeers.Postfix(t)
	m.LogOnFailure(t)
	tests := []struct {
		name     string
		to       string
		code     string
		enhanced string
	}{
		{"unknown user", "nobody-" + strings.ReplaceAll(t.Name(), "/", "-") + "@" + m.Domain, "550", "5.1.1"},
		{"relay denied", "someone@elsewhere.example", "554", "5.7.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := RunSMTP(context.Background(), Options{Server: m.SMTP, From: "tester@example.org", To: []string{tt.to}})
			if r.Exit != ExitRefused {
				t.Fatalf("exit %d %q", r.Exit, r.Error)
			}
			var rcpt *Step
			for i := range r.Steps {
				if r.Steps[i].Name == "rcpt" {
					rcpt = &r.Steps[i]
				}
			}
			if rcpt == nil || rcpt.OK || rcpt.ReplyCode != tt.code || rcpt.EnhancedCode != tt.enhanced {
				t.Fatalf("rcpt step = %+v", rcpt)
			}
			if got := stepNames(r); got != "connect,ehlo,mail,rcpt(failed),rset,quit" {
				t.Fatalf("steps = %s", got)
			}
		})
	}
}

func TestRealPostfixSubmissionAuth(t *testing.T) {
	m := realpeers.Postfix(t)
	m.LogOnFailure(t)
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			ts := transcript.NewStore()
			r := RunSMTP(context.Background(), Options{Server: m.Submission, TLS: wire.TLSStartTLS, TLSOptions: wire.TLSOptions{CAFile: m.CAFile},
				User: "kate", Password: "kate-pass", AuthMech: mech, From: m.Address("kate"), To: []string{"someone@elsewhere.example"}, Transcript: ts})
			if r.Exit != ExitOK {
				t.Fatalf("exit %d %q steps %s", r.Exit, r.Error, stepNames(r))
			}
			if got := stepNames(r); got != "connect,ehlo,starttls,ehlo,auth,mail,rcpt,rset,quit" {
				t.Fatalf("steps = %s", got)
			}
			for _, e := range ts.Entries() {
				if strings.Contains(string(e.Raw), "kate-pass") || strings.Contains(e.Annotation, "kate-pass") || strings.Contains(string(e.Raw), "a2F0ZS1wYXNz") {
					t.Fatalf("password in transcript: %q", e.Raw)
				}
			}
		})
	}
}

func TestRealPostfixCertificateFailures(t *testing.T) {
	m := realpeers.Postfix(t)
	m.LogOnFailure(t)
	tests := []struct {
		name   string
		tls    wire.TLSOptions
		reason string
	}{
		{"wrong name", wire.TLSOptions{CAFile: m.CAFile, ServerName: "wrong.example"}, "name-mismatch"},
		{"without the CA", wire.TLSOptions{}, "unknown-authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := RunSMTP(context.Background(), Options{Server: m.SMTP, TLS: wire.TLSStartTLS, TLSOptions: tt.tls})
			if r.Exit != ExitRefused || r.ErrorKind != string(wire.KindTLSVerify) || r.TLS == nil || r.TLS.VerifyReason != tt.reason {
				t.Fatalf("exit %d kind %q TLS %+v: %s", r.Exit, r.ErrorKind, r.TLS, r.Error)
			}
		})
	}
}
