package bench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailflow/mailflow/internal/realpeers"
)

func TestMain(m *testing.M) { os.Exit(realpeers.Main(m)) }

// NoPipeliningSource is the client address for which the benchmark
// Postfix leaves PIPELINING out of its EHLO reply
// (smtpd_discard_ehlo_keyword_address_maps), so that the same server
// answers both the pipelined and the one-command-per-round-trip runs.
const NoPipeliningSource = "127.0.0.2"

// TestServePeers starts the real servers for bench/run.sh and keeps them
// running until the script creates "$MFBENCH_PEERS_ENV.stop". It writes
// their addresses to the file named by MFBENCH_PEERS_ENV as shell
// variable assignments. Without that variable it skips: it is not a test
// of anything, only a way to reuse internal/realpeers from a script.
func TestServePeers(t *testing.T) {
	envFile := os.Getenv("MFBENCH_PEERS_ENV")
	if envFile == "" {
		t.Skip("started by bench/run.sh only (MFBENCH_PEERS_ENV is not set)")
	}
	domains := 1000
	if s := os.Getenv("MFBENCH_DOMAINS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("MFBENCH_DOMAINS=%q is not a positive number", s)
		}
		domains = n
	}
	maxWait := 20 * time.Minute
	if s := os.Getenv("MFBENCH_PEERS_MAX"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("MFBENCH_PEERS_MAX: %v", err)
		}
		maxWait = d
	}

	m := realpeers.Postfix(t)
	m.LogOnFailure(t)
	d := realpeers.NSD(t, Zones(domains, 5))
	discardPipelining(t, filepath.Join(m.Dir, "postfix"), m.SMTP)

	host, port, _ := net.SplitHostPort(m.SMTP)
	nsdHost, nsdPort, _ := net.SplitHostPort(d.Addr)
	vars := [][2]string{
		{"MF_SMTP", m.SMTP}, {"MF_SMTP_HOST", host}, {"MF_SMTP_PORT", port},
		{"MF_CA", m.CAFile}, {"MF_RCPT", m.Address("kate")}, {"MF_FROM", "bench@example.test"},
		{"MF_NOPIPE_SOURCE", NoPipeliningSource},
		{"MF_NSD", d.Addr}, {"MF_NSD_HOST", nsdHost}, {"MF_NSD_PORT", nsdPort},
		{"MF_DOMAINS", strconv.Itoa(domains)}, {"MF_SLOW_DOMAIN", SlowDomain},
		{"MF_POSTFIX_LOG", m.PostfixLog},
	}
	var b strings.Builder
	for _, v := range vars {
		fmt.Fprintf(&b, "%s='%s'\n", v[0], v[1])
	}
	tmp := envFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, envFile); err != nil {
		t.Fatal(err)
	}
	t.Logf("peers ready: %s", strings.ReplaceAll(b.String(), "\n", " "))

	deadline := time.Now().Add(maxWait)
	for {
		if _, err := os.Stat(envFile + ".stop"); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s.stop after %v: giving up", envFile, maxWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// discardPipelining makes the Postfix in confDir hide PIPELINING from
// NoPipeliningSource, reloads it and waits until the change shows.
func discardPipelining(t *testing.T, confDir, smtpAddr string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(confDir, "main.cf")); err != nil {
		t.Fatalf("Postfix configuration not where expected: %v", err)
	}
	cidr := filepath.Join(confDir, "bench-nopipelining.cidr")
	if err := os.WriteFile(cidr, []byte(NoPipeliningSource+"/32 pipelining\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"postconf", "-c", confDir, "-e", "smtpd_discard_ehlo_keyword_address_maps=cidr:" + cidr},
		{"postfix", "-c", confDir, "reload"},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		with, errWith := ehloHas(smtpAddr, "127.0.0.1", "PIPELINING")
		without, errWithout := ehloHas(smtpAddr, NoPipeliningSource, "PIPELINING")
		if errWith == nil && errWithout == nil && with && !without {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Postfix still offers PIPELINING to %s (from 127.0.0.1: %v %v; from %s: %v %v)",
				NoPipeliningSource, with, errWith, NoPipeliningSource, without, errWithout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ehloHas connects from source, sends EHLO and reports whether the reply
// lists keyword.
func ehloHas(addr, source, keyword string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	if _, err := r.ReadString('\n'); err != nil {
		return false, err
	}
	if _, err := fmt.Fprintf(c, "EHLO bench.test\r\n"); err != nil {
		return false, err
	}
	found := false
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return false, err
		}
		if len(l) >= 4 && strings.EqualFold(strings.TrimSpace(l[4:]), keyword) {
			found = true
		}
		if len(l) < 4 || l[3] != '-' {
			break
		}
	}
	fmt.Fprintf(c, "QUIT\r\n")
	return found, nil
}
