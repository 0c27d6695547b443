package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// widthsAgree reports the first grapheme cluster of s whose width by
// grapheme and by wcwidth differ, and whether there is none.
func widthsAgree(s string) (string, bool) {
	for rest := s; rest != ""; {
		c, gw := ansi.FirstGraphemeCluster(rest, ansi.GraphemeWidth)
		rest = rest[len(c):]
		if gw != ansi.StringWidthWc(c) {
			return c, false
		}
	}
	return "", true
}

// TestScreenText checks the repairs screenText makes to clusters whose
// width by grapheme and by wcwidth differ, and that it leaves alone the
// text whose widths already agree (wide, combining, right-to-left).
func TestScreenText(t *testing.T) {
	const wj = "\u2060"
	for _, c := range []struct{ in, want string }{
		{"EHLO mx.example", "EHLO mx.example"},
		{"日本語 e\u0301 مرحبا שלום ＡＢＣ 🙂 🇯🇵 Z\u0351\u0300\u0353", "日本語 e\u0301 مرحبا שלום ＡＢＣ 🙂 🇯🇵 Z\u0351\u0300\u0353"},
		{"a 👨\u200d👩\u200d👧\u200d👦 b", "a 👨👩👧👦 b"}, // ZWJ family: 2 vs 8
		{"👩\u200d💻", "👩💻"},                         // 2 vs 4
		{"I ❤\ufe0f mail", "I ❤ mail"},             // 2 vs 1
		{"👍\U0001F3FD", "👍"},                       // 2 vs 4
		{"\u1100\u1161\u11a8", "\uac01"},           // conjoining jamo 2 vs 4: composed
		{"क्ष", "क्" + wj + "ष"},                   // conjunct 1 vs 2
		{"कि", `क\u093f`},                          // a vowel sign after its letter 1 vs 2: it would join any letter
		{"\u0e33abc", `\u0e33abc`},                 // a spacing mark first would join the border before it
		{"ok \u0301x", "ok \u0301x"},               // a zero-width mark joins at no cost
		{"x\u0600", `x\u0600`},                     // a Prepend last would join the border after it
		{"1\ufe0f\u20e3", "1\u20e3"},               // keycap 2 vs 1
		{"x🇯", `x\U0001f1ef`},                      // lone regional indicator 2 vs 1
		{"🇯🇵🇫", `🇯🇵\U0001f1eb`},
	} {
		got := screenText(c.in)
		if got != c.want {
			t.Errorf("screenText(%+q) = %+q, want %+q", c.in, got, c.want)
		}
		if bad, ok := widthsAgree(got); !ok {
			t.Errorf("screenText(%+q) keeps %+q, %d cells by grapheme, %d by wcwidth", c.in, bad, ansi.StringWidth(bad), ansi.StringWidthWc(bad))
		}
	}
}

// TestScreenInputText checks the stricter form used for text inputs,
// which scroll their value by runes: no cluster may keep a rune that
// takes a cell after its first.
func TestScreenInputText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"example.org", "example.org"},
		{"bücher.example 日本 e\u0301", "bücher.example 日本 e\u0301"},
		{"🇯🇵", `\U0001f1ef\U0001f1f5`},
		{"👨\u200d👩\u200d👧", "👨👩👧"},
	} {
		if got := screenInputText(c.in); got != c.want {
			t.Errorf("screenInputText(%+q) = %+q, want %+q", c.in, got, c.want)
		}
	}
}

// TestScreenTextAlwaysAgrees runs screenText on every prefix and suffix
// of the hostile texts (cuts fall inside clusters and sequences): the
// widths of the result must agree under both measures, cluster by
// cluster.
func TestScreenTextAlwaysAgrees(t *testing.T) {
	for _, s := range []string{hostileText, hostileJoined, inputHostile} {
		s = display(s)
		for i := range s {
			for _, part := range []string{s[:i], s[i:]} {
				part = strings.ToValidUTF8(part, "?")
				for _, out := range []string{screenText(part), screenInputText(part)} {
					if bad, ok := widthsAgree(out); !ok {
						t.Fatalf("%+q becomes %+q, which keeps %+q", part, out, bad)
					}
					// Drawn between two borders, it stays as wide.
					if a, b := ansi.StringWidth("│"+out+"│"), ansi.StringWidth(out)+2; a != b || ansi.StringWidthWc("│"+out+"│") != b {
						t.Fatalf("%+q becomes %+q, which joins the borders around it", part, out)
					}
				}
			}
		}
	}
}
