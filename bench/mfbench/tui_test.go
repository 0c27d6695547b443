package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mailflow/mailflow/session/transcript"
)

// TestTextStream checks that escape sequences are dropped, also when a
// write ends inside one, and that the text around them is kept.
func TestTextStream(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"plain", []string{"enter run step"}, "enter run step"},
		{"sgr between words", []string{"\x1b[38;2;98;98;98menter\x1b[m \x1b[38;2;74;74;74mrun step"}, "enter run step"},
		{"split csi", []string{"a\x1b[38;2;1", ";2;3mb"}, "ab"},
		{"split after esc", []string{"a\x1b", "[Kb"}, "ab"},
		{"osc with bel", []string{"\x1b]2;mailflow\x07title"}, "title"},
		{"osc with st, split", []string{"\x1b]11;?\x1b", "\\x"}, "x"},
		{"dcs", []string{"\x1bP+q544e\x1b\\y"}, "y"},
		{"two-byte esc", []string{"\x1b7z\x1b8"}, "z"},
		{"controls dropped, newline kept", []string{"a\r\n\tb"}, "a\nb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s textStream
			for _, w := range tc.writes {
				s.Write([]byte(w))
			}
			if got := s.String(); got != tc.want {
				t.Errorf("text %q, want %q", got, tc.want)
			}
		})
	}
}

// TestShq runs quoted words through sh and gets them back unchanged.
func TestShq(t *testing.T) {
	words := []string{"plain", "two words", "it's", `a"b`, "$HOME", "q quit"}
	out, err := exec.Command("sh", "-c", "printf '%s\\n' "+shqAll(words)).Output()
	if err != nil {
		t.Skipf("no sh: %v", err)
	}
	if got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n"); !reflect.DeepEqual(got, words) {
		t.Errorf("sh saw %q, want %q", got, words)
	}
}

// TestJSONLReaders writes a generated transcript and reads it back with
// both transcript.ReadJSONL and the one-pass reader, across a chunk
// boundary of the latter: both must give the generated entries.
func TestJSONLReaders(t *testing.T) {
	const n = 1<<16 + 37
	path := filepath.Join(t.TempDir(), "t.jsonl")
	if err := runJSONL([]string{"-entries", "65573", "-out", path}); err != nil {
		t.Fatal(err)
	}
	want := genEntries(n)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m1, es1, err := transcript.ReadJSONL(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	m2, es2, err := readJSONLOnePass(f)
	if err != nil {
		t.Fatal(err)
	}
	if m1.Target != "mx.example.com:25" || !reflect.DeepEqual(m1, m2) {
		t.Errorf("meta %+v and %+v", m1, m2)
	}
	for name, es := range map[string][]transcript.Entry{"ReadJSONL": es1, "one-pass": es2} {
		if len(es) != n {
			t.Fatalf("%s: %d entries, want %d", name, len(es), n)
		}
		for _, i := range []int{0, 1, 5, 1 << 16, n - 1} {
			g, w := es[i], want[i]
			if g.Seq != w.Seq || string(g.Raw) != string(w.Raw) || g.Dir != w.Dir || g.Step != w.Step ||
				!g.At.Equal(w.At) || (g.Reply == nil) != (w.Reply == nil) || g.RTT != w.RTT {
				t.Errorf("%s: entry %d = %+v, want %+v", name, i, g, w)
			}
		}
	}
}
