package tui

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/mailflow/mailflow/session/transcript"
)

// This file checks the terminal side of the interface: resize storms
// while a session streams, extreme terminal sizes, and untrusted Unicode
// (wide, combining, joined, right-to-left, look-alike, control and bidi
// characters) in every piece of data the screen shows.

// cellsOf maps a rendered line to terminal cells: cells[x] is the grapheme
// cluster that starts at column x, "" for the second cell of a wide one.
// Zero-width clusters join the cell before them, as a terminal draws them.
func cellsOf(line string) []string { return cellsBy(line, ansi.GraphemeWidth) }

// cellsBy is cellsOf with the clusters measured by method: GraphemeWidth
// as a terminal in Unicode core mode (2027) draws them, WcWidth as every
// other terminal, and bubbletea's renderer unless the terminal reports
// mode 2027, do (the sum of the runes' wcwidth).
func cellsBy(line string, method ansi.Method) []string {
	s := ansi.Strip(line)
	var out []string
	for s != "" {
		c, w := ansi.FirstGraphemeCluster(s, method)
		if c == "" {
			break
		}
		s = s[len(c):]
		if w == 0 {
			for i := len(out) - 1; i >= 0; i-- {
				if out[i] != "" {
					out[i] += c
					break
				}
			}
			continue
		}
		out = append(out, c)
		for i := 1; i < w; i++ {
			out = append(out, "")
		}
	}
	return out
}

// forbiddenRune reports runes that must never reach the screen: controls
// (a TAB moves the cursor to a tab stop the width count does not know
// about), DEL, C1 controls, bidirectional formatting characters, line and
// paragraph separators and the BOM.
func forbiddenRune(r rune) bool {
	switch {
	case r < 0x20 && r != '\n', r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069,
		r == 0x200e, r == 0x200f, r == 0x061c, r == 0x2028, r == 0x2029, r == 0xfeff:
		return true
	}
	return false
}

// screenProblems checks the root model's View at w×h and returns what is
// wrong: more lines than h (or fewer, when exact), a line wider than w
// (or narrower, when exact), an escape sequence other than SGR, a control
// or bidi character, and, where panes are boxed, a border that is not in
// its column, or, in the compact grid, a pane title that does not start
// at its pane's column.
func screenProblems(m *Model, w, h int, exact bool) []string {
	grid := m.start == nil && m.dialog == nil && m.picker == nil && !m.showHelp
	return viewProblems(m.View().Content, m.layout, grid, m.paneTitle, w, h, exact)
}

// viewProblems is screenProblems on a rendered view: l is the layout it
// was drawn with, grid whether the panes are on screen (no overlay), and
// title gives each pane's title.
func viewProblems(raw string, l Layout, grid bool, title func(PaneID) string, w, h int, exact bool) []string {
	var bad []string
	if raw == "" {
		if w > 0 && h > 0 {
			bad = append(bad, "empty view")
		}
		return bad
	}
	lines := strings.Split(raw, "\n")
	if len(lines) > h || (exact && len(lines) != h) {
		bad = append(bad, fmt.Sprintf("%d lines for a height of %d", len(lines), h))
	}
	for i, l := range lines {
		// Both measures must agree with the window: the model measures
		// by grapheme clusters, the renderer and most terminals by
		// wcwidth.
		lw, wc := ansi.StringWidth(l), ansi.StringWidthWc(l)
		if lw > w || (exact && lw != w) {
			bad = append(bad, fmt.Sprintf("line %d is %d cells for a width of %d: %q", i, lw, w, ansi.Strip(l)))
		}
		if wc > w || (exact && wc != w) {
			bad = append(bad, fmt.Sprintf("line %d is %d cells by wcwidth for a width of %d: %q", i, wc, w, ansi.Strip(l)))
		}
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] == 0x1b && !sgrAt(raw[i:]) {
			bad = append(bad, fmt.Sprintf("non-SGR escape at byte %d: %q", i, raw[i:min(len(raw), i+16)]))
			break
		}
	}
	plain := ansi.Strip(raw)
	if !utf8.ValidString(plain) {
		bad = append(bad, "the view is not valid UTF-8")
	}
	for i, r := range plain {
		if forbiddenRune(r) {
			bad = append(bad, fmt.Sprintf("rune %U at byte %d reaches the view: %q", r, i, plain[max(0, i-20):min(len(plain), i+20)]))
			break
		}
	}
	if l.Mode != ModeCompact && l.Mode != ModeRoomy || !grid {
		return bad
	}
	for _, method := range []ansi.Method{ansi.GraphemeWidth, ansi.WcWidth} {
		bad = append(bad, gridProblems(lines, l, title, method)...)
	}
	return bad
}

