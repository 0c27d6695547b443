package tui

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/mailflow/mailflow/session/transcript"
)

// fakeClock returns times one millisecond apart from a fixed UTC instant,
// so transcripts (and goldens) are the same on every run.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

// fakeBackend answers from canned data and records into real
// transcript.Stores, so the whole app runs without a network.
type fakeBackend struct {
	mu         sync.Mutex
	mx         []MXEvent
	mxErr      error
	greeting   []string // greeting lines, last one carries the code
	replies    map[string][]string
	connectErr error
	targets    []Target
	sessions   []*fakeSession
	block      chan struct{} // when set, Send waits for it or ctx
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{
		mx: []MXEvent{
			{Row: &MXRow{Pref: 10, Host: "mx1.example.net", Addrs: []string{"192.0.2.10"}}},
			{Row: &MXRow{Pref: 20, Host: "mx2.example.net", Addrs: []string{"192.0.2.20"}}},
			{Row: &MXRow{Pref: 10, Host: "mx1.example.net", Addrs: []string{"192.0.2.10"}, RDNS: "mx1.example.net", RDNSVerdict: Good, Probe: "220 in 4ms", ProbeVerdict: Good}},
		},
		greeting: []string{"220 mx1.example.net ESMTP ready"},
		replies: map[string][]string{
			"EHLO": {"250-mx1.example.net", "250-PIPELINING", "250 SIZE 10240000"},
			"MAIL": {"250 2.1.0 Sender ok"},
			"RCPT": {"550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown"},
			"QUIT": {"221 2.0.0 Bye"},
		},
	}
}

func (b *fakeBackend) LookupMX(ctx context.Context, domain string, emit func(MXEvent)) error {
	for _, ev := range b.mx {
		if err := ctx.Err(); err != nil {
			return err
		}
		emit(ev)
	}
	return b.mxErr
}

func parseReply(lines []string) transcript.Reply {
	last := lines[len(lines)-1]
	code := last[:3]
	r := transcript.Reply{Code: code, Lines: lines, OK: code[0] == '2' || code[0] == '3'}
	if f := strings.Fields(last[4:]); len(f) > 0 && strings.Count(f[0], ".") == 2 {
		r.Enhanced = f[0]
	}
	return r
}

func (b *fakeBackend) Connect(ctx context.Context, t Target) (Session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.targets = append(b.targets, t)
	if b.connectErr != nil {
		return nil, b.connectErr
	}
	st := transcript.NewStore(transcript.WithClock(fakeClock()))
	st.Notef(transcript.Info, "tcp", "connect", "connected to "+t.Host)
	s := &fakeSession{be: b, st: st, greeting: parseReply(b.greeting)}
	s.server(b.greeting, 3*time.Millisecond)
	b.sessions = append(b.sessions, s)
	return s, nil
}

func (b *fakeBackend) Explain(protocol, command string, r transcript.Reply) Explanation {
	class := "success"
	if !r.OK {
		class = "permanent"
	}
	return Explanation{Command: command, Code: r.Code, Enhanced: r.Enhanced, Class: class,
		Summary: "explained " + r.Code, Lines: r.Lines, Causes: []string{"cause of " + r.Code}}
}

func (b *fakeBackend) Checklist(ev Evidence) []ChecklistItem {
	return []ChecklistItem{
		{Title: "The mailbox does not exist", Status: StatusLikely, Why: "the server said 5.1.1 at " + ev.Step},
		{Title: "Relay denied", Status: StatusRuledOut, Why: "not 5.7.1"},
		{Title: "Greylisting", Status: StatusUnknown},
	}
}

// step returns the wizard row with the given step id.
func step(m *Model, id string) WizardStep {
	for _, s := range m.wizard.Steps() {
		if s.ID == id {
			return s
		}
	}
	return WizardStep{ID: id, State: -1}
}

// stepEnded reports whether step id finished (done or failed) and
// nothing is in flight.
func stepEnded(id string) func(*Model) bool {
	return func(m *Model) bool {
		s := step(m, id).State
		return (s == StepDone || s == StepFailed) && m.inflight == noStep
	}
}

// Append adds entries to the pane the way a growing store would: the
// pane then holds the longer slice. Tests and benchmarks use it to feed
// a pane without a store.
func (p *transcriptPane) Append(es []transcript.Entry) {
	if len(es) == 0 {
		return
	}
	p.SetEntries(append(p.entries[:len(p.entries):len(p.entries)], es...))
}

type fakeSession struct {
	be       *fakeBackend
	st       *transcript.Store
	greeting transcript.Reply
	mu       sync.Mutex
	closed   bool
	sent     []string
}

