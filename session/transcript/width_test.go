package transcript

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	// Test-only: the width oracle is the one the TUI measures with. The
	// package itself never imports it.
	"github.com/charmbracelet/x/ansi"
)

// widthUnit is one piece of a generated input: its bytes and the cells its
// sanitised form must take on screen. For text that is kept, the width is
// the rune's own width; for what Printable replaces, it is the width of
// the replacement, which never depends on its neighbours.
type widthUnit struct {
	raw   []byte
	cells int
}

// runeUnit keeps r as is: it is as wide as x/ansi says r alone is.
func runeUnit(r rune) widthUnit {
	return widthUnit{raw: utf8.AppendRune(nil, r), cells: ansi.StringWidth(string(r))}
}

// Pieces that never join with their neighbours into one grapheme cluster
// (no ZWJ, variation selectors, emoji modifiers, regional indicators or
// Hangul jamo), so the width of the whole is the sum of the pieces.
var nonJoining = []func(r *rand.Rand) widthUnit{
	// printable ASCII
	func(r *rand.Rand) widthUnit { return runeUnit(rune(0x21 + r.IntN(0x7e-0x21))) },
	func(r *rand.Rand) widthUnit { return runeUnit(' ') },
	// C0 controls other than TAB, and DEL: one control picture, one cell
	func(r *rand.Rand) widthUnit {
		c := byte(r.IntN(0x20))
		if c == '\t' {
			c = 0x1b
		}
		return widthUnit{raw: []byte{c}, cells: 1}
	},
	func(r *rand.Rand) widthUnit { return widthUnit{raw: []byte{0x7f}, cells: 1} },
	// C1 controls encoded in UTF-8: a \u escape of six cells
	func(r *rand.Rand) widthUnit {
		return widthUnit{raw: utf8.AppendRune(nil, rune(0x80+r.IntN(0x20))), cells: 6}
	},
	// bidirectional formatting, line/paragraph separators, BOM: \u escapes
	func(r *rand.Rand) widthUnit {
		bidi := []rune{0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c, 0x2028, 0x2029, 0xfeff}
		return widthUnit{raw: utf8.AppendRune(nil, bidi[r.IntN(len(bidi))]), cells: 6}
	},
	// bytes that are not UTF-8 on their own (lone C1 bytes, continuation
	// bytes, 0xfe, 0xff): \xNN, four cells
	func(r *rand.Rand) widthUnit { return widthUnit{raw: []byte{byte(0x80 + r.IntN(0x40))}, cells: 4} },
	func(r *rand.Rand) widthUnit { return widthUnit{raw: []byte{0xfe + byte(r.IntN(2))}, cells: 4} },
	// an overlong '/' and an encoded surrogate: each byte is invalid
	func(r *rand.Rand) widthUnit { return widthUnit{raw: []byte{0xc0, 0xaf}, cells: 8} },
	func(r *rand.Rand) widthUnit { return widthUnit{raw: []byte{0xed, 0xa0, 0x80}, cells: 12} },
	// a truncated three-byte sequence followed by ASCII: the lead byte is
	// invalid alone, and so is the continuation byte after it
	func(r *rand.Rand) widthUnit { return widthUnit{raw: []byte{0xe6, 0x97, 'x'}, cells: 9} },
	// kept text: CJK, kana, Hangul syllables, fullwidth forms, emoji (wide)
	func(r *rand.Rand) widthUnit { return runeUnit(rune(0x4e00 + r.IntN(0x5000))) },
	func(r *rand.Rand) widthUnit { return runeUnit(rune(0x30a1 + r.IntN(0x50))) },
	func(r *rand.Rand) widthUnit { return runeUnit(rune(0xac00 + r.IntN(0x2ba4))) },
	func(r *rand.Rand) widthUnit { return runeUnit(rune(0xff01 + r.IntN(0x5e))) },
	func(r *rand.Rand) widthUnit { return runeUnit(rune(0x1f600 + r.IntN(0x40))) },
	// kept text: Latin-1, Cyrillic, Greek, Arabic, Hebrew letters, box
	// drawing, control pictures themselves, zero-width space
	func(r *rand.Rand) widthUnit { return runeUnit(rune(0xc0 + r.IntN(0x40))) },
	func(r *rand.Rand) widthUnit { return runeUnit(rune(0x410 + r.IntN(0x40))) },
	func(r *rand.Rand) widthUnit { return runeUnit(rune(0x391 + r.IntN(0x19))) },
	func(r *rand.Rand) widthUnit { return runeUnit(rune(0x627 + r.IntN(0x24))) },
	func(r *rand.Rand) widthUnit { return runeUnit(rune(0x5d0 + r.IntN(0x1b))) },
	func(r *rand.Rand) widthUnit { return runeUnit(rune(0x2500 + r.IntN(0x80))) },
	func(r *rand.Rand) widthUnit { return runeUnit(rune(0x2400 + r.IntN(0x27))) },
	func(r *rand.Rand) widthUnit { return runeUnit(0x200b) },
	// combining marks: no cell of their own, whatever they follow
	func(r *rand.Rand) widthUnit { return runeUnit(rune(0x300 + r.IntN(0x70))) },
}

// Joining pieces: sequences that form one cluster, whose width is not the
// sum of their runes'.
var joining = []func(r *rand.Rand) widthUnit{
	func(r *rand.Rand) widthUnit { return widthUnit{raw: []byte("\u200d")} },     // ZWJ
	func(r *rand.Rand) widthUnit { return widthUnit{raw: []byte("\ufe0f")} },     // VS16
	func(r *rand.Rand) widthUnit { return widthUnit{raw: []byte("\U0001F3FD")} }, // skin tone
	func(r *rand.Rand) widthUnit { return widthUnit{raw: utf8.AppendRune(nil, rune(0x1f1e6+r.IntN(26)))} },
	func(r *rand.Rand) widthUnit { return widthUnit{raw: []byte("👩‍💻")} },
	func(r *rand.Rand) widthUnit { return widthUnit{raw: []byte("\u1100\u1161\u11a8")} }, // jamo
	func(r *rand.Rand) widthUnit { return widthUnit{raw: []byte("\u263a")} },
}

