package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestNetProbe checks the start screen's network check against route
// tables and resolv.conf files made here and DNS servers on loopback.
func TestNetProbe(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const head = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	withDefault := write("route-default", head+"eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n")
	noDefault := write("route-none", head+"eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n")
	v6Default := write("ipv6-default", strings.Repeat("0", 32)+" 00 "+strings.Repeat("0", 32)+" 00 "+strings.Repeat("0", 32)+" 00000400 00000001 00000000 00000003 eth0\n")
	resolv := write("resolv.conf", "# test\nsearch example\nnameserver 127.0.0.1\n")
	empty := write("resolv-empty", "search example\n")

	// answering replies to ". NS" with one record; silent reads and
	// never answers.
	answering, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: answering, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		r := new(dns.Msg)
		r.SetReply(q)
		ns, _ := dns.NewRR(". 3600 IN NS a.root-servers.net.")
		r.Answer = append(r.Answer, ns)
		w.WriteMsg(r)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	port := func(pc net.PacketConn) string { return strings.TrimPrefix(pc.LocalAddr().String(), "127.0.0.1:") }

	for _, tt := range []struct {
		name    string
		routes  []string
		resolv  string
		port    string
		wantErr string
	}{
		{"online", []string{withDefault}, resolv, port(answering), ""},
		{"ipv6 default route", []string{noDefault, v6Default}, resolv, port(answering), ""},
		{"no route tables (not Linux)", []string{filepath.Join(dir, "missing")}, resolv, port(answering), ""},
		{"no default route", []string{noDefault}, resolv, port(answering), "no default route"},
		{"resolver silent", []string{withDefault}, resolv, port(silent), "did not answer within"},
		{"no name server", []string{withDefault}, empty, port(answering), "no name server"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := netProbe{routeFiles: tt.routes, resolvConf: tt.resolv, port: tt.port, timeout: 300 * time.Millisecond}
			start := time.Now()
			err := n.check(context.Background())
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("check took %s", took)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("check = %v, want %q", err, tt.wantErr)
			}
		})
	}
	// Cancelling the context ends the check at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := netProbe{routeFiles: []string{withDefault}, resolvConf: resolv, port: port(silent), timeout: time.Minute}
	if err := n.check(ctx); err == nil {
		t.Error("a cancelled check succeeded")
	}
}

// TestRootStartScreenNeedsTerminal: without arguments and without a
// terminal, mailflow refuses with a usage error instead of prompting.
func TestRootStartScreenNeedsTerminal(t *testing.T) {
	old := stdinIsTerminal
	t.Cleanup(func() { stdinIsTerminal = old })
	stdinIsTerminal = func() bool { return false }
	t.Setenv("MAILFLOW_CONFIG", "none")
	if code := run(nil); code != exitUsage {
		t.Errorf("mailflow with no argument and no terminal: exit %d, want 2", code)
	}
}

// TestRootReadsConfig checks that the configuration file fills the root
// command's flags (flags given win), as it does for mailflow check.
func TestRootReadsConfig(t *testing.T) {
	old := stdinIsTerminal
	t.Cleanup(func() { stdinIsTerminal = old })
	stdinIsTerminal = func() bool { return false }
	cfg := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg, []byte(`from = "me@example.org"
to = ["first@example.net", "second@example.net"]
helo = "client.example.org"
[profile.office]
server = "mail.example.com:587"
`), 0o600)
	root := newRootCmd()
	root.SetArgs([]string{"--config", cfg, "--profile", "office", "--helo", "cli.example.org"})
	err := root.ExecuteContext(context.Background())
	// The profile's server made a start screen unnecessary, so the
	// refusal is about the terminal, not about a missing domain.
	if err == nil || !strings.Contains(err.Error(), "needs a terminal") {
		t.Fatalf("err = %v", err)
	}
	f := root.Flags()
	for name, want := range map[string]string{"from": "me@example.org", "server": "mail.example.com:587", "helo": "cli.example.org"} {
		if got := f.Lookup(name).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", name, got, want)
		}
	}
	if to, _ := f.GetStringArray("to"); len(to) != 2 || first(to) != "first@example.net" {
		t.Errorf("--to = %q", to)
	}
	root = newRootCmd()
	root.SetArgs([]string{"--config", filepath.Join(t.TempDir(), "missing.toml")})
	if err := root.ExecuteContext(context.Background()); err == nil || !strings.Contains(err.Error(), "config") {
		t.Errorf("a missing --config file: %v", err)
	}
}