// gridProblems checks that the panes' borders (boxed) or title bars
// (compact) are in their columns when lines are measured by method.
func gridProblems(lines []string, l Layout, title func(PaneID) string, method ansi.Method) []string {
	var bad []string
	how := map[ansi.Method]string{ansi.GraphemeWidth: "by grapheme", ansi.WcWidth: "by wcwidth"}[method]
	cells := make([][]string, len(lines))
	for i, ln := range lines {
		cells[i] = cellsBy(ln, method)
	}
	at := func(x, y int) string {
		if y < 0 || y >= len(cells) || x < 0 || x >= len(cells[y]) {
			return "<none>"
		}
		return cells[y][x]
	}
	for id := PaneID(0); id < numPanes; id++ {
		r := l.Panes[id]
		if r.Empty() {
			continue
		}
		if l.Bordered() && r.W >= 4 && r.H >= 3 {
			want := func(x, y int, g string) {
				if c := at(x, y); c != g {
					bad = append(bad, fmt.Sprintf("%v pane: cell (%d,%d) %s is %q, want border %q; row: %q", id, x, y, how, c, g, ansi.Strip(lines[y])))
				}
			}
			want(r.X, r.Y, "╭")
			want(r.X+r.W-1, r.Y, "╮")
			for y := r.Y + 1; y < r.Y+r.H-1; y++ {
				want(r.X, y, "│")
				want(r.X+r.W-1, y, "│")
			}
			want(r.X, r.Y+r.H-1, "╰")
			want(r.X+r.W-1, r.Y+r.H-1, "╯")
			continue
		}
		// Compact: a one-line title bar starting with the focus mark.
		if c := at(r.X, r.Y); c != " " && c != "▸" {
			bad = append(bad, fmt.Sprintf("%v pane: title bar starts with %q at (%d,%d) %s; row: %q", id, c, r.X, r.Y, how, ansi.Strip(lines[r.Y])))
		}
		if title := title(id); r.W >= 2 && at(r.X+1, r.Y) != title[:1] {
			bad = append(bad, fmt.Sprintf("%v pane: title %q does not start at column %d %s; row: %q", id, title, r.X+1, how, ansi.Strip(lines[r.Y])))
		}
	}
	return bad
}

// checkScreen fails the test with every problem screenProblems finds.
func checkScreen(t *testing.T, m *Model, w, h int, exact bool, what string) {
	t.Helper()
	if bad := screenProblems(m, w, h, exact); len(bad) > 0 {
		t.Fatalf("%s at %dx%d:\n  %s\nscreen:\n%s", what, w, h, strings.Join(bad, "\n  "), ansi.Strip(m.View().Content))
	}
}

// TestViewProblemsCatches feeds the checker views spoiled the ways the
// tests below look for, so that a passing test means something: each
// spoiled view must be reported, and the clean one must not.
func TestViewProblemsCatches(t *testing.T) {
	hs, _ := runToRCPT(t, 120, 40)
	m := hs.m
	for _, sz := range [][2]int{{120, 40}, {80, 24}} {
		w, h := sz[0], sz[1]
		m.Update(tea.WindowSizeMsg{Width: w, Height: h})
		raw := m.View().Content
		if bad := screenProblems(m, w, h, true); len(bad) > 0 {
			t.Fatalf("%dx%d: the clean view is reported: %v", w, h, bad)
		}
		lines := strings.Split(raw, "\n")
		// Row 3 crosses every column of the grid in both modes.
		row := ansi.Strip(lines[3])
		cut := func(line string, x int) string { return ansi.Cut(line, 0, x) }
		rest := func(line string, x int) string { return ansi.Cut(line, x, ansi.StringWidth(line)) }
		x := m.layout.Panes[PaneTranscript].X + 3
		spoil := map[string]string{
			// A wide rune in place of a narrow one: the row is one
			// cell longer and every later border moves right.
			"wide rune": cut(row, x) + "日" + rest(row, x+1),
			// A combining mark counted as a cell: one cell short.
			"lost cell":    cut(row, x) + rest(row, x+1),
			"tab":          cut(row, x) + "\t" + rest(row, x+1),
			"bidi":         cut(row, x) + "\u202e" + rest(row, x+1),
			"c1":           cut(row, x) + "\u009b" + rest(row, x+1),
			"escape":       cut(row, x) + "\x1b[2J" + rest(row, x+1),
			"extra line":   "",
			"swapped cell": cut(row, x-3) + "x" + rest(row, x-2),
			// Two cells by grapheme, eight by wcwidth: only a
			// terminal without mode 2027 shows the row too long.
			"zwj family": cut(row, x) + "👨\u200d👩\u200d👧\u200d👦" + rest(row, x+2),
			// Two cells by grapheme, one by wcwidth: too short.
			"vs16 heart": cut(row, x) + "❤\ufe0f" + rest(row, x+2),
		}
		for name, bad := range spoil {
			ls := append([]string(nil), lines...)
			if name == "extra line" {
				ls = append(ls, strings.Repeat(" ", w))
			} else {
				ls[3] = bad
			}
			if name == "swapped cell" && m.layout.Mode == ModeCompact {
				continue // compact panes have no border on row 3
			}
			if got := viewProblems(strings.Join(ls, "\n"), m.layout, true, m.paneTitle, w, h, true); len(got) == 0 {
				t.Errorf("%dx%d: a view with a %s passes the checker", w, h, name)
			}
		}
	}
}

