package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// textPane is a bounded block of wrapped lines with a scroll offset. The
// explainer and the checklist are text panes; their content is small, so
// it is re-wrapped whole on every change, in Update, never in View.
type textPane struct {
	keys  ListKeys
	st    Styles
	w, h  int
	off   int
	lines []string
	build func(w int) []string
}

func (t *textPane) SetSize(w, h int) {
	t.w, t.h = max(0, w), max(0, h)
	t.rebuild()
}

func (t *textPane) SetStyles(st Styles) { t.st = st; t.rebuild() }

func (t *textPane) rebuild() {
	t.lines = nil
	if t.build != nil && t.w > 0 {
		t.lines = t.build(t.w)
	}
	t.off = max(0, min(t.off, len(t.lines)-t.h))
}

func (t *textPane) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(k, t.keys.Up):
			t.off--
		case key.Matches(k, t.keys.Down):
			t.off++
		case key.Matches(k, t.keys.PageUp):
			t.off -= max(1, t.h-1)
		case key.Matches(k, t.keys.PageDown):
			t.off += max(1, t.h-1)
		}
		t.off = max(0, min(t.off, len(t.lines)-t.h))
	}
	return nil
}

func (t *textPane) View() string {
	end := min(len(t.lines), t.off+t.h)
	if t.off >= end {
		return ""
	}
	return strings.Join(t.lines[t.off:end], "\n")
}

func (t *textPane) ShortHelp() []key.Binding { return []key.Binding{t.keys.Up, t.keys.Down} }

func (t *textPane) FullHelp() [][]key.Binding {
	return [][]key.Binding{{t.keys.Up, t.keys.Down, t.keys.PageUp, t.keys.PageDown}}
}

// para wraps text to w with an optional styled label on the first line
// and a hanging indent.
func para(st Styles, label, text string, w int) []string {
	text = display(text)
	if label == "" {
		var out []string
		for _, l := range wrapPlain(text, w) {
			out = append(out, st.Text.Value.Render(l))
		}
		return out
	}
	lw := len(label) + 1
	if w-lw < 10 { // too narrow for a hanging indent: label on its own line
		out := []string{st.Text.Label.Render(label)}
		for _, l := range wrapPlain(text, w) {
			out = append(out, st.Text.Value.Render(l))
		}
		return out
	}
	var out []string
	for i, l := range wrapPlain(text, w-lw) {
		lead := strings.Repeat(" ", lw)
		if i == 0 {
			lead = st.Text.Label.Render(label) + " "
		}
		out = append(out, lead+st.Text.Value.Render(l))
	}
	return out
}

// bullets renders a titled list of items.
func bullets(st Styles, title string, items []string, w int) []string {
	if len(items) == 0 {
		return nil
	}
	out := []string{st.Text.Heading.Render(title)}
	for _, it := range items {
		for i, l := range wrapPlain(display(it), max(1, w-2)) {
			lead := "  "
			if i == 0 {
				lead = "- "
			}
			out = append(out, lead+st.Text.Value.Render(l))
		}
	}
	return out
}

// explainPane shows the explanation of one reply.
type explainPane struct {
	textPane
	ex      Explanation
	has     bool
	verdict string // the wizard's latest verdict, in full
}

func newExplainPane(keys ListKeys, st Styles) *explainPane {
	p := &explainPane{textPane: textPane{keys: keys, st: st}}
	p.build = p.render
	return p
}

// SetExplanation shows ex.
func (p *explainPane) SetExplanation(ex Explanation) {
	p.ex, p.has, p.off = ex, true, 0
	p.rebuild()
}

// SetVerdict shows the wizard's latest verdict in full above the
// explanation (the wizard pane shows it shortened on small screens).
func (p *explainPane) SetVerdict(v string) {
	if v == p.verdict {
		return
	}
	p.verdict, p.off = v, 0
	p.rebuild()
}

// Explanation returns what is shown.
func (p *explainPane) Explanation() (Explanation, bool) { return p.ex, p.has }

func (p *explainPane) render(w int) []string {
	st := p.st
	var out []string
	if !p.has {
		out = para(st, "", "Select a reply in the transcript, or run a step, to see what it means.", w)
		return append(out, p.verdictLines(w)...)
	}
	ex := p.ex
	head := display(ex.Code)
	if ex.Enhanced != "" {
		head += " " + display(ex.Enhanced)
	}
	glyph, hs := "✓", st.Text.Good
	switch ex.Class {
	case "transient":
		glyph, hs = "!", st.State.Unknown
	case "permanent", "failure":
		glyph, hs = "✗", st.Text.Bad
	}
	tags := []string{}
	for _, s := range []string{ex.Class, ex.Category} {
		if s != "" {
			tags = append(tags, display(s))
		}
	}
	line := glyph + " " + head
	if len(tags) > 0 {
		line += "  " + strings.Join(tags, " · ")
	}
	for _, l := range wrapPlain(line, w) {
		out = append(out, hs.Render(l))
	}
	if ex.Command != "" {
		out = append(out, para(st, "after:", ex.Command, w)...)
	}
	if ex.Summary != "" {
		out = append(out, para(st, "", ex.Summary, w)...)
	}
	for _, l := range ex.Lines {
		for _, wl := range wrapPlain("| "+display(l), w) {
			out = append(out, st.Text.Dim.Render(wl))
		}
	}
	if ex.Decoded != "" {
		out = append(out, para(st, "decoded:", ex.Decoded, w)...)
	}
	out = append(out, bullets(st, "Likely causes", ex.Causes, w)...)
	out = append(out, bullets(st, "Next steps", ex.NextSteps, w)...)
	return append(out, p.verdictLines(w)...)
}

// verdictLines are the wizard's latest verdict, whole, under a heading.
func (p *explainPane) verdictLines(w int) []string {
	if p.verdict == "" {
		return nil
	}
	return append([]string{p.st.Text.Heading.Render("Wizard verdict")}, para(p.st, "", p.verdict, w)...)
}
