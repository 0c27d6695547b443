package tui

// PaneID names one of the five panes.
type PaneID int

// The panes, in focus-cycling order.
const (
	PaneWizard PaneID = iota
	PaneTranscript
	PaneExplain
	PaneChecklist
	PaneMX
	numPanes
)

// String returns the pane's title.
func (p PaneID) String() string {
	switch p {
	case PaneMX:
		return "MX"
	case PaneTranscript:
		return "Transcript"
	case PaneExplain:
		return "Explain"
	case PaneWizard:
		return "Wizard"
	case PaneChecklist:
		return "Checklist"
	}
	return "?"
}

// Rect is a rectangle of terminal cells. A zero-sized Rect is not drawn.
type Rect struct{ X, Y, W, H int }

// Empty reports whether r covers no cell.
func (r Rect) Empty() bool { return r.W <= 0 || r.H <= 0 }

// Mode is how the screen is arranged at a given size.
type Mode int

// Layout modes, from smallest to largest terminal.
const (
	// ModeTooSmall shows only a "terminal too small" message.
	ModeTooSmall Mode = iota
	// ModeTabs shows one pane at a time under a tab bar (narrower than
	// CompactWidth columns or shorter than CompactHeight rows).
	ModeTabs
	// ModeCompact shows every pane with one-line title bars (80×24).
	ModeCompact
	// ModeRoomy shows every pane in a bordered box (RoomyWidth×RoomyHeight
	// and more).
	ModeRoomy
)

// Size thresholds. MinWidth×MinHeight is the smallest terminal that can
// show a header, a tab bar, three lines of one pane and the footer; below
// it mailflow says the terminal is too small instead of drawing a broken
// screen.
const (
	MinWidth      = 40
	MinHeight     = 10
	CompactWidth  = 80
	CompactHeight = 24
	RoomyWidth    = 120
	RoomyHeight   = 40
)

// Layout is the result of Compute: where the header, the footer, the tab
// bar (tabs mode only) and each pane go. In tabs mode every pane gets the
// same rectangle and only the active one is drawn.
type Layout struct {
	W, H   int
	Mode   Mode
	Header Rect
	TabBar Rect
	Footer Rect
	Panes  [numPanes]Rect
}

// Bordered reports whether panes are drawn in boxes.
func (l Layout) Bordered() bool { return l.Mode == ModeRoomy }

// Compute arranges a w×h terminal. It is pure and total: every input,
// including zero and negative sizes, gives a layout whose rectangles stay
// inside the screen.
//
// Compact and roomy modes share one grid: the header on the first row and
// the footer (short help) on the last; the body is split into a left
// column (wizard above, MX below) and a right column (transcript above,
// explainer and checklist side by side below). The transcript gets the
// most room because it is what the operator reads.
func Compute(w, h int) Layout {
	w, h = max(0, w), max(0, h)
	l := Layout{W: w, H: h}
	switch {
	case w < MinWidth || h < MinHeight:
		l.Mode = ModeTooSmall
		return l
	case w < CompactWidth || h < CompactHeight:
		l.Mode = ModeTabs
	case w >= RoomyWidth && h >= RoomyHeight:
		l.Mode = ModeRoomy
	default:
		l.Mode = ModeCompact
	}
	l.Header = Rect{0, 0, w, 1}
	l.Footer = Rect{0, h - 1, w, 1}
	if l.Mode == ModeTabs {
		l.TabBar = Rect{0, 1, w, 1}
		body := Rect{0, 2, w, max(0, h-3)}
		for i := range l.Panes {
			l.Panes[i] = body
		}
		return l
	}
	bodyY, bodyH := 1, max(0, h-2)
	leftW := w * 36 / 100
	if l.Mode == ModeRoomy {
		leftW = w * 32 / 100
	}
	rightW := max(0, w-leftW)
	// Left column: wizard over MX.
	wizH := bodyH * 55 / 100
	l.Panes[PaneWizard] = Rect{0, bodyY, leftW, wizH}
	l.Panes[PaneMX] = Rect{0, bodyY + wizH, leftW, max(0, bodyH-wizH)}
	// Right column: transcript over (explain | checklist).
	trH := bodyH * 58 / 100
	lowH := max(0, bodyH-trH)
	explW := rightW * 55 / 100
	l.Panes[PaneTranscript] = Rect{leftW, bodyY, rightW, trH}
	l.Panes[PaneExplain] = Rect{leftW, bodyY + trH, explW, lowH}
	l.Panes[PaneChecklist] = Rect{leftW + explW, bodyY + trH, max(0, rightW-explW), lowH}
	return l
}
