package lab

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// strictTools reports whether a missing client tool fails the test rather
// than skipping it; the rule matches internal/realpeers.Strict.
func strictTools() bool {
	return os.Getenv("CI") == "true" || os.Getenv("MAILFLOW_REAL_PEERS") == "1"
}

// requireTool returns the path of a command-line tool, skipping the test
// locally when it is missing and failing it under CI.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if strictTools() {
			t.Fatalf("%s is required when CI=true: %v", name, err)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
	return p
}

// runTool runs a tool with a deadline and returns its combined output.
func runTool(t *testing.T, stdin string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func writeCA(t *testing.T, l *Lab) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "lab-ca.pem")
	if err := os.WriteFile(p, l.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func hostPort(t *testing.T, addr string) (string, string) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

func TestSwaks(t *testing.T) {
	swaks := requireTool(t, "swaks")
	l := startLab(t, Healthy)
	ca := writeCA(t, l)
	e := l.Endpoints()
	common := func(addr string) []string {
		h, p := hostPort(t, addr)
		return []string{"--server", h, "--port", p, "--helo", "client.example.org",
			"--from", "chris@lab.test", "--to", "kate@lab.test", "--tls-verify", "--tls-ca-path", ca,
			"--header", "Subject: swaks test"}
	}
	tests := []struct {
		name string
		args []string
	}{
		{"smtp-starttls", append(common(e.SMTP), "--tls")},
		{"submission-plain", append(common(e.Submission), "--tls", "--auth", "PLAIN", "--auth-user", "kate", "--auth-password", "kate-pass")},
		{"submission-login", append(common(e.Submission), "--tls", "--auth", "LOGIN", "--auth-user", "kate@lab.test", "--auth-password", "kate-pass")},
		{"smtps", append(common(e.SMTPS), "--tlsc", "--auth", "PLAIN", "--auth-user", "chris", "--auth-password", "chris-pass")},
	}
	for i, tt := range tests {
		out, err := runTool(t, "", swaks, tt.args...)
		if err != nil {
			t.Fatalf("%s: swaks failed: %v\n%s", tt.name, err, out)
		}
		if !strings.Contains(out, "<~  250") || strings.Contains(out, "<** ") {
			t.Errorf("%s: unexpected transcript:\n%s", tt.name, out)
		}
		msgs, err := l.Messages("kate")
		if err != nil || len(msgs) != i+1 {
			t.Fatalf("%s: kate has %d messages (%v), want %d", tt.name, len(msgs), err, i+1)
		}
	}
	// A failing scenario: swaks reports the 535 and exits non-zero.
	if err := l.SetScenario(AuthFailed); err != nil {
		t.Fatal(err)
	}
	out, err := runTool(t, "", swaks, tests[1].args...)
	if err == nil || !strings.Contains(out, "535 5.7.8") {
		t.Errorf("auth-failed: swaks err=%v\n%s", err, out)
	}
}

func TestOpenSSLClient(t *testing.T) {
	openssl := requireTool(t, "openssl")
	l := startLab(t, Healthy)
	ca := writeCA(t, l)
	e := l.Endpoints()
	base := []string{"s_client", "-quiet", "-CAfile", ca, "-verify_return_error", "-verify_hostname", "mail.lab.test", "-servername", "mail.lab.test"}
	tests := []struct {
		name, addr, starttls, stdin, want string
	}{
		{"smtp", e.SMTP, "smtp", "EHLO client.example.org\r\nQUIT\r\n", "221 2.0.0"},
		{"submission", e.Submission, "smtp", "EHLO client.example.org\r\nQUIT\r\n", "AUTH PLAIN LOGIN"},
		{"pop3", e.POP3, "pop3", "CAPA\r\nQUIT\r\n", "+OK Bye"},
		{"imap", e.IMAP, "imap", "a LOGOUT\r\n", "a OK"},
		{"smtps", e.SMTPS, "", "QUIT\r\n", "220 mail.lab.test"},
		{"pop3s", e.POP3S, "", "QUIT\r\n", "+OK mailflow lab POP3 ready."},
		{"imaps", e.IMAPS, "", "a LOGOUT\r\n", "* BYE"},
	}
	for _, tt := range tests {
		args := append(append([]string{}, base...), "-connect", tt.addr)
		if tt.starttls != "" {
			args = append(args, "-starttls", tt.starttls)
		}
		out, err := runTool(t, tt.stdin, openssl, args...)
		if err != nil || !strings.Contains(out, tt.want) {
			t.Errorf("%s: err=%v, want %q in:\n%s", tt.name, err, tt.want, out)
		}
	}
	// Under untrusted-cert, verification against the lab CA fails.
	if err := l.SetScenario(UntrustedCert); err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{}, base...), "-connect", e.SMTPS)
	out, err := runTool(t, "QUIT\r\n", openssl, args...)
	if err == nil || strings.Contains(out, "220 ") {
		t.Errorf("untrusted-cert: openssl verified the rogue certificate: err=%v\n%s", err, out)
	}
}

