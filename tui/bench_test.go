package tui

import (
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/mailflow/mailflow/session/transcript"
)

// Run with:
//
//	go test -run '^$' -bench 'Transcript' -benchmem ./tui/
//
// The goal is a frame well under 16 ms at 1,000,000 entries and a cost
// that does not grow with the transcript's length.

var benchSizes = []int{100_000, 1_000_000}

func benchPane(b *testing.B, n int) (*transcriptPane, []transcript.Entry) {
	b.Helper()
	p := newPane(100, 30)
	p.Append(mkEntries(1, n))
	// Grow once up front: the benchmarks measure the steady state, not
	// the slice's occasional doubling (reported separately by
	// BenchmarkTranscriptMemory's allocation figures).
	p.entries = slices.Grow(p.entries, 1000)
	return p, mkEntries(n+1, 1000)
}

// BenchmarkTranscriptBurstBottom appends a burst of 1,000 lines while
// following and renders the frame at the bottom.
func BenchmarkTranscriptBurstBottom(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			p, burst := benchPane(b, n)
			b.ResetTimer()
			for b.Loop() {
				p.Append(burst)
				_ = p.View()
				b.StopTimer()
				// Drop the burst again so every iteration starts from n
				// entries with the burst's lines not yet rendered.
				p.entries = p.entries[:n]
				for i := n; i < n+len(burst); i++ {
					delete(p.cache, i)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkTranscriptBurstMiddle appends a burst while the user reads
// the middle of the transcript (not following) and renders that frame.
func BenchmarkTranscriptBurstMiddle(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			p, burst := benchPane(b, n)
			p.Update(keyMsg("home"))
			p.sel = n / 2
			p.ensureVisible()
			p.refresh()
			b.ResetTimer()
			for b.Loop() {
				p.Append(burst)
				_ = p.View()
				b.StopTimer()
				p.entries = p.entries[:n]
				b.StartTimer()
			}
		})
	}
}

// BenchmarkTranscriptJumpMiddle jumps to a different place in the middle
// each time (nothing cached there) and renders the frame.
func BenchmarkTranscriptJumpMiddle(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			p, _ := benchPane(b, n)
			p.follow = false
			i := 0
			b.ResetTimer()
			for b.Loop() {
				i++
				p.sel = n/4 + (i*7919)%(n/2)
				p.ensureVisible()
				p.refresh()
				_ = p.View()
			}
		})
	}
}

// BenchmarkTranscriptMemory reports the pane's own memory per entry (the
// copied Entry values and slice growth; the entries' bytes are shared with
// the store) and the total including those bytes.
func BenchmarkTranscriptMemory(b *testing.B) {
	const n = 1_000_000
	for b.Loop() {
		var before, mid, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		es := mkEntries(1, n)
		runtime.GC()
		runtime.ReadMemStats(&mid)
		p := newPane(100, 30)
		p.Append(es)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-mid.HeapAlloc)/n, "pane-B/entry")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "total-B/entry")
		runtime.KeepAlive(p)
		runtime.KeepAlive(es)
	}
}
