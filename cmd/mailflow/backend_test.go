package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailflow/mailflow/diag/checklist"
	"github.com/mailflow/mailflow/session/lab"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
	"github.com/mailflow/mailflow/tui"
)

// startTestLab runs an in-process lab with scenario and a backend wired
// to it the way "mailflow lab" wires it, with journals in a temp dir.
func startTestLab(t *testing.T, scenario string) (*lab.Lab, *realBackend, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	l, err := lab.Start(ctx, lab.Config{Scenario: scenario})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	b := newRealBackend(labBackendConfig(l))
	dir := t.TempDir()
	b.stateDir = func() (string, error) { return dir, nil }
	return l, b, dir
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestBackendLookupMXProbes(t *testing.T) {
	for _, tt := range []struct {
		scenario   string
		wantHosts  []string
		wantProbe  map[string]string // host -> substring of the probe
		wantNull   bool
		wantProble string
	}{
		{scenario: lab.Healthy, wantHosts: []string{"mx1.lab.test", "mx2.lab.test"},
			wantProbe: map[string]string{"mx1.lab.test": "220 in", "mx2.lab.test": "220 in"}},
		{scenario: lab.DeadPrimary, wantHosts: []string{"mx1.lab.test", "mx2.lab.test"},
			wantProbe: map[string]string{"mx1.lab.test": "refused", "mx2.lab.test": "220 in"}},
		{scenario: lab.NullMX, wantNull: true, wantProble: "null MX"},
	} {
		t.Run(tt.scenario, func(t *testing.T) {
			_, b, _ := startTestLab(t, tt.scenario)
			var mu sync.Mutex
			rows := map[string]tui.MXRow{}
			var problems []string
			null := false
			err := b.LookupMX(testCtx(t), lab.Domain, func(ev tui.MXEvent) {
				mu.Lock()
				defer mu.Unlock()
				if ev.Row != nil {
					rows[ev.Row.Host] = *ev.Row
				}
				if ev.Problem != "" {
					problems = append(problems, ev.Problem)
				}
				null = null || ev.NullMX
			})
			if err != nil {
				t.Fatal(err)
			}
			if null != tt.wantNull || len(rows) != len(tt.wantHosts) {
				t.Fatalf("null %v rows %+v, want null %v hosts %v", null, rows, tt.wantNull, tt.wantHosts)
			}
			for _, h := range tt.wantHosts {
				r := rows[h]
				if len(r.Addrs) == 0 || !strings.Contains(r.Probe, tt.wantProbe[h]) {
					t.Errorf("row %s = %+v, want addresses and a probe with %q", h, r, tt.wantProbe[h])
				}
				if r.RDNS == "" || r.RDNSVerdict == tui.Pending {
					t.Errorf("row %s has no reverse DNS verdict: %+v", h, r)
				}
			}
			if tt.wantProble != "" && !strings.Contains(strings.Join(problems, "|"), tt.wantProble) {
				t.Errorf("problems %q lack %q", problems, tt.wantProble)
			}
		})
	}
}

// TestBackendSMTPSession runs EHLO, STARTTLS, a DATA body sent as lines
// without replies, and QUIT, and checks the journal.
func TestBackendSMTPSession(t *testing.T) {
	l, b, dir := startTestLab(t, lab.Healthy)
	ctx := testCtx(t)
	sess, err := b.Connect(ctx, tui.Target{Host: "mx1.lab.test", Addr: "mx1.lab.test:25", Protocol: "smtp", TLS: "starttls"})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if g := sess.Greeting(); g.Code != "220" {
		t.Fatalf("greeting %+v", g)
	}
	steps := []struct {
		lines []string
		code  string
	}{
		{[]string{"EHLO client.lab.test"}, "250"},
		{[]string{"STARTTLS"}, "220"},
	}
	for _, s := range steps {
		r, err := sess.Send(ctx, s.lines...)
		if err != nil || r.Code != s.code {
			t.Fatalf("%q: %+v, %v; want %s", s.lines, r, err, s.code)
		}
	}
	if err := sess.StartTLS(ctx); err != nil {
		t.Fatalf("StartTLS with the lab CA trusted: %v", err)
	}
	for _, s := range []struct {
		lines []string
		code  string
	}{
		{[]string{"EHLO client.lab.test"}, "250"},
		{[]string{"MAIL FROM:<chris@lab.test>"}, "250"},
		{[]string{"RCPT TO:<kate@lab.test>"}, "250"},
		{[]string{"DATA"}, "354"},
		{[]string{"Subject: backend test", "", "line one", "..dot-stuffed"}, ""}, // no reply inside DATA
		{[]string{"."}, "250"},
		{[]string{"QUIT"}, "221"},
	} {
		r, err := sess.Send(ctx, s.lines...)
		if err != nil || r.Code != s.code {
			t.Fatalf("%q: %+v, %v; want code %q", s.lines, r, err, s.code)
		}
	}
	msgs, err := l.Messages("kate")
	if err != nil || len(msgs) != 1 || !strings.Contains(string(msgs[0]), "\n.dot-stuffed") {
		t.Fatalf("kate's mailbox: %d messages, %v", len(msgs), err)
	}
	if err := sess.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	journals, _ := filepath.Glob(filepath.Join(dir, "journal", "*.jsonl"))
	if len(journals) != 1 {
		t.Fatalf("journals %v", journals)
	}
	j, _ := os.ReadFile(journals[0])
	if !strings.Contains(string(j), `"QUIT"`) || !strings.Contains(string(j), `"221"`) {
		t.Errorf("journal lacks the QUIT exchange:\n%s", j)
	}
}

func TestBackendJournalUnwritable(t *testing.T) {
	_, b, _ := startTestLab(t, lab.Healthy)
	b.stateDir = func() (string, error) { return "", errors.New("no home") }
	sess, err := b.Connect(testCtx(t), tui.Target{Host: "mx1.lab.test", Addr: "mx1.lab.test:25", Protocol: "smtp"})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	found := false
	for _, e := range sess.Transcript().Entries() {
		found = found || e.Dir == transcript.Note && e.Level == transcript.Warning && strings.Contains(e.Text(), "no journal")
	}
	if !found {
		t.Error("no warning note about the missing journal")
	}
}

// TestBackendPOP3SecretNotRecorded logs in over POP3 with the password
// registered as a secret, the way the wizard sends PASS.
func TestBackendPOP3SecretNotRecorded(t *testing.T) {
	l, b, _ := startTestLab(t, lab.Healthy)
	ctx := testCtx(t)
	sess, err := b.Connect(ctx, tui.Target{Host: "localhost", Addr: l.Endpoints().POP3, Protocol: "pop3", TLS: "starttls"})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if g := sess.Greeting(); g.Code != "+OK" {
		t.Fatalf("greeting %+v", g)
	}
	if r, err := sess.Send(ctx, "STLS"); err != nil || r.Code != "+OK" {
		t.Fatalf("STLS: %+v %v", r, err)
	}
	if err := sess.StartTLS(ctx); err != nil {
		t.Fatal(err)
	}
	sess.Transcript().AddSecret("kate-pass")
	for _, s := range []struct{ line, code string }{{"USER kate", "+OK"}, {"PASS kate-pass", "+OK"}, {"STAT", "+OK"}, {"RETR 99", "-ERR"}} {
		r, err := sess.Send(ctx, s.line)
		if err != nil || r.Code != s.code || len(r.Lines) == 0 {
			t.Fatalf("%s: %+v, %v; want %s with lines", s.line, r, err, s.code)
		}
	}
	for _, e := range sess.Transcript().Entries() {
		if strings.Contains(string(e.Raw), "kate-pass") {
			t.Fatalf("the password reached the transcript: %q", e.Raw)
		}
	}
}

// TestBackendChecklistEvidence maps real failures onto checklist facts.
func TestBackendChecklistEvidence(t *testing.T) {
	_, b, _ := startTestLab(t, lab.DeadPrimary)
	ctx := testCtx(t)
	_, refused := b.Connect(ctx, tui.Target{Host: "mx1.lab.test", Addr: "mx1.lab.test:25", Protocol: "smtp"})
	if refused == nil {
		t.Fatal("the dead primary accepted a connection")
	}
	r550 := transcript.Reply{Code: "550", Enhanced: "5.1.1", Lines: []string{"550 5.1.1 <kate@lab.test>: Recipient address rejected: User unknown"}}
	tgt := tui.Target{Host: "mx1.lab.test", Addr: "mx1.lab.test:25", Protocol: "smtp"}
	for _, tt := range []struct {
		name  string
		ev    tui.Evidence
		check func(checklist.Evidence) bool
	}{
		{"refused", tui.Evidence{Step: "connect", Err: refused, Target: tgt},
			func(e checklist.Evidence) bool { return e.Connect == checklist.ConnectRefused && e.Port != 0 }},
		{"unknown authority", tui.Evidence{Step: "starttls", Err: &wire.VerifyError{Reason: "unknown-authority", Err: errors.New("x")}, Target: tgt},
			func(e checklist.Evidence) bool {
				return e.TLSError == checklist.TLSUnknownAuthority && e.Connect == checklist.ConnectOK
			}},
		{"mailbox unknown", tui.Evidence{Protocol: "smtp", Step: "rcpt", Command: "RCPT TO:<kate@lab.test>", Reply: &r550, Target: tgt},
			func(e checklist.Evidence) bool {
				return e.Reply.Code == 550 && e.Reply.Enhanced == "5.1.1" && e.Reply.Category == "mailbox-unknown"
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if ev := b.evidence(tt.ev); !tt.check(ev) {
				t.Errorf("evidence %+v", ev)
			}
			items := b.Checklist(tt.ev)
			if len(items) == 0 || items[0].Status != tui.StatusLikely {
				t.Errorf("checklist %+v: want a likely reason first", items)
			}
		})
	}
}

func TestWriteExport(t *testing.T) {
	dir := t.TempDir()
	es := []transcript.Entry{{Seq: 1, Dir: transcript.Client, Proto: "smtp", Raw: []byte("QUIT")}}
	meta := transcript.Meta{Title: "t", Target: "mx1.lab.test:25"}
	for _, f := range []string{"text", "markdown", "jsonl"} {
		p := filepath.Join(dir, "out."+f)
		if err := writeExport(p, f, meta, es); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		b, _ := os.ReadFile(p)
		if !strings.Contains(string(b), "QUIT") || !strings.Contains(string(b), "mx1.lab.test:25") {
			t.Errorf("%s export lacks the entry or the target:\n%s", f, b)
		}
		// The dialog has asked already: a second write overwrites.
		if err := writeExport(p, f, meta, es); err != nil {
			t.Errorf("%s overwrite: %v", f, err)
		}
	}
	if err := writeExport(filepath.Join(dir, "x"), "pdf", meta, es); err == nil {
		t.Error("an unknown format was accepted")
	}
}
