package tui

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/mailflow/mailflow/session/transcript"
)

// Run with:
//
//	go test -run '^$' -bench 'Transcript' -benchmem ./tui/
//
// The goal is a frame well under 16 ms at 1,000,000 entries and a cost
// that does not grow with the transcript's length.

var benchSizes = []int{100_000, 1_000_000}

// benchStore records n entries like mkEntries' into a real store, the
// way a session fills it.
func benchStore(n int) *transcript.Store {
	t0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	i := 0
	st := transcript.NewStore(transcript.WithClock(func() time.Time { i++; return t0.Add(time.Duration(i) * time.Millisecond) }))
	for _, e := range mkEntries(1, n) {
		st.Append(e)
	}
	return st
}

// benchPane returns a pane showing the first n entries of a store that
// holds n+1000: the last 1000 are the burst the benchmarks add, by
// handing the pane the longer slice as onTranscript does.
func benchPane(b *testing.B, n int) (*transcriptPane, []transcript.Entry) {
	b.Helper()
	all := benchStore(n + 1000).Since(0)
	p := newPane(100, 30)
	p.SetEntries(all[:n])
	return p, all
}

// BenchmarkTranscriptBurstBottom appends a burst of 1,000 lines while
// following and renders the frame at the bottom.
func BenchmarkTranscriptBurstBottom(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			p, all := benchPane(b, n)
			b.ResetTimer()
			for b.Loop() {
				p.SetEntries(all)
				_ = p.View()
				b.StopTimer()
				// Drop the burst again so every iteration starts from n
				// entries with the burst's lines not yet rendered.
				p.entries = all[:n]
				for i := n; i < len(all); i++ {
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
			p, all := benchPane(b, n)
			p.Update(keyMsg("home"))
			p.sel = n / 2
			p.ensureVisible()
			p.refresh()
			b.ResetTimer()
			for b.Loop() {
				p.SetEntries(all)
				_ = p.View()
				b.StopTimer()
				p.entries = all[:n]
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

// BenchmarkTranscriptMemory reports the pane's own memory per entry of a
// 1,000,000-entry session (what the pane adds on top of the store: it
// holds the store's slice, so only its line cache and frame remain), and
// the total including the store.
//
// Before the pane held the store's slice it appended a copy of every
// Entry: 152 pane-B/entry, 449.6 total-B/entry on the same data.
func BenchmarkTranscriptMemory(b *testing.B) {
	const n = 1_000_000
	for b.Loop() {
		var before, mid, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		st := benchStore(n)
		runtime.GC()
		runtime.ReadMemStats(&mid)
		p := newPane(100, 30)
		// As onTranscript does after each wake-up.
		p.SetEntries(st.Since(0))
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(mid.HeapAlloc))/n, "pane-B/entry")
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n, "total-B/entry")
		runtime.KeepAlive(p)
		runtime.KeepAlive(st)
	}
}