// stormSizes are the sizes a resize storm must include.
var stormSizes = [][2]int{{1, 1}, {2, 2}, {39, 9}, {40, 10}, {80, 24}, {81, 25}, {300, 5}, {5, 300}, {1000, 50}, {120, 40}, {79, 23}}

// stormLine returns streamed server line i: mostly short replies, every
// 13th a failure, every 11th a long line that wraps, and every 17th a
// line with wide and combining characters.
func stormLine(i int) transcript.Entry {
	e := transcript.Entry{Dir: transcript.Server, Proto: "smtp"}
	text := fmt.Sprintf("250-storm line %d", i)
	ok := true
	switch {
	case i%13 == 0:
		text, ok = fmt.Sprintf("550 5.7.1 storm line %d rejected", i), false
	case i%11 == 0:
		text = fmt.Sprintf("250-storm line %d %s", i, strings.Repeat("long-token ", 30))
	case i%17 == 0:
		text = fmt.Sprintf("250-storm line %d 日本語のメール 👩‍💻 e\u0301 مرحبا", i)
	}
	e.Raw = []byte(text)
	if i%5 == 0 || !ok {
		e.Reply = &transcript.Reply{Code: text[:3], Lines: []string{text}, OK: ok}
		e.RTT = time.Duration(i%40) * time.Millisecond
	}
	return e
}

// stormExpect is what the operator must see of the transcript: follow
// mode, or the entry (by Seq) that stays selected.
type stormExpect struct {
	follow bool
	seq    int
	focus  PaneID
}

// base is the index the next move starts from: the newest entry when
// following, else the selected one.
func (x stormExpect) base(es []transcript.Entry) int {
	if x.follow {
		return len(es) - 1
	}
	for i, e := range es {
		if e.Seq == x.seq {
			return i
		}
	}
	return -1
}

// expectFind mirrors what f and a search do: the first entry from start
// (wrapping) that satisfies ok.
func expectFind(es []transcript.Entry, start int, ok func(transcript.Entry) bool) int {
	n := len(es)
	for k := 0; k < n; k++ {
		i := ((start+k)%n + n) % n
		if ok(es[i]) {
			return i
		}
	}
	return -1
}

