package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
)

func TestComputeModes(t *testing.T) {
	tests := []struct {
		w, h int
		want Mode
	}{
		{0, 0, ModeTooSmall}, {-5, 30, ModeTooSmall}, {39, 30, ModeTooSmall}, {100, 9, ModeTooSmall},
		{40, 10, ModeTabs}, {79, 40, ModeTabs}, {120, 23, ModeTabs},
		{80, 24, ModeCompact}, {119, 50, ModeCompact}, {200, 39, ModeCompact},
		{120, 40, ModeRoomy}, {200, 60, ModeRoomy},
	}
	for _, tt := range tests {
		if got := Compute(tt.w, tt.h).Mode; got != tt.want {
			t.Errorf("Compute(%d, %d).Mode = %v, want %v", tt.w, tt.h, got, tt.want)
		}
	}
}

// TestComputeTiles checks that in the grid modes the panes tile the body
// exactly (every cell covered once) and stay inside the screen.
func TestComputeTiles(t *testing.T) {
	for w := 1; w <= 200; w++ {
		for h := 1; h <= 60; h++ {
			l := Compute(w, h)
			if l.Mode != ModeCompact && l.Mode != ModeRoomy {
				continue
			}
			cover := make([]int, w*h)
			for _, r := range l.Panes {
				if r.X < 0 || r.Y < 0 || r.W < 0 || r.H < 0 || r.X+r.W > w || r.Y+r.H > h {
					t.Fatalf("%dx%d: pane %+v outside the screen", w, h, r)
				}
				for y := r.Y; y < r.Y+r.H; y++ {
					for x := r.X; x < r.X+r.W; x++ {
						cover[y*w+x]++
					}
				}
			}
			for y := 1; y < h-1; y++ {
				for x := 0; x < w; x++ {
					if cover[y*w+x] != 1 {
						t.Fatalf("%dx%d: cell (%d,%d) covered %d times", w, h, x, y, cover[y*w+x])
					}
				}
			}
		}
	}
}

// checkView asserts the frame fits the terminal.
func checkView(t *testing.T, m *Model, w, h int) {
	t.Helper()
	v := m.View().Content
	lines := strings.Split(v, "\n")
	if v != "" && len(lines) > h {
		t.Fatalf("%dx%d: %d lines", w, h, len(lines))
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Fatalf("%dx%d: line %d is %d cells wide: %q", w, h, i, lw, ansi.Strip(l))
		}
	}
}

// TestSizeSweep renders the full screen, with data in every pane, at
// every size from 1x1 to 200x60.
func TestSizeSweep(t *testing.T) {
	hs, _ := runToRCPT(t, 80, 24)
	m := hs.m
	step := 1
	if raceEnabled {
		step = 7 // every 7th size: the race detector gains nothing from more
	}
	for w := 1; w <= 200; w++ {
		for h := 1 + w%step; h <= 60; h += step {
			m.Update(tea.WindowSizeMsg{Width: w, Height: h})
			checkView(t, m, w, h)
		}
	}
	// Overlays and other panes in tabs mode, on a coarser grid.
	for _, setup := range []func(){
		func() { m.showHelp = true },
		func() { m.showHelp = false; m.dialog = newExportDialog(m.keys.Dialog, "example.net", m.opts.Now()) },
		func() { m.dialog = nil; m.focus = PaneMX },
		func() { m.focus = PaneExplain },
		func() { m.focus = PaneChecklist },
		func() { m.focus = PaneWizard; m.wizard.CycleMode() },
	} {
		setup()
		for w := 1; w <= 200; w += 3 {
			for h := 1; h <= 60; h += 2 {
				m.Update(tea.WindowSizeMsg{Width: w, Height: h})
				checkView(t, m, w, h)
			}
		}
	}
}

func TestTooSmall(t *testing.T) {
	m := newTestModel(newFakeBackend(), testParams())
	m.Update(tea.WindowSizeMsg{Width: 39, Height: 12})
	v := screen(m)
	if !strings.Contains(v, "terminal too small") || !strings.Contains(v, "need 40x10, have 39x12") {
		t.Fatalf("too-small view:\n%s", v)
	}
}

func TestTabsMode(t *testing.T) {
	hs, _ := runToRCPT(t, 60, 20)
	m := hs.m
	v := screen(m)
	if !strings.Contains(strings.Split(v, "\n")[1], "[Wizard]") {
		t.Fatalf("tab bar does not mark the wizard:\n%s", v)
	}
	hs.press("tab")
	v = screen(m)
	if !strings.Contains(strings.Split(v, "\n")[1], "[Transcript]") || !strings.Contains(v, "550 5.1.1") {
		t.Fatalf("tab did not show the transcript:\n%s", v)
	}
}

func TestGolden(t *testing.T) {
	for _, sz := range []struct {
		name string
		w, h int
	}{{"80x24", 80, 24}, {"120x40", 120, 40}, {"60x20", 60, 20}} {
		t.Run(sz.name, func(t *testing.T) {
			hs, _ := runToRCPT(t, sz.w, sz.h)
			hs.m.Update(keyMsg("tab")) // focus the transcript
			golden.RequireEqual(t, screen(hs.m))
		})
	}
}
