package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/mailflow/mailflow/session/transcript"
)

// maxCachedEntries bounds the rendered-line cache. Only the entries near
// the window are ever rendered, so the cache is dropped wholesale when it
// grows past this (after a long scroll) instead of keeping an LRU.
const maxCachedEntries = 8192

// transcriptPane shows a live conversation. It is built for very long
// transcripts:
//
//   - The scroll position is an anchor (top entry, line offset inside
//     it), not an absolute line number, so no total line count is ever
//     needed: a frame costs O(height) whatever the length, and jumping to
//     any entry is O(1) plus O(height) to settle the window.
//   - An entry's wrapped lines are rendered once per width and cached;
//     a width change (or a change of what is shown, such as timestamps)
//     drops the cache, a new entry never does.
//   - The visible frame is computed in Update (refresh), so View only
//     joins strings and never mutates anything.
type transcriptPane struct {
	keys TranscriptKeys
	st   Styles
	w, h int

	// entries is the session store's own slice (Store.Since(0)): it
	// shares memory with the store and never changes, so the pane keeps
	// no copy of the conversation.
	entries []transcript.Entry

	cache  map[int][]string
	cacheW int

	showTime bool
	follow   bool
	sel      int // selected entry, -1 when empty
	top      int // first entry in the window
	topOff   int // wrapped lines of entries[top] scrolled off the top

	searching bool
	input     textinput.Model
	query     string
	status    string

	frame []string
}

func newTranscriptPane(keys TranscriptKeys, st Styles) *transcriptPane {
	in := textinput.New()
	in.Prompt = "/"
	in.Placeholder = "search"
	s := in.Styles()
	s.Cursor.Blink = false // no ticks while idle
	in.SetStyles(s)
	return &transcriptPane{keys: keys, st: st, follow: true, sel: -1, cache: map[int][]string{}, input: in}
}

// SetSize sets the content size of the pane.
func (p *transcriptPane) SetSize(w, h int) {
	w, h = max(0, w), max(0, h)
	if w != p.w {
		p.invalidate()
	}
	p.w, p.h = w, h
	p.input.SetWidth(max(1, w-2))
	if !p.follow {
		p.ensureVisible() // a resize keeps the selection on screen
	}
	p.refresh()
}

// SetStyles replaces the styles (after a background colour change).
func (p *transcriptPane) SetStyles(st Styles) {
	p.st = st
	p.invalidate()
	p.refresh()
}

func (p *transcriptPane) invalidate() {
	clear(p.cache)
	p.cacheW = p.w
}

// Reset forgets every entry (a new session starts).
func (p *transcriptPane) Reset() {
	p.entries = nil
	p.invalidate()
	p.sel, p.top, p.topOff, p.follow = -1, 0, 0, true
	p.refresh()
}

// Len returns the number of entries.
func (p *transcriptPane) Len() int { return len(p.entries) }

// LastSeq returns the Seq of the last entry, 0 when empty.
func (p *transcriptPane) LastSeq() int {
	if len(p.entries) == 0 {
		return 0
	}
	return p.entries[len(p.entries)-1].Seq
}

// Entries returns the entries held (shared; do not modify).
func (p *transcriptPane) Entries() []transcript.Entry { return p.entries }

// SetEntries shows es, the store's entries so far (Store.Since(0)). The
// pane holds the slice itself: entries are never modified and a longer
// slice from the same store starts with the same entries, so the
// rendered-line cache (keyed by index) stays valid. It costs one frame.
func (p *transcriptPane) SetEntries(es []transcript.Entry) {
	if len(es) == len(p.entries) {
		return
	}
	if len(es) < len(p.entries) { // another store: start over
		p.invalidate()
		p.sel, p.top, p.topOff = -1, 0, 0
	}
	p.entries = es
	if p.sel < 0 && len(es) > 0 {
		p.sel = 0
	}
	p.refresh()
}

// Following reports whether the pane sticks to the newest entry.
func (p *transcriptPane) Following() bool { return p.follow }

// Selected returns the selected entry.
func (p *transcriptPane) Selected() (transcript.Entry, bool) {
	if p.sel < 0 || p.sel >= len(p.entries) {
		return transcript.Entry{}, false
	}
	return p.entries[p.sel], true
}