func (s *fakeSession) server(lines []string, rtt time.Duration) transcript.Reply {
	r := parseReply(lines)
	for i, l := range lines {
		e := transcript.Entry{Dir: transcript.Server, Proto: "smtp", Raw: []byte(l)}
		if i == len(lines)-1 {
			rr := r
			e.Reply, e.RTT = &rr, rtt
		}
		s.st.Append(e)
	}
	return r
}

func (s *fakeSession) Transcript() *transcript.Store { return s.st }
func (s *fakeSession) Greeting() transcript.Reply    { return s.greeting }

func (s *fakeSession) Send(ctx context.Context, lines ...string) (transcript.Reply, error) {
	if b := s.be.block; b != nil {
		select {
		case <-b:
		case <-ctx.Done():
			return transcript.Reply{}, ctx.Err()
		}
	}
	s.mu.Lock()
	s.sent = append(s.sent, lines...)
	s.mu.Unlock()
	for _, l := range lines {
		s.st.Append(transcript.Entry{Dir: transcript.Client, Proto: "smtp", Raw: []byte(l)})
	}
	verb := strings.ToUpper(strings.Fields(lines[0] + " x")[0])
	rep, ok := s.be.replies[verb]
	if !ok {
		rep = []string{"500 5.5.2 unrecognized command"}
	}
	return s.server(rep, 12*time.Millisecond), nil
}

func (s *fakeSession) StartTLS(ctx context.Context) error { return errors.New("no tls in fake") }

func (s *fakeSession) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *fakeSession) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.st.Close()
	}
	return nil
}

// harness runs Cmds like a Program would (each in its own goroutine) but
// feeds their messages to Update on the test goroutine, so tests stay
// deterministic: they wait for a condition, never for a duration.
type harness struct {
	t    *testing.T
	m    *Model
	msgs chan tea.Msg
	quit bool
}

func newHarness(t *testing.T, m *Model, w, h int) *harness {
	t.Helper()
	hs := &harness{t: t, m: m, msgs: make(chan tea.Msg, 64)}
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	t.Cleanup(func() { m.cancel() })
	return hs
}

func (h *harness) start(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() { h.msgs <- cmd() }()
}

// send delivers a message to Update and starts the Cmd it returns.
func (h *harness) send(msg tea.Msg) {
	_, cmd := h.m.Update(msg)
	h.start(cmd)
}

func (h *harness) press(keys ...string) {
	for _, k := range keys {
		h.send(keyMsg(k))
	}
}

// until processes messages until cond holds.
func (h *harness) until(what string, cond func(*Model) bool) {
	h.t.Helper()
	deadline := time.After(5 * time.Second)
	for !cond(h.m) {
		select {
		case msg := <-h.msgs:
			h.dispatch(msg)
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (h *harness) dispatch(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			h.start(c)
		}
	case tea.QuitMsg:
		h.quit = true
	default:
		// tea.Sequence returns an unexported slice of Cmds: run them in
		// order.
		if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
			for i := 0; i < v.Len(); i++ {
				c := v.Index(i).Interface().(tea.Cmd)
				if c != nil {
					h.dispatch(c())
				}
			}
			return
		}
		h.send(msg)
	}
}

// keyMsg builds a key press from its String() form.
func keyMsg(s string) tea.KeyPressMsg {
	special := map[string]tea.KeyPressMsg{
		"enter":      {Code: tea.KeyEnter},
		"esc":        {Code: tea.KeyEscape},
		"tab":        {Code: tea.KeyTab},
		"shift+tab":  {Code: tea.KeyTab, Mod: tea.ModShift},
		"up":         {Code: tea.KeyUp},
		"down":       {Code: tea.KeyDown},
		"right":      {Code: tea.KeyRight},
		"pgup":       {Code: tea.KeyPgUp},
		"pgdown":     {Code: tea.KeyPgDown},
		"home":       {Code: tea.KeyHome},
		"end":        {Code: tea.KeyEnd},
		"backspace":  {Code: tea.KeyBackspace},
		"ctrl+c":     {Code: 'c', Mod: tea.ModCtrl},
		"ctrl+b":     {Code: 'b', Mod: tea.ModCtrl},
		"ctrl+space": {Code: tea.KeySpace, Mod: tea.ModCtrl},
	}
	if k, ok := special[s]; ok {
		return k
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

// typeText types s into whatever has focus.
func (h *harness) typeText(s string) {
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func testParams() Params {
	return Params{Domain: "example.net", Protocol: "smtp", From: "me@example.org", To: "nobody@example.net", HELO: "client.example.org"}
}

func newTestModel(be *fakeBackend, p Params) *Model {
	return New(Options{Backend: be, Params: p, Now: func() time.Time { return time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC) }})
}
