package tui

import (
	"context"
	"fmt"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// BenchmarkRootBurstFollow measures what the operator waits for when a
// burst of 1,000 lines arrives while following a long session: the
// transcript wake-up Cmd, the root model's Update and its whole View,
// against a real transcript.Store (the appends themselves are the
// session's work and are not timed). Run with:
//
//	go test -run '^$' -bench 'Root' -benchmem ./tui/
func BenchmarkRootBurstFollow(b *testing.B) {
	for _, n := range benchSizes {
		for _, size := range [][2]int{{80, 24}, {200, 60}} {
			b.Run(fmt.Sprintf("%d/%dx%d", n, size[0], size[1]), func(b *testing.B) {
				st := benchStore(n)
				burst := mkEntries(n+1, 1000)
				m := newTestModel(newFakeBackend(), testParams())
				m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				m.focus = PaneTranscript
				m.sid, m.store = 1, st
				m.Update(transcriptMsg{sid: 1, entries: st.Since(0)})
				ctx := context.Background()
				b.ResetTimer()
				for b.Loop() {
					b.StopTimer()
					for _, e := range burst {
						st.Append(e)
					}
					b.StartTimer()
					msg := waitTranscript(ctx, 1, st, m.transcript.LastSeq())()
					m.Update(msg)
					_ = m.View()
				}
				if !m.transcript.Following() || m.transcript.Len() != st.Len() {
					b.Fatalf("following %v, %d of %d entries", m.transcript.Following(), m.transcript.Len(), st.Len())
				}
			})
		}
	}
}