// SelectedReply returns the complete reply the selected entry belongs to
// (the reply is attached to its last line, so a selection on an earlier
// line of a multi-line reply looks forward), and the command it answers.
func (p *transcriptPane) SelectedReply() (reply transcript.Reply, command string, ok bool) {
	if p.sel < 0 || p.sel >= len(p.entries) {
		return transcript.Reply{}, "", false
	}
	i := p.sel
	for ; i < len(p.entries) && i < p.sel+1000; i++ {
		e := p.entries[i]
		if e.Reply != nil {
			break
		}
		if e.Dir != transcript.Server {
			return transcript.Reply{}, "", false
		}
	}
	if i >= len(p.entries) || p.entries[i].Reply == nil {
		return transcript.Reply{}, "", false
	}
	r := *p.entries[i].Reply
	r.Lines = append([]string(nil), r.Lines...)
	for j := i - 1; j >= 0 && j > i-1000; j-- {
		if p.entries[j].Dir == transcript.Client {
			command = p.entries[j].Text()
			break
		}
	}
	return r, command, true
}

// Searching reports whether the search input has focus.
func (p *transcriptPane) Searching() bool { return p.searching }

// StartSearch opens the search input.
func (p *transcriptPane) StartSearch() tea.Cmd {
	p.searching = true
	p.input.SetValue(p.query)
	p.input.CursorEnd()
	p.refresh()
	return p.input.Focus()
}

// Update handles keys and mouse wheel events for the pane.
func (p *transcriptPane) Update(msg tea.Msg) tea.Cmd {
	if p.searching {
		return p.updateSearch(msg)
	}
	switch msg := msg.(type) {
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			p.move(-3)
		case tea.MouseWheelDown:
			p.move(3)
		}
	case tea.KeyPressMsg:
		k := p.keys
		switch {
		case key.Matches(msg, k.Up):
			p.move(-1)
		case key.Matches(msg, k.Down):
			p.move(1)
		case key.Matches(msg, k.PageUp):
			p.move(-max(1, p.bodyH()-1))
		case key.Matches(msg, k.PageDown):
			p.move(max(1, p.bodyH()-1))
		case key.Matches(msg, k.Top):
			p.follow = false
			p.sel, p.top, p.topOff = min(0, len(p.entries)-1), 0, 0
		case key.Matches(msg, k.Bottom):
			p.follow = true
			p.sel = len(p.entries) - 1
		case key.Matches(msg, k.NextMatch):
			p.find(1, p.matches)
		case key.Matches(msg, k.PrevMatch):
			p.find(-1, p.matches)
		case key.Matches(msg, k.NextFail):
			p.find(1, isFailure)
		case key.Matches(msg, k.PrevFail):
			p.find(-1, isFailure)
		case key.Matches(msg, k.Timestamps):
			p.showTime = !p.showTime
			p.invalidate()
		default:
			return nil
		}
		p.refresh()
	}
	return nil
}

func (p *transcriptPane) updateSearch(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "enter":
			p.searching = false
			p.input.Blur()
			p.query = p.input.Value()
			p.status = ""
			if p.query != "" {
				p.findFrom(p.sel, 1, p.matches)
			}
			p.refresh()
			return nil
		case "esc":
			p.searching = false
			p.input.Blur()
			p.refresh()
			return nil
		}
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	p.refresh()
	return cmd
}

// move moves the selection by d entries; moving up leaves follow mode.
func (p *transcriptPane) move(d int) {
	if len(p.entries) == 0 {
		return
	}
	if d < 0 {
		p.follow = false
	}
	p.sel = max(0, min(len(p.entries)-1, p.sel+d))
	p.ensureVisible()
}

func (p *transcriptPane) matches(e transcript.Entry) bool {
	if p.query == "" {
		return false
	}
	q := strings.ToLower(p.query)
	in := func(s string) bool {
		if strings.Contains(strings.ToLower(s), q) {
			return true
		}
		// The search input changed the query as it changes every value
		// it shows (screenInputText): look in the text changed alike.
		return !isASCII(s) && strings.Contains(strings.ToLower(screenInputText(s)), q)
	}
	return in(e.Text()) || (e.Annotation != "" && in(e.Annotation))
}

