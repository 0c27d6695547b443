package tui

import (
	"charm.land/lipgloss/v2"
)

// checklistPane lists the possible reasons for the last failure, with
// where each stands against the evidence.
type checklistPane struct {
	textPane
	step  string
	items []ChecklistItem
}

func newChecklistPane(keys ListKeys, st Styles) *checklistPane {
	p := &checklistPane{textPane: textPane{keys: keys, st: st}}
	p.build = p.render
	return p
}

// SetItems shows the checklist of step.
func (p *checklistPane) SetItems(step string, items []ChecklistItem) {
	p.step, p.items, p.off = step, append([]ChecklistItem(nil), items...), 0
	p.rebuild()
}

// Items returns what is shown.
func (p *checklistPane) Items() []ChecklistItem { return p.items }

// statusGlyph gives each status a glyph and a word, so the meaning
// survives without colour.
func statusGlyph(st Styles, s CheckStatus) (string, string, lipgloss.Style) {
	switch s {
	case StatusLikely:
		return "!", "likely", st.State.Likely
	case StatusRuledOut:
		return "-", "ruled out", st.State.RuledOut
	}
	return "?", "unknown", st.State.Unknown
}

func (p *checklistPane) render(w int) []string {
	st := p.st
	if len(p.items) == 0 {
		return para(st, "", "Nothing has failed yet. When a step fails, the possible reasons appear here.", w)
	}
	var out []string
	if p.step != "" {
		out = append(out, st.Text.Heading.Render(fit("step: "+display(p.step), w)))
	}
	for _, it := range p.items {
		g, word, gs := statusGlyph(st, it.Status)
		for i, l := range wrapPlain(display(it.Title), max(1, w-2)) {
			lead := "  "
			if i == 0 {
				lead = gs.Render(g) + " "
			}
			out = append(out, lead+st.Text.Value.Render(l))
		}
		why := word
		if it.Why != "" {
			why += ": " + it.Why
		}
		for _, l := range wrapPlain(display(why), max(1, w-2)) {
			out = append(out, "  "+st.Text.Dim.Render(l))
		}
	}
	return out
}
