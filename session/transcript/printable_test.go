package transcript

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrintable(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "250 OK", "250 OK"},
		{"tab kept", "a\tb", "a\tb"},
		{"escape", "\x1b[2J220 hi", "␛[2J220 hi"},
		{"osc52", "\x1b]52;c;aGk=\x07", "␛]52;c;aGk=␇"},
		{"cr overwrite", "250 ok\rEVIL", "250 ok␍EVIL"},
		{"backspace", "ab\b\bXY", "ab␈␈XY"},
		{"nul", "a\x00b", "a␀b"},
		{"del", "a\x7fb", "a␡b"},
		{"c1 csi", "a\u009b2Jb", `a\u009b2Jb`},
		{"bidi", "user\u202egnp.exe", `user\u202egnp.exe`},
		{"invalid utf8", "caf\xe9", `caf\xe9`},
		{"unicode kept", "Grüße 日本", "Grüße 日本"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Printable([]byte(tt.in)); got != tt.want {
				t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// inert reports whether s can be written to a terminal without any effect
// but printing glyphs.
func inert(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if (r < 0x20 && r != '\t') || (r >= 0x7f && r <= 0x9f) || isBidiControl(r) {
			return false
		}
	}
	return true
}

func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"250 ok", "\x1b]0;title\x07", "\xff\xfe", "a\u202eb", "\x9b31m"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got := Printable(raw)
		if !inert(got) {
			t.Fatalf("Printable(%q) = %q is not inert", raw, got)
		}
		if isPlain(raw) && got != string(raw) {
			t.Fatalf("plain input changed: %q -> %q", raw, got)
		}
		if strings.ContainsRune(got, '\n') {
			t.Fatalf("newline survived: %q", got)
		}
	})
}
