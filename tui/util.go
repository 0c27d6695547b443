package tui

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/mailflow/mailflow/session/transcript"
)

// display makes text from outside the program (the network, DNS, files,
// the command line, error messages quoting them) fit to draw: it is
// sanitised with transcript.PrintableString, which keeps TAB, each TAB
// becomes spaces, since the terminal would move the cursor to a tab stop
// that no width count knows about, and screenText makes its width the
// same whether measured by grapheme or by wcwidth. Every such string
// goes through display before it is measured, padded or drawn.
func display(s string) string { return screenText(expandTabs(transcript.PrintableString(s))) }

// cell returns s cut with an ellipsis or padded with spaces to exactly w
// cells: a table column. fmt's %-Ns pads by runes, which misaligns every
// later column after a wide or combining character.
func cell(s string, w int) string { return fit(ansiCut(s, w), w) }

// fit returns s cut or padded with spaces to exactly w cells. s may hold
// ANSI styling; widths are measured with x/ansi, never with len.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := width(s)
	if sw > w {
		s = ansi.Truncate(s, w, "")
		sw = ansi.StringWidth(s)
	}
	if sw < w {
		s += strings.Repeat(" ", w-sw)
	}
	return s
}

// fitLines returns exactly h lines, each exactly w cells wide.
func fitLines(lines []string, w, h int) []string {
	if h <= 0 {
		return nil
	}
	out := make([]string, h)
	for i := range out {
		if i < len(lines) {
			out[i] = fit(lines[i], w)
		} else {
			out[i] = fit("", w)
		}
	}
	return out
}

// splitLines splits a rendered block into lines.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// wrapPlain wraps plain (unstyled, sanitised) text to width w, breaking
// words where possible and hard-cutting long tokens. It never returns a
// line wider than w (for w >= 2; a width of 1 can only hold narrow runes).
func wrapPlain(s string, w int) []string {
	if w <= 0 {
		return nil
	}
	s = expandTabs(s)
	if ansi.StringWidth(s) <= w {
		return []string{s}
	}
	wrapped := ansi.Hardwrap(ansi.Wordwrap(s, w, ""), w, true)
	out := strings.Split(wrapped, "\n")
	for i, l := range out {
		if ansi.StringWidth(l) > w { // a wide rune on a 1-cell line
			out[i] = ansi.Truncate(l, w, "")
		}
	}
	return out
}

// expandTabs replaces tabs with spaces up to the next multiple of 8, so
// that the width the terminal shows equals the width we measured.
func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	var b strings.Builder
	col := 0
	for _, r := range s {
		if r == '\t' {
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		}
		b.WriteRune(r)
		col++
	}
	return b.String()
}

// frame draws a titled box of exactly w×h cells around content. With
// border false it draws only a one-line title bar (the compact look); with
// border true it draws a box with box-drawing glyphs (the roomy look).
// Box drawing glyphs are single-width in every terminal, unlike many
// symbols (lipgloss#55), which keeps the grid straight.
func frame(st Styles, title string, content []string, w, h int, focused, border bool) []string {
	if w <= 0 || h <= 0 {
		return nil
	}
	ts := st.Frame.Title
	bs := st.Frame.Border
	if focused {
		ts = st.Frame.TitleFocused
		bs = st.Frame.BorderFocused
	}
	mark := " "
	if focused {
		mark = "▸" // focus is shown by a glyph too, not only by colour
	}
	if !border || w < 4 || h < 3 {
		head := ts.Render(fit(mark+title, w))
		return append([]string{head}, fitLines(content, w, h-1)...)
	}
	inner := w - 2
	t := ansi.Truncate(mark+title, max(0, inner-1), "…")
	top := bs.Render("╭") + ts.Render(t) + bs.Render(strings.Repeat("─", max(0, inner-ansi.StringWidth(t)))+"╮")
	out := []string{top}
	body := fitLines(content, inner, h-2)
	side := bs.Render("│")
	for _, l := range body {
		out = append(out, side+l+side)
	}
	out = append(out, bs.Render("╰"+strings.Repeat("─", inner)+"╯"))
	return out
}

// innerSize returns the content size of a pane framed at w×h.
func innerSize(w, h int, border bool) (int, int) {
	if !border || w < 4 || h < 3 {
		return max(0, w), max(0, h-1)
	}
	return max(0, w-2), max(0, h-2)
}

// renderStyled applies style to s unless s is empty.
func renderStyled(st lipgloss.Style, s string) string {
	if s == "" {
		return ""
	}
	return st.Render(s)
}

// ansiCut truncates s to w cells with an ellipsis.
func ansiCut(s string, w int) string { return ansi.Truncate(s, w, "…") }

// ansiStrip removes styling (used before re-styling a selected line).
func ansiStrip(s string) string { return ansi.Strip(s) }

// width is ansi.StringWidth with a fast path for the common case of
// ASCII text styled with CSI sequences (SGR), which needs no grapheme
// segmentation. Anything else falls back to x/ansi.
func width(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			return ansi.StringWidth(s)
		case c == 0x1b:
			if i+1 >= len(s) || s[i+1] != '[' {
				return ansi.StringWidth(s)
			}
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = j
		case c >= 0x20 && c < 0x7f:
			n++
		}
	}
	return n
}
