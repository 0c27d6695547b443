package tui

import "charm.land/bubbles/v2/key"

// KeyMap holds every key binding, grouped by where it applies. There is no
// package-level key state: a Model carries its own KeyMap (Options.Keys).
type KeyMap struct {
	Global     GlobalKeys
	Transcript TranscriptKeys
	List       ListKeys
	Wizard     WizardKeys
	Dialog     DialogKeys
}

// GlobalKeys work whichever pane has focus (unless a text input is
// focused, in which case printable keys type into it).
type GlobalKeys struct {
	Quit, Help, NextPane, PrevPane, Run, Cancel, Search, Export,
	Copy, CopyAll, Mode, Reconnect, Mouse, Skip, GoQuit, Scenario key.Binding
}

// TranscriptKeys move the transcript selection and search it.
type TranscriptKeys struct {
	Up, Down, PageUp, PageDown, Top, Bottom, NextMatch, PrevMatch,
	NextFail, PrevFail, Timestamps key.Binding
}

// ListKeys move through the MX table, the checklist and the explainer.
type ListKeys struct {
	Up, Down, PageUp, PageDown, Select key.Binding
}

// WizardKeys apply to the wizard's command prompt (practice and raw
// modes).
type WizardKeys struct {
	Submit, HistoryPrev, HistoryNext, Complete, Base64, Blur, Focus key.Binding
}

// DialogKeys apply inside the export dialog.
type DialogKeys struct {
	Confirm, Cancel, NextFormat, Yes, No key.Binding
}

// DefaultKeyMap returns mailflow's default bindings.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return KeyMap{
		Global: GlobalKeys{
			Quit:      b([]string{"q", "ctrl+c"}, "q", "quit"),
			Help:      b([]string{"?"}, "?", "help"),
			NextPane:  b([]string{"tab"}, "tab", "next pane"),
			PrevPane:  b([]string{"shift+tab"}, "shift+tab", "prev pane"),
			Run:       b([]string{"enter"}, "enter", "run step"),
			Cancel:    b([]string{"esc"}, "esc", "cancel step"),
			Search:    b([]string{"/"}, "/", "search"),
			Export:    b([]string{"e"}, "e", "export"),
			Copy:      b([]string{"y"}, "y", "copy line"),
			CopyAll:   b([]string{"Y"}, "Y", "copy all"),
			Mode:      b([]string{"m"}, "m", "wizard mode"),
			Reconnect: b([]string{"r"}, "r", "reconnect"),
			Mouse:     b([]string{"M"}, "M", "mouse on/off"),
			Skip:      b([]string{">"}, ">", "skip step"),
			GoQuit:    b([]string{"X"}, "X", "jump to QUIT"),
			Scenario:  b([]string{"S"}, "S", "lab scenario"),
		},
		Transcript: TranscriptKeys{
			Up:         b([]string{"k", "up"}, "↑/k", "up"),
			Down:       b([]string{"j", "down"}, "↓/j", "down"),
			PageUp:     b([]string{"pgup", "ctrl+u"}, "pgup", "page up"),
			PageDown:   b([]string{"pgdown", "ctrl+d"}, "pgdn", "page down"),
			Top:        b([]string{"home", "g"}, "g/home", "top"),
			Bottom:     b([]string{"end", "G"}, "G/end", "bottom+follow"),
			NextMatch:  b([]string{"n"}, "n", "next match"),
			PrevMatch:  b([]string{"N"}, "N", "prev match"),
			NextFail:   b([]string{"f"}, "f", "next failure"),
			PrevFail:   b([]string{"F"}, "F", "prev failure"),
			Timestamps: b([]string{"t"}, "t", "timestamps"),
		},
		List: ListKeys{
			Up:       b([]string{"k", "up"}, "↑/k", "up"),
			Down:     b([]string{"j", "down"}, "↓/j", "down"),
			PageUp:   b([]string{"pgup"}, "pgup", "page up"),
			PageDown: b([]string{"pgdown"}, "pgdn", "page down"),
			Select:   b([]string{"enter"}, "enter", "connect to host"),
		},
		Wizard: WizardKeys{
			Submit:      b([]string{"enter"}, "enter", "send"),
			HistoryPrev: b([]string{"up"}, "↑", "history"),
			HistoryNext: b([]string{"down"}, "↓", "history"),
			// Tab cycles panes, so completion uses ctrl+space, or →
			// when the cursor is already at the end of the input.
			Complete: b([]string{"ctrl+space", "ctrl+@", "right"}, "ctrl+space/→", "complete verb"),
			Base64:   b([]string{"ctrl+b"}, "ctrl+b", "base64-encode"),
			Blur:     b([]string{"esc"}, "esc", "leave prompt"),
			Focus:    b([]string{"i"}, "i", "type command"),
		},
		Dialog: DialogKeys{
			Confirm:    b([]string{"enter"}, "enter", "save"),
			Cancel:     b([]string{"esc"}, "esc", "cancel"),
			NextFormat: b([]string{"tab", "shift+tab"}, "tab", "format"),
			Yes:        b([]string{"y", "Y"}, "y", "overwrite"),
			No:         b([]string{"n", "N", "esc"}, "n", "keep file"),
		},
	}
}
