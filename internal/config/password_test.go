package config

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTerminal replaces the terminal hooks for one test.
func fakeTerminal(t *testing.T, isTTY bool, typed string) *bytes.Buffer {
	t.Helper()
	oldIs, oldRead, oldOut := isTerminal, readNoEcho, promptOutput
	t.Cleanup(func() { isTerminal, readNoEcho, promptOutput = oldIs, oldRead, oldOut })
	var out bytes.Buffer
	promptOutput = &out
	isTerminal = func(int) bool { return isTTY }
	readNoEcho = func(int) ([]byte, error) {
		if !isTTY {
			t.Error("read from a non-terminal")
		}
		return []byte(typed), nil
	}
	return &out
}

func TestReadPassword(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	writeFile(t, good, "s3cret\r\nsecond line\n", 0o600)
	open := filepath.Join(dir, "open")
	writeFile(t, open, "s3cret\n", 0o640)
	empty := filepath.Join(dir, "empty")
	writeFile(t, empty, "\nx\n", 0o600)
	big := filepath.Join(dir, "big")
	writeFile(t, big, strings.Repeat("x", maxPasswordFile+1), 0o600)

	tests := []struct {
		name       string
		file, env  string
		tty        bool
		isTerminal bool
		typed      string
		want       string
		wantErr    string
		prompted   bool
	}{
		{name: "file first line", file: good, env: "fromenv", tty: true, isTerminal: true, want: "s3cret"},
		{name: "file others can read", file: open, wantErr: "chmod 600"},
		{name: "file missing", file: filepath.Join(dir, "nope"), wantErr: "no such file"},
		{name: "file empty first line", file: empty, wantErr: "first line is empty"},
		{name: "file too long", file: big, wantErr: "longer than"},
		{name: "directory", file: dir, wantErr: "not a regular file"},
		{name: "environment", env: "fromenv", tty: true, isTerminal: true, want: "fromenv"},
		{name: "prompt on a terminal", tty: true, isTerminal: true, typed: "typed", want: "typed", prompted: true},
		{name: "prompt typed nothing", tty: true, isTerminal: true, typed: "", wantErr: "empty password", prompted: true},
		{name: "no prompt when not asked", tty: false, isTerminal: true, wantErr: ErrNoPassword.Error()},
		{name: "no prompt when stdin is not a terminal", tty: true, isTerminal: false, wantErr: ErrNoPassword.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := fakeTerminal(t, tt.isTerminal, tt.typed)
			t.Setenv("MF_TEST_PW", tt.env)
			got, err := ReadPassword(tt.file, "MF_TEST_PW", tt.tty)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadPassword = %q, %v; want error with %q", got, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error shows the password: %v", err)
				}
			} else if err != nil || got != tt.want {
				t.Fatalf("ReadPassword = %q, %v; want %q", got, err, tt.want)
			}
			if prompted := strings.Contains(out.String(), "Password:"); prompted != tt.prompted {
				t.Errorf("prompted = %v, want %v (output %q)", prompted, tt.prompted, out.String())
			}
		})
	}
	if _, err := ReadPassword("", "", false); !errors.Is(err, ErrNoPassword) {
		t.Errorf("no source: %v, want ErrNoPassword", err)
	}
}
