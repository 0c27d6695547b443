package tui

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// Export formats, as passed to Options.Export.
var exportFormats = []struct{ name, ext, label string }{
	{"text", "txt", "text"},
	{"markdown", "md", "Markdown"},
	{"jsonl", "jsonl", "JSON lines"},
}

// exportDialog asks for a format and a path, and asks again before
// overwriting a file.
type exportDialog struct {
	keys    DialogKeys
	format  int
	input   textinput.Model
	base    string // default path without extension
	confirm bool   // asking whether to overwrite
	busy    bool
	err     string
}

// defaultExportBase returns mailflow-<name>-<YYYYmmdd-HHMMSS>.
func defaultExportBase(name string, now time.Time) string {
	name = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return '_'
	}, name)
	if name == "" {
		name = "session"
	}
	return fmt.Sprintf("mailflow-%s-%s", name, now.Format("20060102-150405"))
}

func newExportDialog(keys DialogKeys, name string, now time.Time) *exportDialog {
	in := textinput.New()
	in.Prompt = "path: "
	s := in.Styles()
	s.Cursor.Blink = false
	in.SetStyles(s)
	d := &exportDialog{keys: keys, input: in, base: defaultExportBase(name, now)}
	d.input.SetValue(d.base + "." + exportFormats[0].ext)
	d.input.CursorEnd()
	return d
}

// setDir puts the default file in dir (an SSH user's own directory).
func (d *exportDialog) setDir(dir string) {
	if dir == "" {
		return
	}
	d.base = filepath.Join(dir, filepath.Base(d.base))
	d.input.SetValue(d.base + "." + exportFormats[d.format].ext)
	d.input.CursorEnd()
}

// Format returns the chosen format name.
func (d *exportDialog) Format() string { return exportFormats[d.format].name }

// Path returns the path typed.
func (d *exportDialog) Path() string { return strings.TrimSpace(d.input.Value()) }

// cycleFormat switches format and, while the path still has the default
// name, its extension.
func (d *exportDialog) cycleFormat(step int) {
	old := d.base + "." + exportFormats[d.format].ext
	d.format = (d.format + step + len(exportFormats)) % len(exportFormats)
	if d.input.Value() == old {
		d.input.SetValue(d.base + "." + exportFormats[d.format].ext)
		d.input.CursorEnd()
	}
}

// dialogAction is what the root must do after a dialog key.
type dialogAction int

const (
	dialogNone dialogAction = iota
	dialogClose
	dialogCheck // ask whether the path exists
	dialogWrite // write the file
)

func (d *exportDialog) Update(msg tea.Msg) (dialogAction, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if d.busy {
		return dialogNone, nil
	}
	if ok && d.confirm {
		switch {
		case key.Matches(k, d.keys.Yes):
			d.confirm, d.busy = false, true
			return dialogWrite, nil
		case key.Matches(k, d.keys.No):
			d.confirm = false
		}
		return dialogNone, nil
	}
	if ok {
		switch {
		case key.Matches(k, d.keys.Cancel):
			return dialogClose, nil
		case key.Matches(k, d.keys.Confirm):
			if d.Path() == "" {
				d.err = "type a path"
				return dialogNone, nil
			}
			d.err, d.busy = "", true
			return dialogCheck, nil
		case key.Matches(k, d.keys.NextFormat):
			if k.String() == "shift+tab" {
				d.cycleFormat(-1)
			} else {
				d.cycleFormat(1)
			}
			return dialogNone, nil
		}
	}
	var cmd tea.Cmd
	d.input, cmd = d.input.Update(msg)
	return dialogNone, cmd
}

// SetWidth sets the width the dialog is drawn in.
func (d *exportDialog) SetWidth(w int) { d.input.SetWidth(max(1, w-8)) }

// View draws the dialog in w×h cells.
func (d *exportDialog) View(st Styles, w, h int) []string {
	var out []string
	out = append(out, st.Dialog.Title.Render("Export transcript"), "")
	var fs []string
	for i, f := range exportFormats {
		if i == d.format {
			fs = append(fs, st.App.TabActive.Render("["+f.label+"]"))
		} else {
			fs = append(fs, " "+f.label+" ")
		}
	}
	out = append(out, "format: "+strings.Join(fs, " ")+st.Text.Dim.Render("  (tab)"))
	out = append(out, d.input.View())
	switch {
	case d.confirm:
		out = append(out, "", st.Text.Bad.Render(display(d.Path())+" exists. Overwrite? y/n"))
	case d.busy:
		out = append(out, "", st.Text.Dim.Render("writing ..."))
	case d.err != "":
		out = append(out, "", st.App.Error.Render("✗ "+display(d.err)))
	default:
		out = append(out, "", st.Text.Dim.Render("enter saves · esc cancels"))
	}
	return fitLines(out, w, h)
}
