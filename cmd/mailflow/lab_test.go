package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailflow/mailflow/session/lab"
)

// runLabCmd runs "mailflow lab ARGS" and returns the exit status main
// would use and stderr with the error.
func runLabCmd(ctx context.Context, t *testing.T, stdout io.Writer, args ...string) (int, string) {
	t.Helper()
	return execMailflow(ctx, t, nil, stdout, append([]string{"lab"}, args...)...)
}

func TestLabScenarioList(t *testing.T) {
	var out bytes.Buffer
	code, _ := runLabCmd(context.Background(), t, &out, "--scenario", "list")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(lab.Scenarios()) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(lab.Scenarios()), out.String())
	}
	for i, s := range lab.Scenarios() {
		if !strings.HasPrefix(lines[i], s.Name+" ") || !strings.Contains(lines[i], s.Description) {
			t.Errorf("line %d = %q, want %s and its description", i, lines[i], s.Name)
		}
	}
	out.Reset()
	if code, _ := runLabCmd(context.Background(), t, &out, "--scenario", "list", "--json"); code != exitOK {
		t.Fatalf("--json: exit %d", code)
	}
	var list []lab.Scenario
	if err := json.Unmarshal(out.Bytes(), &list); err != nil || len(list) != len(lab.Scenarios()) || list[0].Conclusion == "" {
		t.Errorf("--json list: %v %+v", err, list)
	}
}

func TestLabBadUsage(t *testing.T) {
	tests := [][]string{
		{"--scenario", "no-such-fault", "--serve"},
		{"--serve", "--smtp", "not-an-address"},
		{"--serve", "--greylist-delay", "0s"},
		{"extra-arg"},
	}
	for _, args := range tests {
		var out bytes.Buffer
		code, errs := runLabCmd(context.Background(), t, &out, args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d (%s), want %d", args, code, errs, exitUsage)
		}
	}
}

func TestLabPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var out bytes.Buffer
	if code, errs := runLabCmd(context.Background(), t, &out, "--serve", "--smtp", ln.Addr().String()); code != exitUnreachable {
		t.Errorf("exit %d (%s), want %d", code, errs, exitUnreachable)
	}
}

// TestLabServeJSON starts "mailflow lab --serve --json", parses the one
// JSON object, talks to the servers it names, then interrupts it.
func TestLabServeJSON(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	type result struct {
		code int
		errs string
	}
	done := make(chan result, 1)
	go func() {
		code, errs := runLabCmd(ctx, t, pw, "--serve", "--json", "--scenario", "user-unknown", "--write-ca", caFile)
		pw.Close()
		done <- result{code, errs}
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading JSON: %v", err)
	}
	go io.Copy(io.Discard, pr)
	var e lab.Endpoints
	if err := json.Unmarshal([]byte(line), &e); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, line)
	}
	if e.Scenario != "user-unknown" || e.SMTP == "" || e.IMAPS == "" || e.DNS == "" || len(e.MX) != 2 || len(e.Users) != 2 {
		t.Fatalf("endpoints: %+v", e)
	}
	// The SMTP server answers at once and applies the scenario.
	c, err := net.DialTimeout("tcp", e.SMTP, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	expect := func(cmd, prefix string) {
		t.Helper()
		if cmd != "" {
			c.Write([]byte(cmd + "\r\n"))
		}
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("%s: %v", cmd, err)
			}
			if len(l) > 3 && l[3] == '-' {
				continue
			}
			if !strings.HasPrefix(l, prefix) {
				t.Fatalf("%s: got %q, want %q", cmd, l, prefix)
			}
			return
		}
	}
	expect("", "220 ")
	expect("EHLO client.example.org", "250 ")
	expect("MAIL FROM:<a@example.org>", "250 ")
	expect("RCPT TO:<kate@lab.test>", "550 5.1.1")
	c.Close()
	// The CA file on disk is the lab CA and verifies IMAPS.
	pem, err := os.ReadFile(caFile)
	if err != nil || string(pem) != e.CAPEM {
		t.Fatalf("CA file: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tc, err := tls.Dial("tcp", e.IMAPS, &tls.Config{RootCAs: pool, ServerName: "mail.lab.test"})
	if err != nil {
		t.Fatalf("IMAPS with the written CA: %v", err)
	}
	tc.Close()

	cancel()
	select {
	case res := <-done:
		if res.code != exitOK {
			t.Errorf("exit %d after interrupt: %s", res.code, res.errs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("lab --serve did not stop after the context was cancelled")
	}
	if c, err := net.DialTimeout("tcp", e.SMTP, time.Second); err == nil {
		c.Close()
		t.Error("SMTP still listening after the command returned")
	}
}

func TestLabServeTable(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code, _ := runLabCmd(ctx, t, pw, "--serve", "--scenario", "null-mx")
		pw.Close()
		done <- code
	}()
	var text strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		text.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "Press Ctrl-C") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("exit %d", code)
	}
	for _, want := range []string{"scenario null-mx", "SMTP ", "IMAPS ", "MX 0 .", "kate / kate-pass"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, text.String())
		}
	}
}

// TestLabTUIHook checks that without --serve the TUI hook gets the lab.
func TestLabTUIHook(t *testing.T) {
	oldHook, oldTerm := runLabTUI, stdinIsTerminal
	defer func() { runLabTUI, stdinIsTerminal = oldHook, oldTerm }()
	stdinIsTerminal = func() bool { return true }
	var got string
	runLabTUI = func(ctx context.Context, l *lab.Lab) error {
		got = l.Scenario()
		c, err := net.DialTimeout("tcp", l.Endpoints().POP3, 5*time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	}
	var out bytes.Buffer
	if code, errs := runLabCmd(context.Background(), t, &out, "--scenario", "greylisted"); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got != "greylisted" {
		t.Errorf("hook saw scenario %q", got)
	}
	if out.Len() != 0 {
		t.Errorf("TUI mode printed endpoints: %q", out.String())
	}
}
