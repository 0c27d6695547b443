package tui

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// palette holds the design tokens every style is built from. Styles never
// name a colour directly: changing a token changes the theme.
type palette struct {
	fg, muted, subtle, accent, ok, warn, fail, client, server, note, selBG, selFG color.Color
}

func newPalette(isDark bool) palette {
	ld := lipgloss.LightDark(isDark)
	c := lipgloss.Color
	return palette{
		fg:     ld(c("#1f2328"), c("#e6edf3")),
		muted:  ld(c("#6e7781"), c("#8b949e")),
		subtle: ld(c("#afb8c1"), c("#484f58")),
		accent: ld(c("#0969da"), c("#58a6ff")),
		ok:     ld(c("#1a7f37"), c("#3fb950")),
		warn:   ld(c("#9a6700"), c("#d29922")),
		fail:   ld(c("#cf222e"), c("#f85149")),
		client: ld(c("#0550ae"), c("#79c0ff")),
		server: ld(c("#1f2328"), c("#e6edf3")),
		note:   ld(c("#8250df"), c("#d2a8ff")),
		selBG:  ld(c("#ddf4ff"), c("#1f3a5f")),
		selFG:  ld(c("#1f2328"), c("#ffffff")),
	}
}

// Styles is every style the interface uses, grouped by the part of the
// screen that uses it. Meaning never rests on colour alone: each styled
// state also has a glyph or a word, because the ASCII colour profile (and
// NO_COLOR) strips colour.
type Styles struct {
	IsDark bool
	App    struct {
		Header, HeaderDim, Footer, Status, Error, TabActive, TabInactive lipgloss.Style
	}
	Frame struct {
		Title, TitleFocused, Border, BorderFocused lipgloss.Style
	}
	Transcript struct {
		Client, Server, Note, Warn, Marker, Annotation, Time, RTT, Fail lipgloss.Style
		// Selected is drawn in reverse video so that it survives the
		// ASCII profile.
		Selected lipgloss.Style
	}
	State struct {
		Done, Failed, Current, Pending, Likely, Unknown, RuledOut lipgloss.Style
	}
	Text struct {
		Label, Value, Dim, Heading, Good, Bad lipgloss.Style
	}
	Dialog struct {
		Box, Title lipgloss.Style
	}
}

// NewStyles builds the styles for a dark or light terminal background.
// The root rebuilds them when a tea.BackgroundColorMsg arrives.
func NewStyles(isDark bool) Styles {
	p := newPalette(isDark)
	s := lipgloss.NewStyle
	var st Styles
	st.IsDark = isDark
	st.App.Header = s().Bold(true).Foreground(p.accent)
	st.App.HeaderDim = s().Foreground(p.muted)
	st.App.Footer = s().Foreground(p.muted)
	st.App.Status = s().Foreground(p.fg)
	st.App.Error = s().Bold(true).Foreground(p.fail)
	st.App.TabActive = s().Reverse(true).Bold(true)
	st.App.TabInactive = s().Foreground(p.muted)

	st.Frame.Title = s().Foreground(p.muted)
	st.Frame.TitleFocused = s().Bold(true).Foreground(p.accent)
	st.Frame.Border = s().Foreground(p.subtle)
	st.Frame.BorderFocused = s().Foreground(p.accent)

	st.Transcript.Client = s().Foreground(p.client)
	st.Transcript.Server = s().Foreground(p.server)
	st.Transcript.Note = s().Foreground(p.note)
	st.Transcript.Warn = s().Bold(true).Foreground(p.warn)
	st.Transcript.Fail = s().Foreground(p.fail)
	st.Transcript.Marker = s().Bold(true)
	st.Transcript.Annotation = s().Faint(true).Foreground(p.muted)
	st.Transcript.Time = s().Foreground(p.muted)
	st.Transcript.RTT = s().Foreground(p.muted)
	st.Transcript.Selected = s().Reverse(true)

	st.State.Done = s().Foreground(p.ok)
	st.State.Failed = s().Bold(true).Foreground(p.fail)
	st.State.Current = s().Bold(true).Foreground(p.accent)
	st.State.Pending = s().Foreground(p.muted)
	st.State.Likely = s().Bold(true).Foreground(p.fail)
	st.State.Unknown = s().Foreground(p.warn)
	st.State.RuledOut = s().Foreground(p.muted)

	st.Text.Label = s().Foreground(p.muted)
	st.Text.Value = s().Foreground(p.fg)
	st.Text.Dim = s().Faint(true).Foreground(p.muted)
	st.Text.Heading = s().Bold(true).Foreground(p.fg)
	st.Text.Good = s().Foreground(p.ok)
	st.Text.Bad = s().Bold(true).Foreground(p.fail)

	st.Dialog.Box = s().Foreground(p.fg)
	st.Dialog.Title = s().Bold(true).Foreground(p.accent)
	return st
}