// TestResizeStormWhileStreaming streams thousands of server lines into a
// real transcript.Store from another goroutine while hundreds of random
// window sizes, transcript wake-ups and key presses reach Update. After
// every message the screen must fit the window, and the transcript's
// state must be what the operator asked for: following, or the same
// entry selected, with every entry the store delivered.
func TestResizeStormWhileStreaming(t *testing.T) {
	steps := 900 // about 1.5 s
	switch {
	case testing.Short():
		steps = 200
	case raceEnabled:
		steps = 600 // still over 150 resizes, about 4 s
	}
	be := newFakeBackend()
	m := New(Options{Backend: be, Params: Params{Server: "127.0.0.1:2525", Protocol: "smtp"},
		Now: func() time.Time { return time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC) }})
	hs := newHarness(t, m, 80, 24)
	hs.press("r")
	hs.until("connected", func(m *Model) bool { return m.sess != nil && m.transcript.Len() >= 2 })
	st := be.sessions[0].st

	// The streamer appends a burst of lines each time it is poked, so
	// appends run concurrently with Update and View but the total is
	// reproducible.
	poke := make(chan int, 16)
	streamed := make(chan int)
	go func() {
		n := 0
		for k := range poke {
			for j := 0; j < k; j++ {
				n++
				st.Append(stormLine(n))
			}
		}
		streamed <- n
	}()

	rng := rand.New(rand.NewPCG(8, 5))
	want := stormExpect{follow: true, focus: m.focus}
	w, h := 80, 24
	var sizes, wakeups, keys, bursts int
	check := func(what string) {
		t.Helper()
		checkScreen(t, m, w, h, true, what)
		p := m.transcript
		if m.focus != want.focus {
			t.Fatalf("after %s: focus %v, want %v", what, m.focus, want.focus)
		}
		if p.Following() != want.follow {
			t.Fatalf("after %s at %dx%d: following %v, want %v (query %q status %q sel %d len %d searching %v)", what, w, h, p.Following(), want.follow, p.query, p.status, p.sel, p.Len(), p.searching)
		}
		if want.follow && p.Len() > 0 && p.sel != p.Len()-1 {
			t.Fatalf("after %s at %dx%d: following, but entry %d of %d is selected", what, w, h, p.sel+1, p.Len())
		}
		if !want.follow {
			if e, ok := p.Selected(); !ok || e.Seq != want.seq {
				t.Fatalf("after %s at %dx%d: selected seq %d, want %d", what, w, h, e.Seq, want.seq)
			}
		}
		if p.Len() > st.Len() {
			t.Fatalf("after %s: the pane has %d entries, the store %d", what, p.Len(), st.Len())
		}
	}
	press := func(k string) {
		t.Helper()
		keys++
		hs.press(k)
		check("key " + k)
	}
	// moveTo records a selection the operator made (a move, f, search).
	moveTo := func(es []transcript.Entry, i int) {
		if i >= 0 {
			want.follow, want.seq = false, es[i].Seq
		}
	}

	for i := 0; i < steps; i++ {
		switch a := rng.IntN(100); {
		case a < 30: // resize
			if rng.IntN(3) == 0 {
				s := stormSizes[rng.IntN(len(stormSizes))]
				w, h = s[0], s[1]
			} else {
				w, h = 1+rng.IntN(300), 1+rng.IntN(80)
			}
			sizes++
			hs.send(tea.WindowSizeMsg{Width: w, Height: h})
			check(fmt.Sprintf("resize to %dx%d", w, h))
		case a < 50: // a burst on the wire
			bursts++
			poke <- 1 + rng.IntN(40)
		case a < 70: // deliver a transcript wake-up, if one is ready
			select {
			case msg := <-hs.msgs:
				tm, ok := msg.(transcriptMsg)
				hs.dispatch(msg)
				if ok {
					wakeups++
					check("transcript wake-up")
					if m.transcript.Len() != len(tm.entries) {
						t.Fatalf("wake-up with %d entries left the pane with %d", len(tm.entries), m.transcript.Len())
					}
				}
			case <-time.After(time.Millisecond):
			}
		case m.layout.Mode == ModeTooSmall:
			// The operator cannot see what a key would act on: every key
			// but quit is ignored, so the expectation does not change.
			press([]string{"tab", "shift+tab", "j", "k", "G", "f", "/", "y", "e", "?"}[rng.IntN(10)])
			if m.dialog != nil || m.showHelp || m.transcript.Searching() {
				t.Fatalf("a key opened an overlay while the terminal was too small")
			}
		default: // a key
			es := m.transcript.Entries()
			k := []string{"tab", "shift+tab", "j", "k", "G", "f", "/"}[rng.IntN(7)]
			inTranscript := want.focus == PaneTranscript
			switch k {
			case "tab":
				want.focus = (want.focus + 1) % numPanes
			case "shift+tab":
				want.focus = (want.focus + numPanes - 1) % numPanes
			case "j":
				if inTranscript && len(es) > 0 && !want.follow {
					moveTo(es, min(len(es)-1, want.base(es)+1))
				}
			case "k":
				if inTranscript && len(es) > 0 {
					moveTo(es, max(0, want.base(es)-1))
				}
			case "G":
				if inTranscript {
					want.follow = true
				}
			case "f":
				if inTranscript && len(es) > 0 {
					moveTo(es, expectFind(es, want.base(es)+1, isFailure))
				}
			case "/":
				want.focus = PaneTranscript
				press("/")
				// The input opens with the last query: clear it first.
				for range []rune(m.transcript.input.Value()) {
					press("backspace")
				}
				q := fmt.Sprintf("line %d", rng.IntN(400))
				for _, r := range q {
					press(string(r))
				}
				if len(es) > 0 {
					lq := strings.ToLower(q)
					moveTo(es, expectFind(es, want.base(es), func(e transcript.Entry) bool {
						return strings.Contains(strings.ToLower(e.Text()), lq)
					}))
				}
				k = "enter"
			}
			press(k)
		}
	}
	close(poke)
	total := <-streamed
	hs.until("the pane caught up with the store", func(m *Model) bool { return m.transcript.Len() == st.Len() })
	if st.Len() < total {
		t.Fatalf("store has %d entries, %d were streamed", st.Len(), total)
	}
	w, h = 120, 40
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	check("final resize")
	p := m.transcript
	if title := fmt.Sprintf("%d/%d", p.sel+1, p.Len()); !strings.Contains(screen(m), title) {
		t.Errorf("the transcript title does not show %s", title)
	}
	if e, ok := p.Selected(); !ok || !strings.Contains(screen(m), string([]rune(e.Text())[:min(20, len([]rune(e.Text())))])) {
		t.Errorf("the selected entry (seq %d) is not on screen:\n%s", e.Seq, screen(m))
	}
	if total < 1000 && !testing.Short() {
		t.Errorf("only %d lines streamed; the storm should carry thousands", total)
	}
	t.Logf("%d steps: %d resizes, %d wake-ups, %d keys, %d bursts, %d lines streamed", steps, sizes, wakeups, keys, bursts, total)
}

