package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckReadsConfig checks that the configuration file feeds check's
// flags: a bad key stops with the file and line, and a profile's server
// and protocol are used when the command line gives none.
func TestCheckReadsConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("from = \"a@b.test\"\nfrm = \"typo\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCheckCmd(t, "--config", bad, "--server", "127.0.0.1:1")
	if code != exitUsage || !strings.Contains(errOut, "bad.toml:2") || !strings.Contains(errOut, "frm") {
		t.Fatalf("bad config: exit %d, %q", code, errOut)
	}

	good := filepath.Join(dir, "good.toml")
	cfg := "[profile.broken]\nserver = \"127.0.0.1:1\"\nprotocol = \"pop3\"\n"
	if err := os.WriteFile(good, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// Port 1 on loopback refuses: the profile's server was dialled.
	code, out, errOut := runCheckCmd(t, "--config", good, "--profile", "broken", "--json")
	if code != exitUnreachable || !strings.Contains(out, `"protocol": "pop3"`) || !strings.Contains(out, "127.0.0.1:1") {
		t.Fatalf("profile: exit %d\n%s\n%s", code, out, errOut)
	}
}
