package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailflow/mailflow/internal/realpeers"
)

// TestMain stops the real mail servers the check tests start
// (internal/realpeers).
func TestMain(m *testing.M) { os.Exit(realpeers.Main(m)) }

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

func TestCheckUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing", nil, "nothing to check"},
		{"both", []string{"example.test", "--server", "127.0.0.1:25"}, "not both"},
		{"password flag does not exist", []string{"--server", "127.0.0.1:25", "--password", "x"}, "unknown flag"},
		{"bad tls", []string{"--server", "127.0.0.1:25", "--tls", "maybe"}, "unknown TLS mode"},
		{"bad recipient", []string{"--server", closedPort(t), "--to", "a\nb@c"}, "--to"},
		{"missing password file", []string{"--server", "127.0.0.1:25", "--user", "kate", "--password-file", "/nonexistent/pw"}, "--password-file"},
		{"domain mode with pop3", []string{"example.test", "--protocol", "pop3"}, "speak SMTP"},
		{"unknown protocol", []string{"--server", "127.0.0.1:25", "--protocol", "gopher"}, "unknown protocol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCheckCmd(t, tt.args...)
			if code != exitUsage {
				t.Fatalf("exit = %d, want 2; out %s err %s", code, out, errOut)
			}
			if !strings.Contains(out+errOut, tt.want) {
				t.Fatalf("output lacks %q:\n%s%s", tt.want, out, errOut)
			}
		})
	}
}

func TestCheckHelpSaysNoPasswordFlag(t *testing.T) {
	cmd := newCheckCmd()
	if cmd.Flags().Lookup("password") != nil {
		t.Fatal("a --password flag exists")
	}
	if !strings.Contains(cmd.Long, "no --password flag") || cmd.Example == "" {
		t.Fatal("help does not explain where passwords come from, or has no example")
	}
}

func TestCheckUnreachableExit3(t *testing.T) {
	code, out, _ := runCheckCmd(t, "--server", closedPort(t))
	if code != exitUnreachable || !strings.Contains(out, "UNREACHABLE") || !strings.Contains(out, "✗ failed (refused)") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
}

func TestCheckRealPostfix(t *testing.T) {
	m := realpeers.Postfix(t)
	m.LogOnFailure(t)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("kate-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("ok probe with transcript", func(t *testing.T) {
		tr := filepath.Join(dir, "probe.md")
		code, out, errOut := runCheckCmd(t, "--server", m.SMTP, "--tls", "starttls", "--ca-file", m.CAFile,
			"--from", "tester@example.org", "--to", m.Address("kate"), "--transcript", tr)
		if code != exitOK {
			t.Fatalf("exit %d:\n%s%s", code, out, errOut)
		}
		for _, w := range []string{"STEP", "starttls", "RCPT TO:<kate@" + m.Domain + ">", "✓ ok", "TLS 1.3", "verified for", "Result: ✓ OK"} {
			if !strings.Contains(out, w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
		b, err := os.ReadFile(tr)
		if err != nil || !strings.Contains(string(b), "RCPT TO:<kate@") {
			t.Fatalf("transcript file: %v\n%s", err, b)
		}
	})
	t.Run("refused exit 1 json", func(t *testing.T) {
		code, out, _ := runCheckCmd(t, "--server", m.SMTP, "--from", "tester@example.org", "--to", "nobody-xyz@"+m.Domain, "--json")
		if code != exitRefused {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		var res struct {
			Steps []struct {
				Name         string   `json:"name"`
				Command      string   `json:"command"`
				ReplyCode    string   `json:"reply_code"`
				EnhancedCode string   `json:"enhanced_code"`
				Reply        []string `json:"reply"`
				OK           bool     `json:"ok"`
				RTTms        *float64 `json:"rtt_ms"`
			} `json:"steps"`
			TLS   any    `json:"tls"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("JSON: %v\n%s", err, out)
		}
		var found bool
		for _, s := range res.Steps {
			if s.Name == "rcpt" && s.ReplyCode == "550" && s.EnhancedCode == "5.1.1" && !s.OK && s.RTTms != nil && len(s.Reply) == 1 {
				found = true
			}
		}
		if !found || !strings.Contains(res.Error, "550") {
			t.Fatalf("no refused rcpt step in JSON:\n%s", out)
		}
	})
	t.Run("auth from password file", func(t *testing.T) {
		tr := filepath.Join(dir, "auth.jsonl")
		code, out, errOut := runCheckCmd(t, "--server", m.Submission, "--tls", "starttls", "--ca-file", m.CAFile,
			"--user", "kate", "--password-file", pwFile, "--auth-mech", "LOGIN", "--transcript", tr)
		if code != exitOK {
			t.Fatalf("exit %d:\n%s%s", code, out, errOut)
		}
		b, _ := os.ReadFile(tr)
		if strings.Contains(out+string(b), "kate-pass") || strings.Contains(out+string(b), "a2F0ZS1wYXNz") {
			t.Fatal("password in output or transcript")
		}
		if !strings.Contains(string(b), "redacted") {
			t.Fatalf("transcript has no redacted password line:\n%s", b)
		}
	})
	t.Run("auth from environment", func(t *testing.T) {
		t.Setenv(passwordEnv, "kate-pass")
		code, out, errOut := runCheckCmd(t, "--server", m.Submission, "--tls", "starttls", "--ca-file", m.CAFile, "--user", "kate")
		if code != exitOK {
			t.Fatalf("exit %d:\n%s%s", code, out, errOut)
		}
	})
	t.Run("certificate without CA exit 1", func(t *testing.T) {
		code, out, _ := runCheckCmd(t, "--server", m.SMTP, "--tls", "starttls")
		if code != exitRefused || !strings.Contains(out, "unknown-authority") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
}