// isFailure reports a failed reply or a warning/error note.
func isFailure(e transcript.Entry) bool {
	if e.Reply != nil && !e.Reply.OK {
		return true
	}
	return e.Dir == transcript.Note && e.Level >= transcript.Warning
}

// find moves the selection to the next (dir 1) or previous (dir -1)
// entry that satisfies ok, wrapping around.
func (p *transcriptPane) find(dir int, ok func(transcript.Entry) bool) {
	p.findFrom(p.sel+dir, dir, ok)
}

func (p *transcriptPane) findFrom(start, dir int, ok func(transcript.Entry) bool) {
	n := len(p.entries)
	if n == 0 {
		return
	}
	start = ((start % n) + n) % n
	for k := 0; k < n; k++ {
		i := ((start+dir*k)%n + n) % n
		if ok(p.entries[i]) {
			p.follow = false
			p.sel = i
			p.status = ""
			p.ensureVisible()
			return
		}
	}
	p.status = "no match"
}

// bodyH is the number of lines available to entries.
func (p *transcriptPane) bodyH() int {
	h := p.h
	if p.searching || p.status != "" || p.query != "" {
		h-- // the status/search line
	}
	return max(0, h)
}

// ensureVisible moves the window so the selected entry is on screen.
// It walks at most one screen of entries.
func (p *transcriptPane) ensureVisible() {
	bh := p.bodyH()
	if p.sel < 0 || bh == 0 {
		return
	}
	if p.sel < p.top || (p.sel == p.top && p.topOff > 0) {
		p.top, p.topOff = p.sel, 0
		return
	}
	used := -p.topOff
	for i := p.top; i <= p.sel; i++ {
		used += len(p.lines(i))
		if used > bh {
			p.anchorBottom(p.sel)
			return
		}
	}
}

// anchorBottom places entry last's final line on the window's last line.
func (p *transcriptPane) anchorBottom(last int) {
	bh := p.bodyH()
	used := 0
	for i := last; i >= 0; i-- {
		used += len(p.lines(i))
		if used >= bh {
			p.top, p.topOff = i, used-bh
			return
		}
	}
	p.top, p.topOff = 0, 0
}

// lines returns entry i rendered at the current width, from the cache.
func (p *transcriptPane) lines(i int) []string {
	if p.cacheW != p.w {
		p.invalidate()
	}
	if l, ok := p.cache[i]; ok {
		return l
	}
	if len(p.cache) >= maxCachedEntries {
		clear(p.cache)
	}
	l := p.render(p.entries[i])
	p.cache[i] = l
	return l
}

const gutterW = 1 // the selection column

// render draws one entry as one or more lines of at most w-gutterW cells,
// without the selection gutter (added per frame, so that moving the
// selection never invalidates the cache).
func (p *transcriptPane) render(e transcript.Entry) []string {
	avail := p.w - gutterW
	if avail <= 0 {
		return []string{""}
	}
	ts := p.st.Transcript
	prefix, prefixW := "", 0
	if p.showTime {
		t := e.At.Format("15:04:05.000") + " "
		prefix += ts.Time.Render(t)
		prefixW += len(t)
	}
	marker := e.Marker()
	prefix += ts.Marker.Render(marker) + " "
	prefixW += ansi.StringWidth(marker) + 1
	if prefixW >= avail { // too narrow for the prefix: text only
		prefix, prefixW = "", 0
	}
	cw := avail - prefixW
	style := ts.Server
	switch {
	case e.Dir == transcript.Client:
		style = ts.Client
	case e.Dir == transcript.Note && e.Level >= transcript.Warning:
		style = ts.Warn
	case e.Dir == transcript.Note:
		style = ts.Note
	case e.Reply != nil && !e.Reply.OK:
		style = ts.Fail
	}
	text := screenText(e.Text()) // as wide by wcwidth as by grapheme
	if e.Partial {
		text += " [no line end]"
	}
	wrapped := wrapPlain(text, cw)
	if len(wrapped) == 0 {
		wrapped = []string{""}
	}
	// The RTT and the annotation follow the text, dimmed; they go on the
	// last line when they fit and on lines of their own when not.
	var suffix string
	if e.Reply != nil && e.RTT > 0 {
		suffix += "  (" + fmtRTT(e.RTT) + ")"
	}
	if e.Annotation != "" {
		suffix += "  # " + display(e.Annotation)
	}
	indent := strings.Repeat(" ", prefixW)
	out := make([]string, 0, len(wrapped)+1)
	for i, l := range wrapped {
		lead := indent
		if i == 0 {
			lead = prefix
		}
		out = append(out, lead+renderStyled(style, l))
	}
	if suffix != "" {
		last := wrapped[len(wrapped)-1]
		if ansi.StringWidth(last)+ansi.StringWidth(suffix) <= cw {
			out[len(out)-1] += ts.Annotation.Render(suffix)
		} else {
			for _, l := range wrapPlain(strings.TrimLeft(suffix, " "), cw) {
				out = append(out, indent+ts.Annotation.Render(l))
			}
		}
	}
	return out
}

