package tui

import (
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestWidthMatchesAnsi(t *testing.T) {
	st := NewStyles(true)
	for _, s := range []string{
		"", "plain", "\x1b[1;31mred\x1b[m text", st.Transcript.Client.Render("-> EHLO x"),
		"wide 日本", "glyph ✓", "\x1b]8;;http://x\x07link\x1b]8;;\x07", "tab\tx", "\x1b[", "a\x1b",
	} {
		if got, want := width(s), ansi.StringWidth(s); got != want {
			t.Errorf("width(%q) = %d, ansi says %d", s, got, want)
		}
	}
}
