package transcript

import (
	"context"
	"sync"
	"time"
)

// Sink receives every entry as it is appended, in order. The journal is a
// Sink. A Sink runs while the store is locked, so it must be quick and must
// not call back into the store.
type Sink interface {
	Write(Entry) error
}

// Store is an append-only, lossless log of entries that is safe for
// concurrent use: one or more writers (a session) and any number of
// readers (the TUI, an exporter, a test).
type Store struct {
	mu      sync.Mutex
	start   time.Time
	now     func() time.Time
	entries []Entry
	changed chan struct{} // made by a waiting reader, closed by the next change
	closed  bool
	sinks   []Sink
	sinkErr error
	secrets [][]byte
}

// Option configures a Store.
type Option func(*Store)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithSink adds a sink that sees every entry (a journal, a live printer).
func WithSink(k Sink) Option { return func(s *Store) { s.sinks = append(s.sinks, k) } }

// WithCapacity reserves room for n entries. A replay that knows roughly
// how many lines it will read saves the copies of append's doubling,
// each of which holds the old array alive until the next collection
// (the peak memory of a large replay); reserved but unused room is
// address space the kernel has not handed out yet.
func WithCapacity(n int) Option {
	return func(s *Store) {
		if n > 0 {
			s.entries = make([]Entry, 0, n)
		}
	}
}

// NewStore returns an empty store whose elapsed times count from now.
func NewStore(opts ...Option) *Store {
	s := &Store{now: time.Now}
	for _, o := range opts {
		o(s)
	}
	s.start = s.now()
	return s
}

// Start returns the time the store was created.
func (s *Store) Start() time.Time { return s.start }

// Append records e, filling in Seq, At and Elapsed, and returns the entry
// as stored. Appending to a closed store still records the entry: nothing
// that happened is ever dropped.
func (s *Store) Append(e Entry) Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	e.Seq = len(s.entries) + 1
	if e.At.IsZero() {
		e.At = now
	}
	e.Elapsed = e.At.Sub(s.start)
	if len(s.secrets) > 0 {
		s.scrub(&e)
	}
	s.entries = append(s.entries, e)
	for _, k := range s.sinks {
		if err := k.Write(e); err != nil && s.sinkErr == nil {
			s.sinkErr = err
		}
	}
	s.wake()
	return e
}

// Restore records e as it was recorded elsewhere (a replayed export):
// its At and Elapsed are kept, and only Seq is set, to its position in
// the store. Secrets and sinks apply as in Append.
func (s *Store) Restore(e Entry) Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.Seq = len(s.entries) + 1
	if len(s.secrets) > 0 {
		s.scrub(&e)
	}
	s.entries = append(s.entries, e)
	for _, k := range s.sinks {
		if err := k.Write(e); err != nil && s.sinkErr == nil {
			s.sinkErr = err
		}
	}
	s.wake()
	return e
}

// wake releases the readers blocked in WaitSince. The channel exists only
// while someone waits, so an append nobody is waiting for allocates
// nothing here.
func (s *Store) wake() {
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

// Notef appends a note entry with the given level, protocol and step.
func (s *Store) Notef(level Level, proto, step, text string) Entry {
	return s.Append(Entry{Dir: Note, Level: level, Proto: proto, Step: step, Raw: []byte(text)})
}

// Close marks the conversation as ended and wakes every waiting reader.
// It is safe to call more than once.
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.wake()
}

// Closed reports whether Close was called.
func (s *Store) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// SinkErr returns the first error a sink reported, such as a journal
// that could not be written.
func (s *Store) SinkErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sinkErr
}

// Len returns the number of entries.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Entries returns every entry. The slice shares memory with the store but
// only covers entries that never change again, so it is safe to read
// without locking; do not modify it.
func (s *Store) Entries() []Entry { return s.Since(0) }

// Since returns the entries with Seq greater than seq, without blocking.
func (s *Store) Since(seq int) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.since(seq)
}

func (s *Store) since(seq int) []Entry {
	if seq < 0 {
		seq = 0
	}
	if seq >= len(s.entries) {
		return nil
	}
	// The three-index slice caps the result so that a caller's append
	// can never write into the store's backing array.
	n := len(s.entries)
	return s.entries[seq:n:n]
}

// WaitSince blocks until there are entries with Seq greater than seq, the
// store is closed, or ctx is done. It returns all such entries at once (a
// burst costs one wake-up) and whether the store is closed. When ctx ends
// first it returns what there is and ctx's error.
func (s *Store) WaitSince(ctx context.Context, seq int) (entries []Entry, closed bool, err error) {
	for {
		s.mu.Lock()
		es, closed := s.since(seq), s.closed
		if len(es) > 0 || closed {
			s.mu.Unlock()
			return es, closed, nil
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}
