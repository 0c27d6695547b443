//go:build race

package tui

// raceEnabled thins the size sweep under the race detector, which makes
// rendering about ten times slower; plain runs still cover every size.
const raceEnabled = true
