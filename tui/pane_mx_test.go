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
