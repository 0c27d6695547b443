package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
)

func TestNoColor(t *testing.T) {
	for _, tt := range []struct {
		val  string
		want bool
	}{
		{"", false}, {"1", true}, {"yes", true}, {"true", true}, {"0", true}, {"false", true}, {" ", true},
	} {
		env := func(k string) string {
			if k == "NO_COLOR" {
				return tt.val
			}
			return ""
		}
		if got := noColor(env); got != tt.want {
			t.Errorf("NO_COLOR=%q: noColor = %v, want %v", tt.val, got, tt.want)
		}
		// With NO_COLOR the program is forced to the ASCII profile;
		// without it, it gets the profile lipgloss detected.
		want := lipgloss.Writer.Profile
		if tt.want {
			want = colorprofile.ASCII
		}
		if got := tuiColorProfile(env); got != want {
			t.Errorf("NO_COLOR=%q: profile %v, want %v", tt.val, got, want)
		}
		if n := len(tuiProgramOptions(context.Background(), env)); n != 2 {
			t.Errorf("NO_COLOR=%q: %d program options, want 2 (context, profile)", tt.val, n)
		}
	}
}

func TestTUIParams(t *testing.T) {
	base := tuiOptions{protocol: "smtp", tls: "starttls"}
	tests := []struct {
		name    string
		args    []string
		mod     func(*tuiOptions)
		wantErr string
		check   func(t *testing.T, o tuiOptions)
	}{
		{name: "nothing", wantErr: "give a DOMAIN or --server"},
		{name: "bad protocol", args: []string{"example.com"}, mod: func(o *tuiOptions) { o.protocol = "ftp" }, wantErr: "--protocol"},
		{name: "bad tls", args: []string{"example.com"}, mod: func(o *tuiOptions) { o.tls = "maybe" }, wantErr: "--tls"},
		{name: "bad port", args: []string{"example.com"}, mod: func(o *tuiOptions) { o.port = 70000 }, wantErr: "--port"},
		{name: "port joins server", mod: func(o *tuiOptions) { o.server, o.port = "mail.example.com", 587 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			if tt.mod != nil {
				tt.mod(&o)
			}
			p, err := tuiParams(tt.args, &o)
			if tt.wantErr != "" {
				var ee *exitError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &ee) || ee.code != exitUsage {
					t.Fatalf("err = %v, want a usage error about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "port joins server" && p.Server != "mail.example.com:587" {
				t.Errorf("server = %q", p.Server)
			}
		})
	}
}

func TestRootRefusesWithoutBackend(t *testing.T) {
	old, oldTerm := newBackend, stdinIsTerminal
	t.Cleanup(func() { newBackend, stdinIsTerminal = old, oldTerm })
	newBackend = nil
	stdinIsTerminal = func() bool { return true }
	root := newRootCmd()
	for _, name := range []string{"server", "from", "to", "helo", "protocol", "port", "tls", "resolver", "ca-file", "insecure"} {
		if root.Flags().Lookup(name) == nil {
			t.Errorf("root has no --%s flag", name)
		}
	}
	root.SetArgs([]string{"example.com"})
	err := root.ExecuteContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not wired") {
		t.Fatalf("err = %v, want the not-wired error", err)
	}
	stdinIsTerminal = func() bool { return false }
	root = newRootCmd()
	root.SetArgs([]string{"example.com"})
	if err := root.ExecuteContext(context.Background()); err == nil || !strings.Contains(err.Error(), "needs a terminal") {
		t.Fatalf("err = %v, want the terminal error", err)
	}
}
