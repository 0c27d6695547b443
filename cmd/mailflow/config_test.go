package main

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/mailflow/mailflow/internal/config"
)

func TestConfigCommand(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	t.Setenv(config.EnvConfig, "")
	def := filepath.Join(xdg, "mailflow", "config.toml")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("from = \"a@b\"\n\nform = \"x\"\n"), 0o600)
	pw := filepath.Join(dir, "pw.toml")
	os.WriteFile(pw, []byte("[profile.x]\nuser = \"u\"\npassword = \"hunter2\"\n"), 0o600)
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(good, []byte("[profile.b]\nserver = \"h\"\n[profile.a]\nserver = \"h\"\n"), 0o600)
	missingRef := filepath.Join(dir, "ref.toml")
	os.WriteFile(missingRef, []byte("ca_file = \"nope.pem\"\n"), 0o600)

	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
		not      []string
	}{
		{name: "path", args: []string{"config", "path"}, want: []string{def + "\n"}},
		{name: "example", args: []string{"config", "example"}, want: []string{"# [profile.work]", "password_file"}},
		{name: "check without a file", args: []string{"config", "check"}, want: []string{"no configuration file"}},
		{name: "check good", args: []string{"config", "check", good}, want: []string{"ok (2 profile(s): a, b)"}},
		{name: "check unknown key", args: []string{"config", "check", bad}, wantCode: exitUsage, want: []string{`bad.toml:3: unknown key "form"`}},
		{name: "check password refused", args: []string{"config", "check", pw}, wantCode: exitUsage,
			want: []string{`pw.toml:3: key "profile.x.password" refused`}, not: []string{"hunter2"}},
		{name: "check missing explicit file", args: []string{"config", "check", filepath.Join(dir, "none.toml")}, wantCode: exitUsage, want: []string{"not found"}},
		{name: "check missing CA file", args: []string{"config", "check", missingRef}, wantCode: exitUsage, want: []string{"ca_file"}},
		{name: "too many args", args: []string{"config", "check", "a", "b"}, wantCode: exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := runCfgCmd(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; output:\n%s", code, tt.wantCode, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not contain %q:\n%s", w, out)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("output contains %q:\n%s", n, out)
				}
			}
		})
	}

	// The default file is found once it exists.
	os.MkdirAll(filepath.Dir(def), 0o700)
	os.WriteFile(def, []byte(config.Example()), 0o600)
	if code, out := runCfgCmd(t, "config", "check"); code != exitOK || !strings.Contains(out, def+": ok (no profiles)") {
		t.Errorf("check of the saved example: exit %d, %q", code, out)
	}
}

func TestVersionCommand(t *testing.T) {
	old := readBuildInfo
	t.Cleanup(func() { readBuildInfo = old })
	readBuildInfo = func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{
			GoVersion: "go1.99.1",
			Main:      debug.Module{Path: "github.com/mailflow/mailflow", Version: "v1.2.3"},
			Deps: []*debug.Module{
				{Path: "charm.land/bubbletea/v2", Version: "v2.1.1"},
				{Path: "example.com/x", Version: "v0.1.0", Replace: &debug.Module{Path: "../x", Version: ""}},
			},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "GOARCH", Value: "amd64"}},
		}, true
	}
	code, out := runCfgCmd(t, "version")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	var lines []string
	for l := range strings.Lines(out) {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	for _, w := range []string{"mailflow dev", "go go1.99.1 " + runtime.GOOS + "/" + runtime.GOARCH, "vcs.revision abc123",
		"module github.com/mailflow/mailflow v1.2.3", "dep charm.land/bubbletea/v2 v2.1.1", "dep example.com/x v0.1.0 => ../x"} {
		if !slices.Contains(lines, w) {
			t.Errorf("output does not contain %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "GOARCH") {
		t.Errorf("build setting GOARCH shown:\n%s", out)
	}
	readBuildInfo = func() (*debug.BuildInfo, bool) { return nil, false }
	if _, out := runCfgCmd(t, "version"); !strings.Contains(out, "unknown") {
		t.Errorf("without build info: %s", out)
	}
}