// TestVeryWideAndTallTerminals renders a session with data in every pane
// on terminals far larger than usual. Every line must be exactly as wide
// as the window, the layout must use the room (a 600-character line on
// one screen line, the transcript pane full from top to bottom, the MX
// table in its wide form) and nothing may be drawn outside the window.
func TestVeryWideAndTallTerminals(t *testing.T) {
	hs, _ := runToRCPT(t, 80, 24)
	m := hs.m
	long := "250-" + strings.Repeat("x", 600)
	for i := 0; i < 400; i++ {
		e := stormLine(i + 1)
		if i == 399 {
			e = transcript.Entry{Dir: transcript.Server, Proto: "smtp", Raw: []byte(long)}
		}
		m.store.Append(e)
	}
	hs.until("the pane caught up with the store", func(m *Model) bool { return m.transcript.Len() == m.store.Len() })
	for _, sz := range [][2]int{{1000, 50}, {1000, 300}, {300, 300}, {120, 300}, {1000, 40}, {5, 300}, {300, 5}, {1000, 1}, {1, 300}, {1000, 24}, {79, 300}} {
		w, h := sz[0], sz[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			for _, focus := range []PaneID{PaneTranscript, PaneMX, PaneExplain} {
				m.focus = focus
				m.Update(tea.WindowSizeMsg{Width: w, Height: h})
				checkScreen(t, m, w, h, true, fmt.Sprintf("focus on %v", focus))
			}
			l := m.layout
			if l.Mode == ModeTooSmall {
				if !strings.Contains(screen(m), "terminal too small") && w >= len("terminal too small") {
					t.Fatalf("%dx%d: no too-small message:\n%s", w, h, screen(m))
				}
				return
			}
			lines := strings.Split(screen(m), "\n")
			r := l.Panes[PaneTranscript]
			if l.Mode == ModeTabs {
				m.focus = PaneTranscript
				m.Update(tea.WindowSizeMsg{Width: w, Height: h})
				lines = strings.Split(screen(m), "\n")
			}
			// Every body row of the transcript pane shows conversation.
			x0, x1, y0, y1 := r.X, r.X+r.W, r.Y+1, r.Y+r.H
			if l.Bordered() {
				x0, x1, y1 = x0+1, x1-1, y1-1
			}
			for y := y0; y < y1; y++ {
				if cells := cellsOf(lines[y]); strings.TrimSpace(strings.Join(cells[x0:x1], "")) == "" {
					t.Fatalf("%dx%d: transcript row %d is blank:\n%s", w, h, y, screen(m))
				}
			}
			if inner, _ := innerSize(r.W, r.H, l.Bordered()); inner-gutterW-3 >= len(long) {
				found := false
				for _, ln := range lines {
					found = found || strings.Contains(ln, long)
				}
				if !found {
					t.Errorf("%dx%d: the %d-character line was wrapped in a %d-cell pane", w, h, len(long), inner)
				}
			}
			if mw, _ := innerSize(l.Panes[PaneMX].W, l.Panes[PaneMX].H, l.Bordered()); mw >= 70 && l.Mode != ModeTabs {
				if !strings.Contains(screen(m), "addresses") {
					t.Errorf("%dx%d: the MX pane is %d cells wide but not in its wide form:\n%s", w, h, mw, screen(m))
				}
			}
		})
	}
}

// hostileText holds what a server may put in a reply: CJK, emoji, ZWJ
// sequences, a flag, combining marks, Arabic and Hebrew, a right-to-left
// override, a C1 CSI (UTF-8 and raw), escape sequences (clear screen,
// OSC 52 clipboard write), a zero-width space, a line separator, a BOM,
// fullwidth letters, a tab and bytes that are not UTF-8.
const hostileText = "日本語のメール 👩‍💻 👨‍👩‍👧‍👦 🇯🇵 e\u0301 Z\u0351\u0300\u0353 مرحبا بالعالم שלום עולם " +
	"\u202egnp.exe\u202c \u009b2J \x9b31m \x1b[2J\x1b]52;c;ZXZpbA==\x07 ＡＢＣ a\u200bb\u2028c\ufeffd tab\there \xff\xfe end " +
	hostileJoined

// hostileJoined holds clusters whose width by grapheme and by wcwidth
// differ (bubbletea's renderer and most terminals use wcwidth): a ZWJ
// family (2 and 8 cells), a ZWJ profession (2 and 4), a heart with VS16
// (2 and 1), a skin-toned thumb (2 and 4), Hangul as conjoining jamo
// (2 and 4), Devanagari conjuncts and a vowel sign (1 and 2), Thai with
// sara am (1 and 2), a keycap (2 and 1) and a lone regional indicator
// (2 and 1).
const hostileJoined = "👨\u200d👩\u200d👧\u200d👦 👩\u200d💻 ❤\ufe0f 👍\U0001F3FD \u1100\u1161\u11a8\u1112\u1161\u11ab " +
	"क्षत्रिय स्ते न्हें น้ำ 1\ufe0f\u20e3 🇯 x"

// uniBackend is the fake backend with Unicode everywhere: MX rows, the
// explainer and the checklist.
type uniBackend struct{ *fakeBackend }

func (b uniBackend) Explain(protocol, command string, r transcript.Reply) Explanation {
	ex := b.fakeBackend.Explain(protocol, command, r)
	ex.Category = "カテゴリ 🙂 \u202e"
	ex.Summary = "解説 " + r.Code + ": 受信者が見つかりません 👩‍💻 Ṩ̃ café e\u0301 " + hostileText
	ex.Causes = []string{"原因 🇯🇵🇫🇷 " + hostileText, "سبب محتمل עם עברית"}
	ex.NextSteps = []string{"次に 👨‍👩‍👧‍👦 確認してください", "\u202eesrever\u202c ＮＥＸＴ"}
	ex.Decoded = "デコード \x1b[2J 名前:"
	return ex
}

