package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// mxLinesProblems returns what is wrong with the lines of an MX pane
// drawn w cells wide: a line wider than w, or a rune that must never
// reach the screen.
func mxLinesProblems(view string, w int) []string {
	var bad []string
	for i, l := range strings.Split(view, "\n") {
		if lw := ansi.StringWidth(l); lw > w {
			bad = append(bad, fmt.Sprintf("line %d is %d cells for %d: %q", i, lw, w, ansi.Strip(l)))
		}
		for _, r := range ansi.Strip(l) {
			if forbiddenRune(r) {
				bad = append(bad, fmt.Sprintf("line %d holds %U: %q", i, r, ansi.Strip(l)))
				break
			}
		}
	}
	return bad
}

// TestMXPaneDataIsInert puts a TAB and a right-to-left override in every
// field the MX pane shows (host, addresses, rDNS, probe, problem, error,
// domain) and draws the pane at every width, with the selection on each
// row: a TAB would move the cursor to a tab stop the width count does
// not know about and spill the row into the next pane.
func TestMXPaneDataIsInert(t *testing.T) {
	rows := []MXEvent{
		{Problem: "no\tMX: falling\u202eback"},
		{Row: &MXRow{Pref: 10, Host: "mx\t1.example", Addrs: []string{"192.0.2.10\t", "\t192.0.2.11"}, RDNS: "a\t.example\u202e", Probe: "220\tin 4ms", ProbeVerdict: Good}},
		{Row: &MXRow{Pref: 20, Host: "mx2\u2028.example", Addrs: []string{"2001:db8::1"}, RDNS: "\tb.example", Probe: "421\t\tbusy\ufeff", RDNSVerdict: Bad}},
	}
	for _, running := range []bool{true, false} {
		p := newMXPane(DefaultKeyMap().List, NewStyles(true))
		p.Start("exa\tmple.\u202eorg")
		if !running {
			p.Apply(rows)
			p.Finish(fmt.Errorf("dns: \ttimeout\u202e"))
		}
		for w := 1; w <= 120; w++ {
			for sel := 0; sel < max(1, len(p.Rows())); sel++ {
				p.sel = sel
				p.SetSize(w, 12)
				if bad := mxLinesProblems(p.View(), w); len(bad) > 0 {
					t.Fatalf("running %v, width %d, row %d selected:\n  %s", running, w, sel, strings.Join(bad, "\n  "))
				}
			}
		}
	}
}

// TestMXColumnsLineUp draws the wide MX table with hosts and reverse
// names made of wide, combining and accented characters, short and too
// long: every column must start at the same cell on every line (the
// header's), whatever the runes in the columns before it.
func TestMXColumnsLineUp(t *testing.T) {
	p := newMXPane(DefaultKeyMap().List, NewStyles(true))
	p.SetSize(100, 12)
	p.Apply([]MXEvent{
		{Row: &MXRow{Pref: 10, Host: "mx1.example.net", Addrs: []string{"192.0.2.10"}, RDNS: "a.example", Probe: "220 in 4ms"}},
		{Row: &MXRow{Pref: 20, Host: "メール.例え.jp", Addrs: []string{"192.0.2.20"}, RDNS: "e\u0301\u0301.example", Probe: "220 in 4ms"}},
		{Row: &MXRow{Pref: 30, Host: "bücher.example", Addrs: []string{"192.0.2.30"}, RDNS: "日本日本日本.jp", Probe: "220 in 4ms"}},
		{Row: &MXRow{Pref: 40, Host: "とても長いメールサーバーの名前.例え.jp", Addrs: []string{"192.0.2.40"}, RDNS: "e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301", Probe: "220 in 4ms"}},
		{Row: &MXRow{Pref: 50, Host: "e\u0301\u0301\u0301.example", Addrs: []string{"192.0.2.50"}, RDNS: "日本日本日本日本日本.jp", Probe: "220 in 4ms"}},
		{Row: &MXRow{Pref: 65535, Host: "mx.example", Addrs: []string{"192.0.2.60"}, RDNS: "a.example", Probe: "220 in 4ms"}},
	})
	lines := strings.Split(p.View(), "\n")
	if len(lines) != 7 {
		t.Fatalf("%d lines, want a header and 6 rows:\n%s", len(lines), ansi.Strip(p.View()))
	}
	// startsAt reports whether the text from cell x of line on starts
	// with prefix.
	startsAt := func(line string, x int, prefix string) bool {
		c := cellsOf(line)
		return x < len(c) && strings.HasPrefix(strings.Join(c[x:], ""), prefix)
	}
	head := lines[0]
	var cols []int
	for _, name := range []string{"host", "addresses", "rDNS", "probe"} {
		x := strings.Index(ansi.Strip(head), name) // the header is ASCII
		cols = append(cols, x)
	}
	for i, l := range lines[1:] {
		r := p.Rows()[i]
		host := []rune(r.Host)[0]
		checks := []struct {
			x      int
			prefix string
		}{
			{1, fmt.Sprint(r.Pref)},
			{cols[0], string(host)},
			{cols[1], "192.0.2."},
			{cols[2], "·"}, // the rDNS verdict glyph
			{cols[3], "·"}, // the probe verdict glyph
			{cols[3] + 2, "220 in 4ms"},
		}
		for _, c := range checks {
			if !startsAt(l, c.x, c.prefix) {
				t.Errorf("row %d (%s): cell %d does not start %q:\n%s\n%s", i, r.Host, c.x, c.prefix, ansi.Strip(head), ansi.Strip(l))
			}
		}
		if w := ansi.StringWidth(l); w != 100 {
			t.Errorf("row %d is %d cells, want 100", i, w)
		}
	}
}
