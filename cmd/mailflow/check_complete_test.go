package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mailflow/mailflow/diag/mx/mxtest"
	"github.com/mailflow/mailflow/internal/peertest"
)

func TestCheckNewUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"4 and 6", []string{"--server", "127.0.0.1:25", "--4", "--6"}, "not both"},
		{"all-mx with server", []string{"--server", "127.0.0.1:25", "--all-mx"}, "--all-mx needs a DOMAIN"},
		{"bad quit-after", []string{"--server", "127.0.0.1:25", "--quit-after", "dot"}, "want one of"},
		{"param with space", []string{"--server", "127.0.0.1:25", "--to", "a@b.test", "--mail-param", "X=a b"}, "--mail-param"},
		{"rcpt param with CR", []string{"--server", "127.0.0.1:25", "--to", "a@b.test", "--rcpt-param", "X=a\rb"}, "--rcpt-param"},
		{"bad ret", []string{"--server", "127.0.0.1:25", "--ret", "most"}, "FULL or HDRS"},
		{"domains with server", []string{"--domains", "-", "--server", "127.0.0.1:25"}, "--domains"},
		{"bad socks", []string{"--server", "127.0.0.1:25", "--socks5", "nowhere"}, "--socks5"},
		{"bad timeout", []string{"--server", "127.0.0.1:25", "--connect-timeout", "0s"}, "--connect-timeout"},
		{"send with quit-after", []string{"--server", "127.0.0.1:25", "--from", "a@b.test", "--to", "c@d.test", "--send", "--quit-after", "mail"}, "cannot be combined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCheckCmd(t, tt.args...)
			if code != exitUsage || !strings.Contains(out+errOut, tt.want) {
				t.Fatalf("exit %d, want 2 with %q:\n%s%s", code, tt.want, out, errOut)
			}
		})
	}
}