// fmtRTT formats a round-trip time the way people read them: 12ms,
// 1.4s, 850µs.
func fmtRTT(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Second:
		if d < time.Second {
			return fmt.Sprintf("%dms", d.Milliseconds())
		}
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// refresh recomputes the visible frame. It is the only place that
// renders, and it touches at most one screen of entries.
func (p *transcriptPane) refresh() {
	bh := p.bodyH()
	p.frame = p.frame[:0]
	n := len(p.entries)
	// Follow mode selects the newest entry even when there is no room to
	// draw it (a terminal below the minimum size, a body of zero lines):
	// the title, copy and the explainer read the selection, and they must
	// agree with what the pane shows once it has room again.
	if p.follow && n > 0 {
		p.sel = n - 1
	}
	if p.w <= 0 || p.h <= 0 {
		return
	}
	if n > 0 && bh > 0 {
		if p.follow {
			p.anchorBottom(n - 1)
		}
		p.top = max(0, min(p.top, n-1))
		p.fill(bh)
		if len(p.frame) < bh && (p.top > 0 || p.topOff > 0) {
			// The window runs past the end (after a resize): pull it down.
			p.anchorBottom(n - 1)
			p.frame = p.frame[:0]
			p.fill(bh)
		}
	}
	if n == 0 && bh > 0 {
		p.frame = append(p.frame, p.st.Text.Dim.Render("no conversation yet"))
	}
	for len(p.frame) < bh {
		p.frame = append(p.frame, "")
	}
	if p.h > bh {
		p.frame = append(p.frame, p.statusLine())
	}
}

func (p *transcriptPane) fill(bh int) {
	off := p.topOff
	for i := p.top; i < len(p.entries) && len(p.frame) < bh; i++ {
		ls := p.lines(i)
		selected := i == p.sel
		for j := off; j < len(ls) && len(p.frame) < bh; j++ {
			g := " "
			l := ls[j]
			if selected {
				g = ">" // the selection is marked in the gutter too
				l = p.st.Transcript.Selected.Render(ansi.Strip(l))
			}
			p.frame = append(p.frame, g+l)
		}
		off = 0
	}
}

func (p *transcriptPane) statusLine() string {
	if p.searching {
		return p.input.View()
	}
	s := ""
	if p.query != "" {
		s = "/" + display(p.query) + "  n/N"
	}
	if p.status != "" {
		s += "  " + p.status
	}
	return p.st.Text.Dim.Render(s)
}

// Title returns the pane's title with its position and follow state.
func (p *transcriptPane) Title() string {
	t := "Transcript"
	if n := len(p.entries); n > 0 {
		t += fmt.Sprintf(" %d/%d", p.sel+1, n)
	}
	if p.follow {
		t += " [follow]"
	}
	return t
}

// View returns the frame computed by the last refresh.
func (p *transcriptPane) View() string { return strings.Join(p.frame, "\n") }

// ShortHelp returns the pane's main bindings.
func (p *transcriptPane) ShortHelp() []key.Binding {
	k := p.keys
	return []key.Binding{k.Up, k.Down, k.Bottom, k.NextFail, k.Timestamps}
}

// FullHelp returns all the pane's bindings.
func (p *transcriptPane) FullHelp() [][]key.Binding {
	k := p.keys
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.NextMatch, k.PrevMatch, k.NextFail, k.PrevFail, k.Timestamps},
	}
}
