package tui

import (
	"strings"
	"unicode"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// inputRune reports whether r may enter a text input. The bubbles text
// input already drops C0 and C1 controls and DEL, but it keeps invisible
// format characters: bidirectional overrides, isolates and marks (which
// make a value read differently from its bytes, the "Trojan Source"
// trick), the line and paragraph separators (which some terminals treat
// as newlines), the BOM, zero-width spaces and soft hyphens. None of
// them belongs in a domain, a search, a path or an SMTP command, and
// each would reach the screen when the input is drawn. The zero-width
// joiner and non-joiner are kept: some scripts need them to spell words.
// TAB and line ends are left to the text input, which turns them into
// spaces.
func inputRune(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r':
		return true
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return false
	case r == 0x200c, r == 0x200d: // ZWNJ, ZWJ
		return true
	case unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp):
		return false
	}
	return true
}

// inputText returns s without the runes inputRune refuses.
func inputText(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !inputRune(r) }) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if inputRune(r) {
			return r
		}
		return -1
	}, s)
}

// filterInput removes what inputRune refuses from a paste or from the
// text of a key press, before any text input sees it. It reports false
// when nothing is left of a key press that only carried such text (the
// key is then dropped). A password prompt is left alone: its echo is
// masked, so nothing reaches the screen, and a password must be sent
// exactly as typed.
func (m *Model) filterInput(msg tea.Msg) (tea.Msg, bool) {
	if m.start == nil && m.dialog == nil && m.focus == PaneWizard && m.wizard.AskingSecret() {
		return msg, true
	}
	switch msg := msg.(type) {
	case tea.PasteMsg:
		msg.Content = inputText(msg.Content)
		return msg, true
	case tea.KeyPressMsg:
		if msg.Text == "" {
			return msg, true
		}
		t := inputText(msg.Text)
		if t == "" {
			return msg, false
		}
		if t != msg.Text {
			msg.Text = t
			if r := []rune(t); len(r) == 1 {
				msg.Code = r[0]
			}
		}
		return msg, true
	}
	return msg, true
}

// screenInputs passes the value of every text input through
// screenInputText
// after a key or a paste, so that what the operator typed or pasted is
// as wide by wcwidth as by grapheme (see screenText): the row holding
// the input then keeps its width on every terminal. It is the value, not
// only its view, that changes, because the text input measures and
// scrolls the value itself. The password prompt is left alone (its echo
// is masked).
func (m *Model) screenInputs() {
	if m.start != nil && screenInput(&m.start.input) {
		m.start.validate()
	}
	if m.dialog != nil {
		screenInput(&m.dialog.input)
	}
	screenInput(&m.transcript.input)
	if !m.wizard.AskingSecret() {
		screenInput(&m.wizard.input)
	}
}

// screenInput applies screenText to in's value, keeping the cursor after
// the same text, and reports whether the value changed.
func screenInput(in *textinput.Model) bool {
	v := in.Value()
	if isASCII(v) {
		return false
	}
	n := screenInputText(v)
	if n == v {
		return false
	}
	rs := []rune(v)
	pos := min(max(0, in.Position()), len(rs))
	in.SetValue(n)
	in.SetCursor(len([]rune(screenInputText(string(rs[:pos])))))
	return true
}
