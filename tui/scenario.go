package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// ScenarioInfo is one fault the lab can inject, as the picker lists it.
type ScenarioInfo struct {
	Name        string
	Description string // one line
}

// scenarioPicker lists the lab's scenarios; enter switches to the
// selected one.
type scenarioPicker struct {
	items []ScenarioInfo
	sel   int
	busy  bool
	err   string
}

func (m *Model) hasScenarios() bool {
	return len(m.opts.Scenarios) > 0 && m.opts.SwitchScenario != nil
}

func (m *Model) openPicker() {
	p := &scenarioPicker{items: m.opts.Scenarios}
	for i, s := range p.items {
		if s.Name == m.scenario {
			p.sel = i
		}
	}
	m.picker = p
}

func (m *Model) updatePicker(k tea.KeyPressMsg) tea.Cmd {
	p := m.picker
	if p.busy {
		return nil
	}
	l := m.keys.List
	switch {
	case key.Matches(k, m.keys.Global.Cancel), key.Matches(k, m.keys.Global.Scenario), key.Matches(k, m.keys.Global.Quit):
		m.picker = nil
	case key.Matches(k, l.Up):
		p.sel = max(0, p.sel-1)
	case key.Matches(k, l.Down):
		p.sel = min(len(p.items)-1, p.sel+1)
	case key.Matches(k, l.Select):
		p.busy, p.err = true, ""
		return switchScenario(m.opts.SwitchScenario, p.items[p.sel].Name)
	}
	return nil
}

// onScenario applies a finished switch: the new scenario holds for new
// connections, so the procedure starts again from the top.
func (m *Model) onScenario(msg scenarioMsg) {
	if msg.err != nil {
		if m.picker != nil {
			m.picker.busy, m.picker.err = false, msg.err.Error()
		}
		return
	}
	m.picker = nil
	m.scenario = msg.name
	if m.inflight != noStep {
		m.cancelStep()
	}
	m.newMachine("", 0)
	m.checklist.SetItems("", nil)
	m.status = "scenario " + msg.name + ": new connections see it; enter starts again"
}

// pickerView draws the picker in the body area.
func (m *Model) pickerView(w, h int) []string {
	p := m.picker
	st := m.st
	out := []string{st.App.Header.Render("Lab scenario") + st.Text.Dim.Render("  ↑/↓ choose • enter switch • esc close")}
	if p.err != "" {
		out = append(out, st.App.Error.Render("✗ "+display(p.err)))
	}
	rows := max(1, h-len(out))
	start := 0
	if p.sel >= rows {
		start = p.sel - rows + 1
	}
	nameW := 0
	for _, s := range p.items {
		nameW = max(nameW, len(s.Name))
	}
	for i := start; i < len(p.items) && len(out) < h; i++ {
		s := p.items[i]
		mark := "  "
		if s.Name == m.scenario {
			mark = "* "
		}
		line := mark + s.Name + strings.Repeat(" ", nameW-len(s.Name)) + "  " + s.Description
		if i == p.sel {
			line = ">" + line[1:]
			line = st.Transcript.Selected.Render(ansiCut(line, w))
		}
		out = append(out, line)
	}
	return fitLines(out, w, h)
}
