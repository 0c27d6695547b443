package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"golang.org/x/text/unicode/norm"
)

// Two ways to measure text are in play, and they disagree on some
// grapheme clusters. mailflow measures, pads, cuts and wraps by grapheme
// cluster (ansi.StringWidth, Truncate, Wrap). Bubble Tea's renderer
// places cells by wcwidth, the sum of each rune's width, unless the
// terminal answers the query for Unicode core mode (DEC mode 2027) that
// the program sends at start; most terminals (xterm, tmux, VTE) do not
// answer, and they too advance the cursor once per rune. Where the two
// measures differ (a ZWJ family is 2 cells by cluster and 8 by wcwidth,
// ❤️ 2 and 1, a skin-toned 👍🏽 2 and 4, Hangul written as conjoining
// jamo 2 and 4, a Devanagari conjunct 1 and 2), a row measured as
// exactly the window's width is drawn wider or narrower, and every pane
// to its right moves.
//
// Two fixes were possible: keep a width method in the model (wcwidth by
// default, graphemes once mode 2027 is reported in a tea.ModeReportMsg)
// and use it for every measure, or make the text drawn agree under both
// measures. The second is used: it holds whatever the terminal answers,
// or when it never answers, or answers after the first frames were
// drawn, or when a multiplexer in between answers for a different
// terminal than the one that draws (mailflow serve, tmux). Only the
// on-screen rendering changes; the transcript, copies and exports keep
// the bytes the server sent.

// wordJoiner separates the pieces of a cluster that had to be split: it
// is zero cells under both measures, a grapheme break on either side
// (UAX #29 GB4/GB5: it is a Control), invisible, and, unlike a zero-width
// space, it offers no line break.
const wordJoiner = "\u2060"

