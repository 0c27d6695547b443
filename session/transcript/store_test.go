package transcript

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestStoreAppendNumbersAndTimes(t *testing.T) {
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	now := base
	s := NewStore(WithClock(func() time.Time { return now }))
	now = base.Add(1500 * time.Millisecond)
	e := s.Append(Entry{Dir: Server, Raw: []byte("220 hi")})
	if e.Seq != 1 || !e.At.Equal(now) || e.Elapsed != 1500*time.Millisecond {
		t.Fatalf("Append = seq %d at %v elapsed %v", e.Seq, e.At, e.Elapsed)
	}
	s.Append(Entry{Dir: Client, Raw: []byte("EHLO x")})
	if got := s.Since(1); len(got) != 1 || string(got[0].Raw) != "EHLO x" || got[0].Seq != 2 {
		t.Fatalf("Since(1) = %+v", got)
	}
	if got := s.Since(2); got != nil {
		t.Fatalf("Since(2) = %+v, want nil", got)
	}
}

func TestStoreSinceIsCapped(t *testing.T) {
	s := NewStore()
	for i := 0; i < 3; i++ {
		s.Append(Entry{Dir: Server})
	}
	// A caller's append must copy instead of writing into the store's
	// backing array, where a later Append would also write: the slices
	// handed out have no spare capacity.
	for _, es := range [][]Entry{s.Entries(), s.Since(1)} {
		if cap(es) != len(es) {
			t.Fatalf("slice of %d entries has capacity %d", len(es), cap(es))
		}
	}
	es := append(s.Entries(), Entry{Raw: []byte("intruder")})
	s.Append(Entry{Dir: Client, Raw: []byte("real")})
	if string(es[3].Raw) != "intruder" || string(s.Entries()[3].Raw) != "real" {
		t.Fatalf("caller's slice and store share memory: %q / %q", es[3].Raw, s.Entries()[3].Raw)
	}
}

func TestWaitSinceCoalescesAndWakesOnClose(t *testing.T) {
	s := NewStore()
	ctx := context.Background()
	done := make(chan []Entry)
	go func() {
		es, _, err := s.WaitSince(ctx, 0)
		if err != nil {
			t.Error(err)
		}
		done <- es
	}()
	time.Sleep(10 * time.Millisecond)
	s.Append(Entry{Dir: Server, Raw: []byte("a")})
	es := <-done
	if len(es) == 0 || string(es[0].Raw) != "a" {
		t.Fatalf("WaitSince woke with %+v", es)
	}
	// A burst before the reader comes back is returned in one call.
	for i := 0; i < 500; i++ {
		s.Append(Entry{Dir: Server})
	}
	es, closed, err := s.WaitSince(ctx, 1)
	if err != nil || closed || len(es) != 500 {
		t.Fatalf("burst: got %d entries, closed=%v err=%v", len(es), closed, err)
	}
	go func() { time.Sleep(10 * time.Millisecond); s.Close() }()
	es, closed, err = s.WaitSince(ctx, 501)
	if err != nil || !closed || len(es) != 0 {
		t.Fatalf("close: %d entries closed=%v err=%v", len(es), closed, err)
	}
}

func TestWaitSinceHonoursContext(t *testing.T) {
	s := NewStore()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, _, err := s.WaitSince(ctx, 0)
	if err == nil {
		t.Fatal("WaitSince returned without error on an empty store and a cancelled context")
	}
}

type recSink struct {
	mu   sync.Mutex
	seqs []int
}

func (r *recSink) Write(e Entry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seqs = append(r.seqs, e.Seq)
	return nil
}

func TestConcurrentWritersKeepOrderInSink(t *testing.T) {
	k := &recSink{}
	s := NewStore(WithSink(k))
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 250; i++ {
				s.Append(Entry{Dir: Note})
			}
		}()
	}
	wg.Wait()
	if s.Len() != 1000 || len(k.seqs) != 1000 {
		t.Fatalf("len %d, sink saw %d", s.Len(), len(k.seqs))
	}
	for i, q := range k.seqs {
		if q != i+1 {
			t.Fatalf("sink order broken at %d: %d", i, q)
		}
	}
}

func BenchmarkStoreAppend(b *testing.B) {
	s := NewStore()
	raw := []byte("250-PIPELINING")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Append(Entry{Dir: Server, Proto: "smtp", Step: "ehlo", Raw: raw})
	}
}