func (b uniBackend) Checklist(ev Evidence) []ChecklistItem {
	return []ChecklistItem{
		{Title: "メールボックスが存在しない 📭", Status: StatusLikely, Why: hostileText},
		{Title: "Relay \u202edeined\u202c ／ 中継拒否", Status: StatusRuledOut, Why: "e\u0301\u0301\u0301 ｗｈｙ"},
		{Title: "גרייליסטינג", Status: StatusUnknown, Check: "見る"},
	}
}

func newUniBackend() uniBackend {
	be := newFakeBackend()
	be.mx = []MXEvent{
		{Problem: "no MX 🙂: falling back \u202eA\u202c \x1b[31m red"},
		// An IDN U-label (xn--bcher-kva) and a Cyrillic look-alike of
		// "paypal" (р and а are Cyrillic).
		{Row: &MXRow{Pref: 10, Host: "bücher.example", Addrs: []string{"192.0.2.10"}, RDNS: "مثال.example", RDNSVerdict: Warn, Probe: "220 日本語 ✓ in 4ms", ProbeVerdict: Good}},
		{Row: &MXRow{Pref: 20, Host: "раypal.example", Addrs: []string{"2001:db8::1", "192.0.2.20"}, RDNS: "\u202emoc.live", RDNSVerdict: Bad, Probe: "421 \x1b[31mbusy\x9b", ProbeVerdict: Bad}},
		{Row: &MXRow{Pref: 30, Host: "メール.例え.jp", Addrs: []string{"192.0.2.30"}, RDNS: "👩‍💻.example", Probe: "220 e\u0301\u0301 שלום"}},
		{Row: &MXRow{Pref: 40, Host: "xn--bcher-kva.example", Addrs: []string{"192.0.2.40"}}},
		// TABs in every field: a TAB on screen jumps to a tab stop.
		{Row: &MXRow{Pref: 50, Host: "t\tab.example", Addrs: []string{"192.0.2.50\t"}, RDNS: "\tr.example", Probe: "220\tok"}},
	}
	be.greeting = []string{"220-bücher.example ESMTP " + hostileText, "220 ready 👨‍👩‍👧‍👦"}
	be.replies = map[string][]string{
		"EHLO": {"250-bücher.example Grüße " + hostileText, "250-PIPELINING", "250 SIZE 10240000"},
		"MAIL": {"250 2.1.0\t送信者 OK e\u0301 \u202e"},
		"RCPT": {"250 2.1.5 受信者 OK 🇯🇵 \x1b]8;;http://evil\x07link\x1b]8;;\x07"},
		"DATA": {"354 データを入力 \u2028 end with <CRLF>.<CRLF>"},
		"QUIT": {"221 2.0.0 さようなら \u0645\u0639 \u0627\u0644\u0633\u0644\u0627\u0645\u0629"},
	}
	return uniBackend{be}
}

// TestUnicodeEverywhere drives the procedure against servers and DNS
// answers full of wide, combining, joined, right-to-left, look-alike and
// control characters, then renders every pane at every width from 20 to
// 120 (several heights, every pane focused, with and without
// timestamps): no line may be wider than the window, no control or bidi
// character may reach the screen, and where panes are boxed every border
// must stay in its column.
func TestUnicodeEverywhere(t *testing.T) {
	be := newUniBackend()
	p := Params{Domain: "bücher.example", Protocol: "smtp", From: "me@example.org", To: "nobody@example.net",
		HELO: "client.example.org", Subject: "Tést ̈ çömbïnïng e\u0301\u0302 Ǹ 🇯🇵 件名 \u202eevil"}
	m := New(Options{Backend: be, Params: p, Scenario: "ラ\tボ\u202e",
		Now: func() time.Time { return time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC) }})
	hs := newHarness(t, m, 100, 30)
	hs.press("enter")
	hs.until("MX step done", func(m *Model) bool { return step(m, "mx").State == StepDone })
	hs.press("enter")
	hs.until("connected", func(m *Model) bool { return step(m, "connect").State == StepDone && m.transcript.Len() >= 3 })
	for _, id := range []string{"ehlo", "mail", "rcpt", "data"} {
		hs.press("enter")
		hs.until(id+" finished", stepEnded(id))
		if s := step(m, id); s.State != StepDone {
			t.Fatalf("step %s: %+v", id, s)
		}
	}
	hs.until("transcript caught up", func(m *Model) bool { return m.transcript.Len() == m.store.Len() })
	if s, ok := m.wizard.CurrentStep(); !ok || s.ID != "subject" || len(s.Send) == 0 || !strings.Contains(s.Send[0], "件名") {
		t.Fatalf("the current step is not the Subject header with its Unicode: %+v", s)
	}
	m.status = "status\t" + hostileText
	// Every line of the transcript goes through the explainer once.
	hs.press("tab")
	for i := 0; i < m.transcript.Len(); i++ {
		hs.press("k")
		checkScreen(t, m, 100, 30, true, fmt.Sprintf("selecting entry %d", m.transcript.sel))
	}
	if e, ok := m.transcript.Selected(); !ok || e.Seq != 1 {
		t.Fatalf("walking up the transcript ended on %+v", e)
	}
	stride := 1
	if raceEnabled || testing.Short() {
		stride = 3
	}
	for _, ts := range []bool{false, true} {
		if ts != m.transcript.showTime {
			m.focus = PaneTranscript
			hs.press("t")
		}
		for _, h := range []int{12, 24, 40, 60} {
			for w := 20; w <= 120; w += stride {
				for f := PaneID(0); f < numPanes; f++ {
					m.focus = f
					m.Update(tea.WindowSizeMsg{Width: w, Height: h})
					checkScreen(t, m, w, h, true, fmt.Sprintf("focus %v, timestamps %v", f, ts))
				}
			}
		}
	}
	// What must be on screen, made inert (the family without its
	// joiners, so that it is as wide by wcwidth as by grapheme).
	m.focus = PaneMX
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})
	checkScreen(t, m, 160, 50, true, "wide roomy")
	v := screen(m)
	for _, s := range []string{"раypal.example", "bücher.example", "メール.例え.jp", `\u202e`, "␛[2J", "👨👩👧👦", "件名", "解説"} {
		if !strings.Contains(v, s) {
			t.Errorf("the screen lacks %q:\n%s", s, v)
		}
	}
}

