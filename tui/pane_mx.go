package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// mxPane shows the MX picture: problems first, then one row per mail
// server, filled in as the lookups and probes finish.
type mxPane struct {
	keys     ListKeys
	st       Styles
	w, h     int
	domain   string
	rows     []MXRow
	problems []string
	sel      int
	off      int // first row shown
	running  bool
	err      string
	note     string // shown instead of the idle hint (replay)
}

func newMXPane(keys ListKeys, st Styles) *mxPane { return &mxPane{keys: keys, st: st} }

func (p *mxPane) SetSize(w, h int)    { p.w, p.h = max(0, w), max(0, h); p.clamp() }
func (p *mxPane) SetStyles(st Styles) { p.st = st }

// SetNote replaces the idle hint, e.g. to say a replay has no live DNS.
func (p *mxPane) SetNote(s string) { p.note = s }

// Start clears the picture for a new lookup of domain.
func (p *mxPane) Start(domain string) {
	p.domain, p.rows, p.problems, p.sel, p.off, p.running, p.err = domain, nil, nil, 0, 0, true, ""
}

// Apply adds events to the picture. A row with a known host replaces
// that host's row, so probes can fill a row in later.
func (p *mxPane) Apply(evs []MXEvent) {
	for _, ev := range evs {
		if ev.Problem != "" {
			p.problems = append(p.problems, ev.Problem)
		}
		if ev.Row == nil {
			continue
		}
		found := false
		for i := range p.rows {
			if strings.EqualFold(p.rows[i].Host, ev.Row.Host) {
				p.rows[i], found = *ev.Row, true
				break
			}
		}
		if !found {
			p.rows = append(p.rows, *ev.Row)
		}
	}
	p.clamp()
}

// Finish marks the lookup as done.
func (p *mxPane) Finish(err error) {
	p.running = false
	if err != nil {
		p.err = err.Error()
	}
}

// Rows returns the rows shown.
func (p *mxPane) Rows() []MXRow { return p.rows }

// SelectedRow returns the selected row.
func (p *mxPane) SelectedRow() (MXRow, bool) {
	if p.sel < 0 || p.sel >= len(p.rows) {
		return MXRow{}, false
	}
	return p.rows[p.sel], true
}

func (p *mxPane) clamp() {
	p.sel = max(0, min(p.sel, len(p.rows)-1))
	per := p.rowsPerScreen()
	if p.sel < p.off {
		p.off = p.sel
	}
	if per > 0 && p.sel >= p.off+per {
		p.off = p.sel - per + 1
	}
	p.off = max(0, p.off)
}

// wide reports whether a row fits on one line.
func (p *mxPane) wide() bool { return p.w >= 70 }

func (p *mxPane) rowsPerScreen() int {
	avail := p.h - len(p.problems) - 1 // header line
	if p.err != "" {
		avail--
	}
	if p.wide() {
		return max(1, avail)
	}
	return max(1, avail/2)
}

// Update moves the selection; enter asks the root to connect to the
// selected host.
func (p *mxPane) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(k, p.keys.Up):
		p.sel--
	case key.Matches(k, p.keys.Down):
		p.sel++
	case key.Matches(k, p.keys.PageUp):
		p.sel -= p.rowsPerScreen()
	case key.Matches(k, p.keys.PageDown):
		p.sel += p.rowsPerScreen()
	case key.Matches(k, p.keys.Select):
		if r, ok := p.SelectedRow(); ok {
			return func() tea.Msg { return connectRequestMsg{row: r} }
		}
	}
	p.clamp()
	return nil
}

func verdictGlyph(st Styles, v Verdict) (string, lipgloss.Style) {
	switch v {
	case Good:
		return "✓", st.State.Done
	case Warn:
		return "!", st.State.Unknown
	case Bad:
		return "✗", st.State.Failed
	}
	return "·", st.State.Pending
}

// View draws the problems, a header and the visible rows.
func (p *mxPane) View() string {
	st := p.st
	ps := display
	var out []string
	for _, pr := range p.problems {
		out = append(out, st.Text.Bad.Render(fit("! "+ps(pr), p.w)))
	}
	if p.err != "" {
		out = append(out, st.App.Error.Render(fit("✗ "+ps(p.err), p.w)))
	}
	if len(p.rows) == 0 {
		msg := "no lookup yet (enter runs the MX step)"
		if p.note != "" {
			msg = p.note
		}
		if p.running {
			msg = "looking up MX for " + ps(p.domain) + " ..."
		}
		out = append(out, st.Text.Dim.Render(fit(msg, p.w)))
		return strings.Join(out, "\n")
	}
	if p.wide() {
		out = append(out, st.Text.Label.Render(fit(fmt.Sprintf(" %-5s %-27s %-22s %-12s %s", "pref", "host", "addresses", "rDNS", "probe"), p.w)))
	} else {
		out = append(out, st.Text.Label.Render(fit(" pref host / addr rDNS probe", p.w)))
	}
	end := min(len(p.rows), p.off+p.rowsPerScreen())
	for i := p.off; i < end; i++ {
		r := p.rows[i]
		rg, rs := verdictGlyph(st, r.RDNSVerdict)
		pg, pss := verdictGlyph(st, r.ProbeVerdict)
		addrs := ps(strings.Join(r.Addrs, ","))
		var lines []string
		if p.wide() {
			// A preference is up to five digits (RFC 1035 section 3.3.9:
			// a 16-bit number); every column is padded by cells.
			lines = []string{fmt.Sprintf("%-5d ", r.Pref) + cell(ps(r.Host), 27) + " " + cell(addrs, 22) + " " +
				rs.Render(rg) + " " + cell(ps(r.RDNS), 10) + " " + pss.Render(pg) + " " + ps(r.Probe)}
		} else {
			lines = []string{
				fmt.Sprintf("%-4d %s", r.Pref, ps(r.Host)),
				"     " + addrs + " " + rs.Render(rg) + " " + pss.Render(pg) + " " + ps(r.Probe),
			}
		}
		for _, l := range lines {
			g := " "
			if i == p.sel {
				g = ">"
				l = st.Transcript.Selected.Render(ansiStrip(l))
			}
			out = append(out, fit(g+l, p.w))
		}
	}
	return strings.Join(out, "\n")
}

func (p *mxPane) ShortHelp() []key.Binding {
	return []key.Binding{p.keys.Up, p.keys.Down, p.keys.Select}
}

func (p *mxPane) FullHelp() [][]key.Binding {
	return [][]key.Binding{{p.keys.Up, p.keys.Down, p.keys.PageUp, p.keys.PageDown, p.keys.Select}}
}
