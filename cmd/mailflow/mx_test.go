package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mailflow/mailflow/diag/mx/mxtest"
)

// runMxCmd runs "mailflow mx ARGS" and returns the exit status main would
// use and what was printed.
func runMxCmd(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return runOutput(t, "", append([]string{"mx"}, args...)...)
}

const cmdZone = `
ok.test. 300 IN MX 10 mx.ok.test.
mx.ok.test. 300 IN A 192.0.2.1
1.2.0.192.in-addr.arpa. 300 IN PTR mx.ok.test.
ok.test. 300 IN TXT "v=spf1 mx -all"
nullmx.test. 300 IN MX 0 .
dead.test. 300 IN MX 10 nowhere.dead.test.
evil.test. 300 IN MX 10 mx.evil.test.
mx.evil.test. 300 IN A 192.0.2.66
evil.test. 300 IN TXT "v=spf1 \027[31mred\027[0m -all"
_dmarc.evil.test. 300 IN TXT "v=DMARC1; p=none; rua=mailto:\027[31mred@evil.test\013"
`

func TestMxCommandExitCodes(t *testing.T) {
	s := mxtest.Start(t, cmdZone)
	s.Rcode("refused.test", 0, dns.RcodeRefused)
	s.Silence("silent.test", 0)
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"healthy", []string{"ok.test"}, exitOK, []string{"Domain   ok.test", "mx.ok.test", "192.0.2.1", "mx.ok.test ✓ confirmed", "SPF      ok: 1 of 10"}},
		{"null MX", []string{"nullmx.test"}, exitRefused, []string{"null MX"}},
		{"nxdomain", []string{"nope.test"}, exitRefused, []string{"does not exist"}},
		{"unresolvable host", []string{"dead.test"}, exitRefused, []string{"no address (nxdomain)"}},
		{"refused", []string{"refused.test"}, exitUnreachable, []string{"refused"}},
		{"timeout", []string{"silent.test", "--timeout", "600ms"}, exitUnreachable, []string{"timeout"}},
		{"bad domain", []string{"exa mple.com"}, exitUsage, []string{"space in domain"}},
		{"IP instead of domain", []string{"192.0.2.1"}, exitUsage, []string{"that is an IP address"}},
		{"bad resolver", []string{"ok.test", "--resolver", "host:99999"}, exitUsage, []string{"out of range"}},
		{"no args", nil, exitUsage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if len(args) > 0 && tt.name != "bad resolver" {
				args = append(args, "--resolver", s.Addr)
			}
			code, out := runMxCmd(t, args...)
			if code != tt.code {
				t.Errorf("exit status = %d, want %d; output:\n%s", code, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestMxCommandNoResolver(t *testing.T) {
	o := &mxOptions{timeout: 1e9, resolvConf: t.TempDir() + "/missing.conf"}
	err := runMx(context.Background(), &bytes.Buffer{}, "ok.test", o)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUnreachable || !strings.Contains(err.Error(), "--resolver") {
		t.Errorf("runMx without resolver = %v, want exit 3 with a --resolver hint", err)
	}
}

func TestMxCommandSanitisesAndFits(t *testing.T) {
	s := mxtest.Start(t, cmdZone)
	code, out := runMxCmd(t, "evil.test", "--resolver", s.Addr)
	if code != exitOK {
		t.Fatalf("exit status = %d:\n%s", code, out)
	}
	if strings.ContainsRune(out, 0x1b) {
		t.Errorf("raw ESC printed:\n%q", out)
	}
	if !strings.Contains(out, "rua=mailto:␛[31mred@evil.test") {
		t.Errorf("the escape from the SPF record is not shown as a visible glyph:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if n := len([]rune(l)); n > mxWidth {
			t.Errorf("line of %d columns: %q", n, l)
		}
	}
}

func TestMxCommandJSON(t *testing.T) {
	s := mxtest.Start(t, cmdZone)
	for _, tc := range []struct {
		domain string
		code   int
		kind   string
	}{
		{"ok.test", exitOK, ""},
		{"nope.test", exitRefused, "nxdomain"},
		{"nullmx.test", exitRefused, ""},
	} {
		code, out := runMxCmd(t, tc.domain, "--json", "--resolver", s.Addr)
		if code != tc.code {
			t.Errorf("%s: exit status = %d, want %d", tc.domain, code, tc.code)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("%s: output is not JSON: %v\n%s", tc.domain, err, out)
		}
		for _, k := range []string{"domain", "ascii_domain", "mx", "implicit_mx", "null_mx", "records", "problems", "error"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: JSON lacks %q", tc.domain, k)
			}
		}
		if tc.kind == "" {
			if m["error"] != nil {
				t.Errorf("%s: error = %v, want null", tc.domain, m["error"])
			}
		} else if e, _ := m["error"].(map[string]any); e == nil || e["kind"] != tc.kind || e["message"] == "" {
			t.Errorf("%s: error = %v, want kind %q", tc.domain, m["error"], tc.kind)
		}
		if tc.domain == "nullmx.test" && m["null_mx"] != true {
			t.Errorf("null_mx = %v", m["null_mx"])
		}
	}
}
