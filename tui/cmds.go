package tui

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sync"

	tea "charm.land/bubbletea/v2"

	"github.com/mailflow/mailflow/session/transcript"
)

// Commands capture values (ids, stores, contexts, the backend), never the
// *Model: the Cmd body runs on its own goroutine while Update keeps
// mutating the model (see bubbles#784).

// waitTranscript waits for entries after seq in st and delivers the
// store's whole entry slice as one transcriptMsg: Since(0) shares memory
// with the store and covers only entries that never change, so the pane
// holds it instead of a copy. The root re-arms it after each message
// until the store is closed.
func waitTranscript(ctx context.Context, sid int, st *transcript.Store, after int) tea.Cmd {
	return func() tea.Msg {
		_, closed, err := st.WaitSince(ctx, after)
		return transcriptMsg{sid: sid, entries: st.Since(0), closed: closed, err: err}
	}
}

// connect opens a session in the background.
func connect(ctx context.Context, b Backend, sid int, t Target) tea.Cmd {
	return func() tea.Msg {
		s, err := b.Connect(ctx, t)
		return connectedMsg{sid: sid, target: t, sess: s, err: err}
	}
}

// sendLines sends lines on s and delivers the reply. secret, when set,
// is a password in lines: it is registered with the session's transcript
// (which then redacts it wherever it shows up) and forgotten with the
// closure; the model never keeps it.
func sendLines(ctx context.Context, s Session, sid, step int, command string, lines []string, secret string) tea.Cmd {
	return func() tea.Msg {
		if secret != "" {
			s.Transcript().AddSecret(secret)
		}
		r, err := s.Send(ctx, lines...)
		return replyMsg{sid: sid, step: step, command: command, reply: r, err: err}
	}
}

// startTLS runs the TLS handshake on s.
func startTLS(ctx context.Context, s Session, sid, step int) tea.Cmd {
	return func() tea.Msg { return tlsMsg{sid: sid, step: step, err: s.StartTLS(ctx)} }
}

// closeSession closes s.
func closeSession(s Session, sid int) tea.Cmd {
	return func() tea.Msg {
		_ = s.Close() // the transcript already holds any error the close produced
		return closedMsg{sid: sid}
	}
}

// mxFeed collects the events of one MX lookup. The lookup's emit callback
// appends from the resolver's goroutines; waitMX drains it, so a burst of
// rows costs one Update.
type mxFeed struct {
	mu      sync.Mutex
	events  []MXEvent
	done    bool
	err     error
	changed chan struct{}
}

func newMXFeed() *mxFeed { return &mxFeed{changed: make(chan struct{})} }

func (f *mxFeed) emit(ev MXEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ev.Row != nil { // copy: the caller may reuse its row
		r := *ev.Row
		r.Addrs = append([]string(nil), r.Addrs...)
		ev.Row = &r
	}
	f.events = append(f.events, ev)
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *mxFeed) finish(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done, f.err = true, err
	close(f.changed)
	f.changed = make(chan struct{})
}

// lookupMX starts the lookup. The goroutine lives only inside this Cmd
// body and ends when LookupMX returns (ctx bounds it).
func lookupMX(ctx context.Context, b Backend, id int, domain string) tea.Cmd {
	return func() tea.Msg {
		f := newMXFeed()
		go func() { f.finish(b.LookupMX(ctx, domain, f.emit)) }()
		return waitMX(ctx, id, f, 0)()
	}
}

// waitMX waits for events after the first `after` ones.
func waitMX(ctx context.Context, id int, f *mxFeed, after int) tea.Cmd {
	return func() tea.Msg {
		for {
			f.mu.Lock()
			after = min(after, len(f.events))
			evs, done, err, ch := f.events[after:len(f.events):len(f.events)], f.done, f.err, f.changed
			f.mu.Unlock()
			if len(evs) > 0 || done {
				return mxMsg{lookup: id, events: evs, done: done, err: err, feed: f, next: after + len(evs)}
			}
			select {
			case <-ch:
			case <-ctx.Done():
				return mxMsg{lookup: id, done: true, err: ctx.Err(), feed: f}
			}
		}
	}
}

// checkExists asks whether path exists, for the overwrite question.
func checkExists(path string) tea.Cmd {
	return func() tea.Msg {
		_, err := os.Stat(path)
		switch {
		case err == nil:
			return existsMsg{path: path, exists: true}
		case errors.Is(err, fs.ErrNotExist):
			return existsMsg{path: path}
		default:
			return existsMsg{path: path, err: err}
		}
	}
}

// export writes entries through fn.
func export(fn func(path, format string, meta transcript.Meta, entries []transcript.Entry) error, path, format string, meta transcript.Meta, entries []transcript.Entry) tea.Cmd {
	return func() tea.Msg {
		if fn == nil {
			return exportedMsg{path: path, err: errors.New("tui: export is not wired")}
		}
		return exportedMsg{path: path, err: fn(path, format, meta, entries)}
	}
}

// switchScenario asks the lab to inject another fault.
func switchScenario(fn func(string) error, name string) tea.Cmd {
	return func() tea.Msg { return scenarioMsg{name: name, err: fn(name)} }
}
