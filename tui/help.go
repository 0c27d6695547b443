package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// ShortHelp returns the footer bindings: the focused pane's first, then
// the global ones that matter most.
func (m *Model) ShortHelp() []key.Binding {
	g := m.keys.Global
	b := m.panes()[m.focus].ShortHelp()
	if m.focus == PaneWizard && m.wizard.Typing() {
		return append(b, g.NextPane)
	}
	if m.replay != nil {
		return append(b, g.NextPane, g.Search, g.Export, g.Quit)
	}
	return append(b, g.Run, g.NextPane, g.Search, g.Help, g.Quit)
}

// FullHelp returns every binding of the focused pane and the globals.
func (m *Model) FullHelp() [][]key.Binding {
	g := m.keys.Global
	out := m.panes()[m.focus].FullHelp()
	steps := []key.Binding{g.Run, g.Cancel, g.Skip, g.GoQuit, g.Reconnect, g.Mode}
	if m.hasScenarios() {
		steps = append(steps, g.Scenario)
	}
	return append(out, steps,
		[]key.Binding{g.NextPane, g.PrevPane, g.Search, g.Export, g.Copy, g.CopyAll, g.Mouse, g.Help, g.Quit},
	)
}

// View draws the whole screen. It only reads state: every pane's frame
// was computed in Update.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	if m.mouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	v.WindowTitle = "mailflow"
	return v
}

func (m *Model) render() string {
	l := m.layout
	if l.W == 0 || l.H == 0 {
		return ""
	}
	if l.Mode == ModeTooSmall {
		msg := []string{
			"terminal too small",
			fmt.Sprintf("need %dx%d, have %dx%d", MinWidth, MinHeight, l.W, l.H),
			"enlarge it or press q",
		}
		return strings.Join(fitLines(msg, l.W, l.H), "\n")
	}
	rows := make([]string, 0, l.H)
	rows = append(rows, m.header())
	if l.Mode == ModeTabs && m.start == nil {
		rows = append(rows, m.tabBar())
	}
	body := l.Panes[PaneTranscript]
	if l.Mode != ModeTabs || m.start != nil {
		body = Rect{0, 1, l.W, max(0, l.H-2)}
	}
	switch {
	case m.start != nil:
		rows = append(rows, m.startView(l.W, body.H)...)
	case m.dialog != nil:
		rows = append(rows, m.dialog.View(m.st, l.W, body.H)...)
	case m.picker != nil:
		rows = append(rows, m.pickerView(l.W, body.H)...)
	case m.showHelp:
		rows = append(rows, fitLines(splitLines(m.help.FullHelpView(m.FullHelp())), l.W, body.H)...)
	case l.Mode == ModeTabs:
		rows = append(rows, fitLines(splitLines(m.paneView(m.focus)), l.W, body.H)...)
	default:
		rows = append(rows, m.grid(body)...)
	}
	rows = append(rows, m.footer())
	return strings.Join(fitLines(rows, l.W, l.H), "\n")
}

func (m *Model) paneView(id PaneID) string {
	switch id {
	case PaneWizard:
		return m.wizard.View()
	case PaneTranscript:
		return m.transcript.View()
	case PaneExplain:
		return m.explain.View()
	case PaneChecklist:
		return m.checklist.View()
	case PaneMX:
		return m.mx.View()
	}
	return ""
}

func (m *Model) paneTitle(id PaneID) string {
	switch id {
	case PaneWizard:
		return m.wizard.Title()
	case PaneTranscript:
		return m.transcript.Title()
	}
	return id.String()
}

// grid draws every pane into its rectangle. The layout tiles the body,
// so each screen row is the concatenation, left to right, of the panes
// that cover it.
func (m *Model) grid(body Rect) []string {
	l := m.layout
	var framed [numPanes][]string
	for id := PaneID(0); id < numPanes; id++ {
		r := l.Panes[id]
		if r.Empty() {
			continue
		}
		iw, ih := innerSize(r.W, r.H, l.Bordered())
		content := fitLines(splitLines(m.paneView(id)), iw, ih)
		framed[id] = frame(m.st, m.paneTitle(id), content, r.W, r.H, id == m.focus, l.Bordered())
	}
	rows := make([]string, body.H)
	for y := body.Y; y < body.Y+body.H; y++ {
		var b strings.Builder
		x := 0
		for x < l.W {
			found := false
			for id := PaneID(0); id < numPanes; id++ {
				r := l.Panes[id]
				if r.Empty() || r.X != x || y < r.Y || y >= r.Y+r.H {
					continue
				}
				b.WriteString(framed[id][y-r.Y])
				x += r.W
				found = true
				break
			}
			if !found {
				break
			}
		}
		rows[y-body.Y] = b.String()
	}
	return rows
}

func (m *Model) header() string {
	p := m.opts.Params
	ps := display
	left := "mailflow"
	if m.scenario != "" {
		left += " lab[" + ps(m.scenario) + "]"
	}
	if p.Domain != "" {
		left += "  " + ps(p.Domain)
	}
	left += "  " + strings.ToUpper(m.protocol)
	if m.target.Host != "" {
		left += " → " + ps(m.target.Host)
		if m.sess != nil {
			left += " (connected)"
		}
	}
	right := ""
	switch {
	case m.errText != "":
		right = m.st.App.Error.Render("✗ " + ps(m.errText))
	case m.status != "":
		right = m.st.App.Status.Render(ps(m.status))
	}
	h := m.st.App.Header.Render(left)
	gap := m.layout.W - ansi.StringWidth(h) - ansi.StringWidth(right)
	if gap < 2 {
		return fit(h+"  "+right, m.layout.W)
	}
	return h + strings.Repeat(" ", gap) + right
}

func (m *Model) tabBar() string {
	var parts []string
	for id := PaneID(0); id < numPanes; id++ {
		if id == m.focus {
			parts = append(parts, m.st.App.TabActive.Render("["+id.String()+"]"))
		} else {
			parts = append(parts, m.st.App.TabInactive.Render(" "+id.String()+" "))
		}
	}
	return fit(strings.Join(parts, ""), m.layout.W)
}

func (m *Model) footer() string {
	if m.start != nil {
		h := "enter go • esc clear • ctrl+c quit"
		if m.start.canLab {
			h = "enter go • L lab • esc clear • ctrl+c quit"
		}
		return fit(m.st.Text.Dim.Render(h), m.layout.W)
	}
	mode := ""
	if m.mouse {
		mode = "[mouse] "
	}
	return fit(mode+m.help.ShortHelpView(m.ShortHelp()), m.layout.W)
}