// A domain whose first MX defers with 421: the human report shows both
// hosts, the verdict per family, the explanation is absent (mail flows),
// and the JSON carries the new fields under stable names.
func TestCheckDomainReportAndJSON(t *testing.T) {
	lns, port := peertest.ListenSamePort(t, "127.0.0.2", "127.0.0.3")
	(&smtpPeer{greeting: "421 4.3.2 mx1 is busy"}).serve(t, lns[0])
	good := &smtpPeer{}
	good.serve(t, lns[1])
	dns := mxtest.Start(t, `
flow.test. 300 IN MX 10 mx1.flow.test.
flow.test. 300 IN MX 20 mx2.flow.test.
mx1.flow.test. 300 IN A 127.0.0.2
mx2.flow.test. 300 IN A 127.0.0.3
`)
	base := []string{"flow.test", "--resolver", dns.Addr, "--port", strconv.Itoa(port), "--from", "a@b.test",
		"--to", "x@flow.test", "--to", "y@flow.test", "--timeout", "5s", "--connect-timeout", "2s"}
	code, out, errOut := runCheckCmd(t, base...)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	for _, w := range []string{"MX hosts:", "mx1.flow.test", "✗ deferred (temporary)", "421 4.3.2 mx1 is busy", "mx2.flow.test", "Recipients:", "y@flow.test", "✓ accepted", "Result: ✓ OK"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	code, out, _ = runCheckCmd(t, append(base, "--json")...)
	if code != exitOK {
		t.Fatalf("json exit %d", code)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"protocol", "server", "address", "tls", "steps", "hosts", "error", "exit", "domain", "quit_after", "greeting", "recipients", "mx_hosts", "families", "elapsed_ms"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	hosts := m["hosts"].([]any)
	h0 := hosts[0].(map[string]any)
	if h0["verdict"] != "deferred" || h0["family"] != "ipv4" || h0["reply_code"] != "421" {
		t.Errorf("hosts[0] = %v", h0)
	}
}

// A refusal is explained: summary, causes and next steps, wrapped to 80
// columns.
func TestCheckExplainsRefusal(t *testing.T) {
	lns, _ := peertest.ListenSamePort(t, "127.0.0.1")
	(&smtpPeer{rcpt: func(string) string {
		return "550 5.1.1 <nobody@flow.test>: Recipient address rejected: User unknown in virtual mailbox table"
	}}).serve(t, lns[0])
	code, out, _ := runCheckCmd(t, "--server", lns[0].Addr().String(), "--from", "a@b.test", "--to", "nobody@flow.test")
	if code != exitRefused {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, w := range []string{"Why: 550 5.1.1 at rcpt:", "Likely causes:", "Next steps:"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	inWhy := false
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "Why:") {
			inWhy = true
		}
		if strings.HasPrefix(l, "Result:") {
			inWhy = false
		}
		if inWhy && len([]rune(l)) > 80 {
			t.Errorf("explanation line longer than 80 columns: %q", l)
		}
	}
}

// The flags of DSN and free parameters reach the wire.
func TestCheckDSNFlagsOnTheWire(t *testing.T) {
	lns, _ := peertest.ListenSamePort(t, "127.0.0.1")
	p := &smtpPeer{}
	p.serve(t, lns[0])
	code, out, errOut := runCheckCmd(t, "--server", lns[0].Addr().String(), "--helo", "c.test", "--from", "a@b.test", "--to", "x@y.test",
		"--notify", "never", "--ret", "full", "--envid", "run 42", "--mail-param", "X-A=1", "--rcpt-param", "X-B", "--quit-after", "rcpt")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	got := strings.Join(p.conn(t), "\n")
	for _, w := range []string{"MAIL FROM:<a@b.test> RET=FULL ENVID=run+2042 X-A=1", "RCPT TO:<x@y.test> NOTIFY=NEVER X-B"} {
		if !strings.Contains(got, w) {
			t.Errorf("wire lacks %q:\n%s", w, got)
		}
	}
}

// --show-commands: no password anywhere, the placeholder instead, and
// the swaks and curl lines really run against the same server when the
// tools are installed.
func TestCheckShowCommands(t *testing.T) {
	lns, _ := peertest.ListenSamePort(t, "127.0.0.1")
	p := &smtpPeer{}
	p.serve(t, lns[0])
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("s3cret-Pw\n"), 0o600)
	server := lns[0].Addr().String()
	code, out, errOut := runCheckCmd(t, "--server", server, "--from", "a@b.test", "--to", "x@y.test",
		"--user", "kate", "--password-file", pw, "--show-commands")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	p.conn(t)
	if strings.Contains(out, "s3cret") {
		t.Fatalf("password in output:\n%s", out)
	}
	var swaks, curl, openssl string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "swaks "):
			swaks = l
		case strings.HasPrefix(l, "curl "):
			curl = l
		case strings.HasPrefix(l, "openssl s_client "):
			openssl = l
		}
	}
	for name, l := range map[string]string{"swaks": swaks, "curl": curl, "openssl": openssl} {
		if l == "" {
			t.Fatalf("no %s line:\n%s", name, out)
		}
	}
	if !strings.Contains(swaks, `--auth-password "$MAILFLOW_PASSWORD"`) || !strings.Contains(swaks, "--server "+server) ||
		!strings.Contains(swaks, "--quit-after RCPT") || !strings.Contains(curl, `"kate:$MAILFLOW_PASSWORD"`) ||
		!strings.Contains(openssl, "-connect "+server+" -starttls smtp") {
		t.Fatalf("command lines:\n%s\n%s\n%s", swaks, curl, openssl)
	}
	// JSON carries them too, under "commands".
	_, out, _ = runCheckCmd(t, "--server", server, "--from", "a@b.test", "--to", "x@y.test", "--show-commands", "--json")
	p.conn(t)
	var m struct {
		Commands struct{ Swaks, OpenSSL, Curl string } `json:"commands"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil || !strings.HasPrefix(m.Commands.Swaks, "swaks ") {
		t.Fatalf("JSON commands: %v\n%s", err, out)
	}
	// Run them for real.
	for _, c := range []struct{ tool, line, want string }{{"swaks", swaks, "RCPT TO:<x@y.test>"}, {"curl", curl, "NOOP"}} {
		if _, err := exec.LookPath(c.tool); err != nil {
			t.Logf("%s not installed; not run", c.tool)
			continue
		}
		cmd := exec.Command("sh", "-c", c.line)
		cmd.Env = append(os.Environ(), "MAILFLOW_PASSWORD=s3cret-Pw")
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", c.line, err, b)
			continue
		}
		got := strings.Join(p.conn(t), "\n")
		if !strings.Contains(got, c.want) || !strings.Contains(got, "AUTH") {
			t.Errorf("%s sent:\n%s", c.tool, got)
		}
	}
}

// --socks5: with --server the host name goes to the proxy unresolved; in
// DOMAIN mode an MX without a local address is handed over by name.
func TestCheckSOCKS5(t *testing.T) {
	lns, port := peertest.ListenSamePort(t, "127.0.0.1")
	p := &smtpPeer{}
	p.serve(t, lns[0])
	proxy := startSOCKS(t, lns[0].Addr().String())
	code, out, errOut := runCheckCmd(t, "--server", "mail.behind-proxy.test:2525", "--socks5", proxy.addr, "--from", "a@b.test", "--to", "x@y.test")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	p.conn(t)
	if got := proxy.requests(); len(got) != 1 || got[0] != "name:mail.behind-proxy.test:2525" {
		t.Fatalf("proxy was asked for %v", got)
	}
	dns := mxtest.Start(t, `
tunnel.test. 300 IN MX 10 mx.inside.test.
`)
	code, out, errOut = runCheckCmd(t, "tunnel.test", "--resolver", dns.Addr, "--port", strconv.Itoa(port), "--socks5", proxy.addr)
	if code != exitOK {
		t.Fatalf("domain via proxy: exit %d:\n%s%s", code, out, errOut)
	}
	p.conn(t)
	if got := proxy.requests(); len(got) != 2 || got[1] != "name:mx.inside.test:"+strconv.Itoa(port) {
		t.Fatalf("proxy was asked for %v", got)
	}
	// Without the proxy the same MX has no address: unreachable.
	code, _, _ = runCheckCmd(t, "tunnel.test", "--resolver", dns.Addr, "--port", strconv.Itoa(port))
	if code != exitUnreachable {
		t.Fatalf("without proxy: exit %d", code)
	}
}

// --timeout is per step: a server that never greets is given up on after
// it, and the report says timeout.
func TestCheckStepTimeout(t *testing.T) {
	lns, _ := peertest.ListenSamePort(t, "127.0.0.1")
	(&smtpPeer{delay: 5e9}).serve(t, lns[0])
	code, out, _ := runCheckCmd(t, "--server", lns[0].Addr().String(), "--timeout", "300ms", "--json")
	var m struct {
		ErrorKind string `json:"error_kind"`
	}
	json.Unmarshal([]byte(out), &m)
	if code != exitUnreachable || m.ErrorKind != "timeout" {
		t.Fatalf("exit %d kind %q:\n%s", code, m.ErrorKind, out)
	}
}

// Batch: three domains, one of which cannot be reached; JSON lines in
// input order, exit 3, nothing on stderr (not a terminal).
func TestCheckBatch(t *testing.T) {
	lns, port := peertest.ListenSamePort(t, "127.0.0.2")
	p := &smtpPeer{rcpt: func(to string) string {
		if strings.Contains(to, "two.test") {
			return "550 5.7.1 relay denied"
		}
		return "250 2.1.5 ok"
	}}
	p.serve(t, lns[0])
	dns := mxtest.Start(t, `
one.test. 300 IN MX 10 mx.one.test.
mx.one.test. 300 IN A 127.0.0.2
two.test. 300 IN MX 10 mx.two.test.
mx.two.test. 300 IN A 127.0.0.2
dead.test. 300 IN MX 10 mx.dead.test.
mx.dead.test. 300 IN A 127.0.0.9
`)
	dir := t.TempDir()
	list := filepath.Join(dir, "domains.txt")
	os.WriteFile(list, []byte("# test domains\none.test\n\n  dead.test   # no server\ntwo.test\none.test\n"), 0o644)
	common := []string{"--to", "postmaster@{domain}", "--resolver", dns.Addr, "--port", strconv.Itoa(port), "--connect-timeout", "1s", "--timeout", "5s", "--parallel", "2"}

	code, out, errOut := runCheckCmd(t, append([]string{"--domains", list, "--json"}, common...)...)
	if code != exitUnreachable {
		t.Fatalf("exit %d, want 3:\n%s%s", code, out, errOut)
	}
	if errOut != "" {
		t.Fatalf("stderr is not a terminal but got %q", errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d JSON lines, want 3:\n%s", len(lines), out)
	}
	want := []struct {
		domain string
		exit   int
	}{{"one.test", 0}, {"dead.test", 3}, {"two.test", 1}}
	for i, l := range lines {
		var m struct {
			Domain string `json:"domain"`
			Exit   int    `json:"exit"`
			Steps  []any  `json:"steps"`
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, l)
		}
		if m.Domain != want[i].domain || m.Exit != want[i].exit {
			t.Errorf("line %d: domain %q exit %d, want %+v", i+1, m.Domain, m.Exit, want[i])
		}
	}

	// The same list on standard input, human summary, and one transcript
	// with every conversation.
	b, _ := os.ReadFile(list)
	tr := filepath.Join(dir, "batch.md")
	code, out, errOut = runMailflow(t, string(b), append([]string{"check", "--domains", "-", "--transcript", tr}, common...)...)
	if tb, err := os.ReadFile(tr); err != nil || !strings.Contains(string(tb), "mailflow check of dead.test") ||
		!strings.Contains(string(tb), "RCPT TO:<postmaster@two.test>") {
		t.Errorf("batch transcript: %v\n%s", err, tb)
	}
	if code != exitUnreachable || errOut != "" {
		t.Fatalf("exit %d stderr %q", code, errOut)
	}
	for _, w := range []string{"DOMAIN", "BEST HOST", "one.test", "✓ ok", "mx.one.test", "dead.test", "✗ unreachable", "two.test", "✗ refused", "550 5.7.1 relay denied", "3 domains: 1 ok, 1 refused, 1 unreachable (exit 3)"} {
		if !strings.Contains(out, w) {
			t.Errorf("summary lacks %q:\n%s", w, out)
		}
	}

	// Without the dead domain the worst is a refusal: exit 1.
	os.WriteFile(list, []byte("one.test\ntwo.test\n"), 0o644)
	if code, out, _ := runCheckCmd(t, append([]string{"--domains", list}, common...)...); code != exitRefused {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}

	// A bad line is bad input: exit 2, with its line number, nothing run.
	os.WriteFile(list, []byte("one.test\nnot a domain\n"), 0o644)
	code, out, errOut = runCheckCmd(t, append([]string{"--domains", list}, common...)...)
	if code != exitUsage || !strings.Contains(errOut, "domains.txt:2") {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
}

// The progress bar goes to a terminal only: with a regular file as
// standard error, nothing is written there.
func TestCheckBatchNoProgressOnFile(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if checkIsTerminal(f) {
		t.Fatal("a regular file counted as a terminal")
	}
	if got := progressBar(1, 4, 8); got != "[██░░░░░░]" {
		t.Fatalf("progressBar = %q", got)
	}
}

func TestWrapText(t *testing.T) {
	got := wrapText("  - "+strings.Repeat("word ", 30), 40, "    ")
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "  - word") || len(lines) < 3 {
		t.Fatalf("wrapText = %q", got)
	}
	for _, l := range lines {
		if len(l) > 40 {
			t.Errorf("line %q longer than 40", l)
		}
		if l != lines[0] && !strings.HasPrefix(l, "    word") {
			t.Errorf("continuation %q not indented", l)
		}
	}
}
