package transcript

import (
	"strings"
	"unicode/utf8"
)

// Printable returns raw as a string that is safe to write to a terminal or
// a text file: C0 controls become their Unicode control pictures (ESC is
// shown as ␛, CR as ␍, LF as ␊, NUL as ␀), DEL becomes ␡, C1 controls and
// bidirectional formatting characters become \u escapes, and bytes that
// are not valid UTF-8 become \xNN. TAB is kept as a tab.
//
// x/ansi.Strip is not enough for untrusted input: it keeps bare C0 bytes
// such as BEL, backspace and carriage return, which can still ring the bell
// or overwrite what is on screen.
func Printable(raw []byte) string {
	if isPlain(raw) {
		return string(raw)
	}
	var b strings.Builder
	b.Grow(len(raw) + 8)
	for i := 0; i < len(raw); {
		r, size := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && size <= 1 {
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[raw[i]>>4])
			b.WriteByte(hexDigits[raw[i]&0xF])
			i++
			continue
		}
		writeRune(&b, r)
		i += size
	}
	return b.String()
}

// PrintableString is Printable for a string.
func PrintableString(s string) string {
	if isPlain([]byte(s)) {
		return s
	}
	return Printable([]byte(s))
}

const hexDigits = "0123456789abcdef"

// isPlain reports whether raw is printable ASCII (plus TAB), the common
// case, which needs no copy.
func isPlain(raw []byte) bool {
	for _, c := range raw {
		if (c < 0x20 && c != '\t') || c >= 0x7f {
			return false
		}
	}
	return true
}

func writeRune(b *strings.Builder, r rune) {
	switch {
	case r == '\t':
		b.WriteByte('\t')
	case r < 0x20:
		b.WriteRune(0x2400 + r) // control pictures: U+2400..U+241F
	case r == 0x7f:
		b.WriteRune('␡')
	case r >= 0x80 && r <= 0x9f, isBidiControl(r), r == 0xfeff:
		b.WriteString(`\u`)
		b.WriteByte(hexDigits[(r>>12)&0xF])
		b.WriteByte(hexDigits[(r>>8)&0xF])
		b.WriteByte(hexDigits[(r>>4)&0xF])
		b.WriteByte(hexDigits[r&0xF])
	default:
		b.WriteRune(r)
	}
}

// isBidiControl reports the explicit directional formatting characters
// (Unicode UAX #9), which can make a line read differently from its bytes
// (the "Trojan Source" trick), and the line/paragraph separators that some
// terminals treat as newlines.
func isBidiControl(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069,
		r == 0x200e, r == 0x200f, r == 0x061c, r == 0x2028, r == 0x2029:
		return true
	}
	return false
}