// screenText returns s (plain text, already sanitised) changed only where
// needed so that every grapheme cluster is as wide by wcwidth as by
// grapheme width, and so that s cannot merge into a cluster with the text
// drawn before or after it (a border, a gutter, a space). A cluster that
// disagrees is repaired step by step, keeping as much of what it shows
// as possible:
//
//  1. Emoji joiners and presentation (ZWJ, VS15, VS16, skin-tone
//     modifiers) are dropped, so a ZWJ sequence shows its parts side by
//     side, and the rest is composed (NFC), which turns conjoining jamo
//     into Hangul syllables.
//  2. A cluster that still disagrees (an Indic conjunct, a Thai sara am)
//     is split before each rune that takes a cell. A piece that starts
//     with a letter is kept, after a word joiner that makes it a cluster
//     of its own; a piece that would join whatever comes before it (a
//     spacing vowel sign) is shown as \u escapes, as
//     transcript.Printable shows controls.
//  3. A piece that still disagrees (a lone regional indicator) is
//     escaped too.
//
// ASCII text, the common case, is returned as is.
func screenText(s string) string {
	if isASCII(s) {
		return s
	}
	if agrees(s) && !joinsNeighbours(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for rest := s; rest != ""; {
		c, gw := ansi.FirstGraphemeCluster(rest, ansi.GraphemeWidth)
		rest = rest[len(c):]
		if gw == ansi.StringWidthWc(c) {
			b.WriteString(c)
			continue
		}
		repairCluster(&b, c)
	}
	return guard(b.String(), false)
}

// guard escapes every cluster of s that still disagrees (the repaired
// pieces can form new clusters with their neighbours, since segmentation
// looks at context), a first cluster that would join the text before s
// and a last one that would join the text after it. With strict, it also
// escapes every cluster holding a rune that takes a cell after its
// first: a text input scrolls its value by runes, and the part of such a
// cluster left at the window's edge would be drawn on its own at another
// width.
func guard(s string, strict bool) string {
	if agrees(s) && !joinsNeighbours(s) && (!strict || !wideTail(s)) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for rest := s; rest != ""; {
		c, gw := ansi.FirstGraphemeCluster(rest, ansi.GraphemeWidth)
		first, last := len(rest) == len(s), len(c) == len(rest)
		rest = rest[len(c):]
		switch {
		case gw != ansi.StringWidthWc(c),
			first && joinsBefore(c), last && joinsAfter(c),
			strict && wideTail(c):
			writeEscaped(&b, c)
		default:
			b.WriteString(c)
		}
	}
	return b.String()
}

// screenInputText is screenText for the value of a text input (see guard's
// strict).
func screenInputText(s string) string {
	if isASCII(s) {
		return s
	}
	return guard(screenText(s), true)
}

// joinsNeighbours reports whether s, drawn after or before other text,
// would merge into a cluster with it.
func joinsNeighbours(s string) bool {
	if s == "" {
		return false
	}
	c, _ := ansi.FirstGraphemeCluster(s, ansi.GraphemeWidth)
	if joinsBefore(c) {
		return true
	}
	last := c
	for rest := s[len(c):]; rest != ""; rest = rest[len(last):] {
		last, _ = ansi.FirstGraphemeCluster(rest, ansi.GraphemeWidth)
	}
	return joinsAfter(last)
}

// joinsBefore reports whether cluster c starts with runes that take a
// cell and would join a letter drawn before it (a spacing mark).
func joinsBefore(c string) bool {
	j, _ := ansi.FirstGraphemeCluster("a"+c, ansi.GraphemeWidth)
	return len(j) > 1 && ansi.StringWidthWc(j[1:]) > 0
}

// joinsAfter reports whether cluster c would join the text drawn after
// it (it ends with a prepended concatenation mark or another Prepend).
func joinsAfter(c string) bool {
	j, _ := ansi.FirstGraphemeCluster(c+"a", ansi.GraphemeWidth)
	return len(j) > len(c)
}

// wideTail reports whether a cluster of s has a rune that takes a cell
// by wcwidth after its first rune.
func wideTail(s string) bool {
	for rest := s; rest != ""; {
		c, _ := ansi.FirstGraphemeCluster(rest, ansi.GraphemeWidth)
		rest = rest[len(c):]
		for i, r := range c {
			if i > 0 && ansi.StringWidthWc(string(r)) > 0 {
				return true
			}
		}
	}
	return false
}

// agrees reports whether every grapheme cluster of s has the same width
// under both measures (which makes the totals, and every cut and wrap at
// a cluster boundary, agree too).
func agrees(s string) bool {
	for rest := s; rest != ""; {
		c, gw := ansi.FirstGraphemeCluster(rest, ansi.GraphemeWidth)
		if c == "" {
			return false
		}
		rest = rest[len(c):]
		if gw != ansi.StringWidthWc(c) {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// repairCluster writes cluster c, whose widths disagree, as text whose
// widths agree (steps 1 to 3 of screenText).
func repairCluster(b *strings.Builder, c string) {
	d := norm.NFC.String(strings.Map(func(r rune) rune {
		switch {
		case r == 0x200d, r == 0xfe0e, r == 0xfe0f, r >= 0x1f3fb && r <= 0x1f3ff:
			return -1
		}
		return r
	}, c))
	for rest := d; rest != ""; {
		sc, gw := ansi.FirstGraphemeCluster(rest, ansi.GraphemeWidth)
		rest = rest[len(sc):]
		if gw == ansi.StringWidthWc(sc) {
			b.WriteString(sc)
			continue
		}
		for i, piece := range splitSpacing(sc) {
			_, pw := ansi.FirstGraphemeCluster(piece, ansi.GraphemeWidth)
			switch {
			case pw != ansi.StringWidthWc(piece), i > 0 && joinsBefore(piece):
				writeEscaped(b, piece)
			case i > 0:
				b.WriteString(wordJoiner + piece)
			default:
				b.WriteString(piece)
			}
		}
	}
}

// splitSpacing cuts c before every rune that takes a cell by wcwidth
// (after the first), so each piece is one spacing rune and the marks
// that follow it.
func splitSpacing(c string) []string {
	var out []string
	start := 0
	for i, r := range c {
		if i > 0 && ansi.StringWidthWc(string(r)) > 0 {
			out = append(out, c[start:i])
			start = i
		}
	}
	return append(out, c[start:])
}

// writeEscaped writes the runes of s as \u (or \U) escapes, which are
// ASCII and so the same width under every measure.
func writeEscaped(b *strings.Builder, s string) {
	for _, r := range s {
		if r > 0xffff {
			fmt.Fprintf(b, `\U%08x`, r)
		} else {
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
}