// TestTooSmallKeepsFollowingAndIgnoresKeys shrinks the terminal below the
// minimum while a session streams into a focused, following transcript.
// The selection must keep up with the newest line (the title, copy and
// explainer act on it once the panes come back), and keys the operator
// presses blind must do nothing except quit.
func TestTooSmallKeepsFollowingAndIgnoresKeys(t *testing.T) {
	be := newFakeBackend()
	m := New(Options{Backend: be, Params: Params{Server: "127.0.0.1:2525", Protocol: "smtp"},
		Now: func() time.Time { return time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC) }})
	hs := newHarness(t, m, 80, 24)
	hs.press("r")
	hs.until("connected", func(m *Model) bool { return m.sess != nil && m.transcript.Len() >= 2 })
	hs.press("tab")
	if m.focus != PaneTranscript {
		t.Fatalf("focus %v, want the transcript", m.focus)
	}
	st := m.store
	hs.send(tea.WindowSizeMsg{Width: 30, Height: 8})
	if m.layout.Mode != ModeTooSmall {
		t.Fatalf("30x8 is in mode %v, want too small", m.layout.Mode)
	}
	for i := 0; i < 10; i++ {
		st.Append(transcript.Entry{Dir: transcript.Server, Raw: []byte(fmt.Sprintf("250-line %d", i))})
	}
	hs.until("caught up", func(m *Model) bool { return m.transcript.Len() == st.Len() })
	p := m.transcript
	if e, ok := p.Selected(); !p.Following() || !ok || p.sel != p.Len()-1 {
		t.Fatalf("too small: following %v, selected %q (entry %d of %d); want the newest", p.Following(), e.Text(), p.sel+1, p.Len())
	}
	// Blind keys: none may move the selection, leave follow mode, change
	// focus, open an overlay, connect or copy.
	status := m.status
	for _, k := range []string{"k", "up", "g", "f", "y", "Y", "/", "e", "tab", "shift+tab", "?", "m", "r", "x", "X", "enter", "esc", "i", "t"} {
		_, cmd := m.Update(keyMsg(k))
		if cmd != nil {
			t.Errorf("too small: key %q returned a command", k)
		}
		if !p.Following() || p.sel != p.Len()-1 || m.focus != PaneTranscript || m.dialog != nil || p.Searching() || m.showHelp || m.status != status {
			t.Fatalf("too small: key %q acted (following %v, entry %d of %d, focus %v, dialog %v, searching %v, help %v, status %q)",
				k, p.Following(), p.sel+1, p.Len(), m.focus, m.dialog != nil, p.Searching(), m.showHelp, m.status)
		}
	}
	m.Update(tea.PasteMsg{Content: "pasted"})
	m.Update(tea.MouseWheelMsg{Button: tea.MouseWheelUp})
	if !p.Following() || p.Searching() {
		t.Fatalf("too small: a paste or the wheel acted")
	}
	hs.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	if title := fmt.Sprintf("%d/%d [follow]", p.Len(), p.Len()); !strings.Contains(screen(m), title) {
		t.Errorf("back at 80x24 the title does not read %q:\n%s", title, screen(m))
	}
	_, cmd := m.Update(keyMsg("y"))
	if cmd == nil {
		t.Fatal("y copies nothing")
	}
	if got := fmt.Sprint(cmd()); !strings.Contains(got, "250-line 9") {
		t.Errorf("y copies %q, want the newest line", got)
	}
	// q still quits while too small.
	hs.send(tea.WindowSizeMsg{Width: 30, Height: 8})
	if _, cmd := m.Update(keyMsg("q")); cmd == nil || !m.quitting {
		t.Errorf("q does not quit while the terminal is too small")
	}
}