// checkInert fails when out could do anything on a terminal but print:
// invalid UTF-8, a C0 control other than TAB (which Printable keeps by
// design, for the TUI to expand), DEL, a C1 control, a bidirectional
// formatting character, a line separator or a BOM.
func checkInert(t *testing.T, raw []byte, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("Printable(%q) = %q is not valid UTF-8", raw, out)
	}
	for i, r := range out {
		if (r < 0x20 && r != '\t') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || isBidiControl(r) || r == 0xfeff {
			t.Fatalf("Printable(%q) = %q keeps control %U at byte %d", raw, out, r, i)
		}
	}
}

// clusterWidth sums the widths of out's grapheme clusters as x/ansi
// segments them, skipping TAB (zero cells to x/ansi, expanded by the TUI).
func clusterWidth(s string) int {
	w := 0
	for s != "" {
		if s[0] == '\t' {
			s = s[1:]
			continue
		}
		c, cw := ansi.FirstGraphemeCluster(s, ansi.GraphemeWidth)
		if c == "" {
			break
		}
		w += cw
		s = s[len(c):]
	}
	return w
}

// TestPrintableWidthIsSumOfPieces builds random byte strings from pieces
// of known width (seeded, so a failure names a reproducible case) and
// checks that the sanitised string is inert and exactly as wide as the
// sum of its pieces: every replacement takes a fixed number of cells and
// no replacement glyph merges with, or splits, what surrounds it.
func TestPrintableWidthIsSumOfPieces(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	rng := rand.New(rand.NewPCG(8, 5))
	for i := 0; i < n; i++ {
		var raw []byte
		want := 0
		for k := rng.IntN(24); k >= 0; k-- {
			u := nonJoining[rng.IntN(len(nonJoining))](rng)
			raw = append(raw, u.raw...)
			want += u.cells
		}
		// A combining mark at the very start has no base: it is still
		// zero cells, but make sure some inputs start with one.
		if i%50 == 0 {
			raw = append([]byte("\u0301"), raw...)
		}
		out := Printable(raw)
		checkInert(t, raw, out)
		if got := ansi.StringWidth(out); got != want {
			t.Fatalf("case %d: Printable(%q) = %q is %d cells, want %d (sum of the pieces)", i, raw, out, got, want)
		}
		if got := clusterWidth(out); got != want {
			t.Fatalf("case %d: Printable(%q) = %q: clusters sum to %d cells, want %d", i, raw, out, got, want)
		}
		// The string form agrees with the byte form.
		if ps := PrintableString(string(raw)); ps != out {
			t.Fatalf("PrintableString(%q) = %q, Printable = %q", raw, ps, out)
		}
	}
}

// TestPrintableWidthWithJoiners mixes joining sequences (ZWJ emoji, flags,
// variation selectors, skin tones, jamo) into random bytes and random
// runes. Their widths are the terminal's business, so the checks are that
// the result is inert and that x/ansi's width of the whole is the sum of
// its clusters' widths: nothing in the sanitised text (an escape, a
// control the parser would execute) hides from the width count.
func TestPrintableWidthWithJoiners(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	rng := rand.New(rand.NewPCG(8, 6))
	for i := 0; i < n; i++ {
		var raw []byte
		for k := rng.IntN(24); k >= 0; k-- {
			switch rng.IntN(4) {
			case 0:
				raw = append(raw, joining[rng.IntN(len(joining))](rng).raw...)
			case 1:
				raw = append(raw, nonJoining[rng.IntN(len(nonJoining))](rng).raw...)
			case 2: // any byte at all
				raw = append(raw, byte(rng.IntN(256)))
			default: // any rune (surrogates come out as U+FFFD)
				raw = utf8.AppendRune(raw, rune(rng.IntN(0x110000)))
			}
		}
		if rng.IntN(3) == 0 { // a tab now and then
			raw = append(raw, '\t')
		}
		out := Printable(raw)
		checkInert(t, raw, out)
		if got, sum := ansi.StringWidth(out), clusterWidth(out); got != sum {
			t.Fatalf("case %d: Printable(%q) = %q is %d cells, its clusters %d", i, raw, out, got, sum)
		}
	}
}

// TestPrintableWidthTable pins the width of the replacements on the
// hostile inputs servers actually send.
func TestPrintableWidthTable(t *testing.T) {
	tests := []struct {
		in    string
		cells int
	}{
		{"\x1b[2J", 4},                        // ␛[2J
		{"\x1b]52;c;aGk=\x07", 12},            // ␛]52;c;aGk=␇
		{"\u009b31m", 9},                      // \u009b31m
		{"\x9b31m", 7},                        // \x9b31m
		{"abc\u202edef", 12},                  // abc\u202edef
		{"日本語", 6},                            // kept, wide
		{"e\u0301", 1},                        // one cluster
		{"\u0645\u0631\u062d\u0628\u0627", 5}, // Arabic, kept
		{"\xf0\x9f\x98", 12},                  // a cut emoji: three \xNN
		{"\x00\x01\x1f\x7f", 4},               // control pictures
	}
	for _, tt := range tests {
		out := Printable([]byte(tt.in))
		checkInert(t, []byte(tt.in), out)
		if got := ansi.StringWidth(out); got != tt.cells {
			t.Errorf("Printable(%q) = %q is %d cells, want %d", tt.in, out, got, tt.cells)
		}
	}
}