func TestCurl(t *testing.T) {
	curl := requireTool(t, "curl")
	l := startLab(t, Healthy)
	ca := writeCA(t, l)
	e := l.Endpoints()
	msgFile := filepath.Join(t.TempDir(), "msg.eml")
	if err := os.WriteFile(msgFile, []byte("From: chris@lab.test\r\nTo: kate@lab.test\r\nSubject: via curl\r\n\r\nhello from curl\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"-sS", "--max-time", "20", "--cacert", ca}
	run := func(args ...string) string {
		t.Helper()
		out, err := runTool(t, "", curl, append(append([]string{}, base...), args...)...)
		if err != nil {
			t.Fatalf("curl %v: %v\n%s", args, err, out)
		}
		return out
	}
	run("--ssl-reqd", "smtp://"+e.SMTP, "--mail-from", "chris@lab.test", "--mail-rcpt", "kate@lab.test", "-T", msgFile)
	run("smtps://"+e.SMTPS, "-u", "chris:chris-pass", "--mail-from", "chris@lab.test", "--mail-rcpt", "kate@lab.test", "-T", msgFile)
	if out := run("--ssl-reqd", "-u", "kate:kate-pass", "pop3://"+e.POP3+"/1"); !strings.Contains(out, "hello from curl") {
		t.Errorf("pop3 RETR: %q", out)
	}
	if out := run("-u", "kate:kate-pass", "pop3s://"+e.POP3S+"/"); !strings.Contains(out, "1 ") || !strings.Contains(out, "2 ") {
		t.Errorf("pop3s LIST: %q", out)
	}
	if out := run("--ssl-reqd", "-u", "kate:kate-pass", "imap://"+e.IMAP+"/INBOX;UID=1"); !strings.Contains(out, "Subject: via curl") {
		t.Errorf("imap FETCH: %q", out)
	}
	if out := run("-u", "kate:kate-pass", "imaps://"+e.IMAPS+"/INBOX;UID=2"); !strings.Contains(out, "hello from curl") {
		t.Errorf("imaps FETCH: %q", out)
	}
	// Without the lab CA, curl refuses the certificate.
	out, err := runTool(t, "", curl, "-sS", "--max-time", "20", "-u", "kate:kate-pass", "pop3s://"+e.POP3S+"/")
	if err == nil {
		t.Errorf("curl trusted the lab without --cacert:\n%s", out)
	}
}

func TestDig(t *testing.T) {
	dig := requireTool(t, "dig")
	l := startLab(t, Healthy)
	h, p := hostPort(t, l.Endpoints().DNS)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"lab.test", "MX"}, "10 mx1.lab.test.\n20 mx2.lab.test."},
		{[]string{"mx1.lab.test", "A"}, "127.0.0.1"},
		{[]string{"lab.test", "TXT"}, `"v=spf1 ip4:127.0.0.0/8 -all"`},
		{[]string{"_dmarc.lab.test", "TXT"}, `"v=DMARC1; p=reject; rua=mailto:dmarc@lab.test"`},
		{[]string{"-x", "127.0.0.1"}, "mx1.lab.test."},
		{[]string{"+tcp", "lab.test", "MX"}, "10 mx1.lab.test.\n20 mx2.lab.test."},
	}
	for _, tt := range tests {
		args := append([]string{"@" + h, "-p", p, "+short", "+time=5", "+tries=1"}, tt.args...)
		out, err := runTool(t, "", dig, args...)
		if err != nil {
			t.Fatalf("dig %v: %v\n%s", tt.args, err, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		slices.Sort(lines)
		if got := strings.Join(lines, "\n"); got != tt.want {
			t.Errorf("dig %v = %q, want %q", tt.args, got, tt.want)
		}
	}
	if err := l.SetScenario(NullMX); err != nil {
		t.Fatal(err)
	}
	out, err := runTool(t, "", dig, "@"+h, "-p", p, "+short", "lab.test", "MX")
	if err != nil || strings.TrimSpace(out) != "0 ." {
		t.Errorf("null-mx: dig = %q, %v", out, err)
	}
}
