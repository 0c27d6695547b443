package check

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestRunDispatch checks that the three protocols have runners (the
// POP3 and IMAP ones register themselves) and that anything else is a
// usage error naming the protocols mailflow knows, with nothing dialled.
func TestRunDispatch(t *testing.T) {
	got := Protocols()
	slices.Sort(got)
	if want := []string{"imap", "pop3", "smtp"}; !slices.Equal(got, want) {
		t.Fatalf("Protocols() = %q, want %q", got, want)
	}
	for _, p := range []string{"pop3", "IMAP", "smtp", ""} {
		// No server: each runner's own usage error, not the dispatcher's.
		r := Run(context.Background(), Options{Protocol: p})
		if r.Exit != ExitUsage || !strings.Contains(r.Error, "no server given") {
			t.Errorf("Run(%q) without a server: exit %d %q, want the runner's usage error", p, r.Exit, r.Error)
		}
	}
	r := Run(context.Background(), Options{Protocol: "nntp", Server: "127.0.0.1:1"})
	if r.Exit != ExitUsage || r.Error != "unknown protocol nntp (want smtp, pop3 or imap)" || len(r.Steps) != 0 {
		t.Errorf("Run(nntp): exit %d %q, %d steps", r.Exit, r.Error, len(r.Steps))
	}
}