// inputHostile holds characters a paste or a terminal can deliver that
// the text inputs must not keep: bidi overrides and isolates, marks, the
// line and paragraph separators, a BOM, a zero-width space, a soft
// hyphen, a C1 control, DEL and BEL, between ordinary letters.
const inputHostile = "a\u202eb\u2066c\u2028d\u200fe\ufefff\u200bg\u00adh\u009bi\x7fj\x07k\u2029l\u061cm"

// TestInputsDropBidiAndFormatChars pastes and types inputHostile into
// every text input (the start screen, the search, the export path, the
// wizard prompt) and shows the search query in the status line: none of
// those characters may reach the input's value or the screen, and the
// letters around them must all arrive, in order.
func TestInputsDropBidiAndFormatChars(t *testing.T) {
	const letters = "abcdefghijklm"
	bad := func(s string) string {
		for _, r := range ansi.Strip(s) {
			if forbiddenRune(r) || r == 0x200b || r == 0xad || r == 0x2029 {
				return fmt.Sprintf("%U", r)
			}
		}
		return ""
	}
	type input struct {
		name  string
		open  func(t *testing.T) *Model
		value func(m *Model) string
	}
	inputs := []input{
		{"start screen", func(t *testing.T) *Model {
			return newStartModel(newFakeBackend(), nil)
		}, func(m *Model) string { return m.start.input.Value() }},
		{"search", func(t *testing.T) *Model {
			m := newTestModel(newFakeBackend(), testParams())
			m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
			m.Update(keyMsg("/"))
			return m
		}, func(m *Model) string { return m.transcript.input.Value() }},
		{"export path", func(t *testing.T) *Model {
			m := newTestModel(newFakeBackend(), testParams())
			m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
			m.Update(keyMsg("e"))
			m.dialog.input.SetValue("")
			return m
		}, func(m *Model) string { return m.dialog.input.Value() }},
		{"wizard prompt", func(t *testing.T) *Model {
			m := newTestModel(newFakeBackend(), testParams())
			m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
			m.Update(keyMsg("m")) // practice mode opens the prompt
			if !m.wizard.Typing() {
				t.Fatalf("the wizard prompt is not open (mode %v)", m.wizard.Mode())
			}
			return m
		}, func(m *Model) string { return m.wizard.input.Value() }},
	}
	for _, in := range inputs {
		for _, how := range []string{"paste", "type"} {
			t.Run(in.name+"/"+how, func(t *testing.T) {
				m := in.open(t)
				m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
				if how == "paste" {
					m.Update(tea.PasteMsg{Content: inputHostile})
				} else {
					for _, r := range inputHostile {
						m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
					}
				}
				v := in.value(m)
				if r := bad(v); r != "" {
					t.Errorf("the input keeps %s: %q", r, v)
				}
				if v != letters {
					t.Errorf("the input holds %q, want %q", v, letters)
				}
				if r := bad(m.View().Content); r != "" {
					t.Errorf("%s reaches the screen:\n%s", r, screen(m))
				}
			})
		}
	}
	// Clusters whose width by grapheme and by wcwidth differ are shown
	// at one width by every input too (the value is what screenText
	// makes of it), so that the row holding the input keeps its width
	// on every terminal.
	for _, in := range inputs {
		for _, sz := range [][2]int{{80, 24}, {120, 40}, {60, 20}} {
			m := in.open(t)
			m.Update(tea.PasteMsg{Content: hostileJoined})
			for _, r := range " 👩\u200d💻 क्ष" {
				m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
			}
			m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			if bad, ok := widthsAgree(in.value(m)); !ok {
				t.Errorf("%s: the value keeps %+q", in.name, bad)
			}
			checkScreen(t, m, sz[0], sz[1], true, in.name+" with joined text")
		}
	}
	// The query a search was made with is shown in the status line, so
	// it is sanitised there too, however it was set.
	m := newTestModel(newFakeBackend(), testParams())
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.transcript.query = inputHostile
	m.transcript.refresh()
	for _, r := range ansi.Strip(m.transcript.statusLine()) {
		if forbiddenRune(r) {
			t.Errorf("the status line shows %U: %q", r, ansi.Strip(m.transcript.statusLine()))
			break
		}
	}
}

// TestSearchFindsJoinedText searches, through the root model, for text
// whose clusters the inputs change to draw them (a ZWJ family loses its
// joiners, a flag becomes escapes): the entry that holds the original
// text must still be found.
func TestSearchFindsJoinedText(t *testing.T) {
	for _, q := range []string{"👨\u200d👩\u200d👧\u200d👦", "🇯🇵", "各 🇯🇵 x", "क्ष"} {
		m := newTestModel(newFakeBackend(), testParams())
		m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
		es := mkEntries(1, 30)
		es[20].Raw = []byte("250 ok 各 🇯🇵 x 👨\u200d👩\u200d👧\u200d👦 क्ष")
		m.transcript.Append(es)
		m.Update(keyMsg("/"))
		m.Update(tea.PasteMsg{Content: q})
		m.Update(keyMsg("enter"))
		if e, ok := m.transcript.Selected(); !ok || e.Seq != 21 {
			t.Errorf("search for %+q (input %+q) selected seq %d, want 21", q, m.transcript.query, e.Seq)
		}
	}
}
