package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/mailflow/mailflow/session/transcript"
)

// mkEntries returns n entries starting at seq from; every 10th is a
// failing reply and every 7th a long line that wraps.
func mkEntries(from, n int) []transcript.Entry {
	es := make([]transcript.Entry, n)
	t0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	for i := range es {
		seq := from + i
		e := transcript.Entry{Seq: seq, At: t0.Add(time.Duration(seq) * time.Millisecond), Proto: "smtp"}
		switch {
		case seq%10 == 0:
			e.Dir = transcript.Server
			e.Raw = []byte(fmt.Sprintf("550 5.1.1 line %d rejected", seq))
			e.Reply = &transcript.Reply{Code: "550", Enhanced: "5.1.1", Lines: []string{string(e.Raw)}}
		case seq%7 == 0:
			e.Dir = transcript.Client
			e.Raw = []byte(fmt.Sprintf("line %d %s", seq, strings.Repeat("long-token ", 20)))
		default:
			e.Dir = transcript.Server
			e.Raw = []byte(fmt.Sprintf("250 line %d", seq))
			e.Reply = &transcript.Reply{Code: "250", Lines: []string{string(e.Raw)}, OK: true}
			e.RTT = 12 * time.Millisecond
		}
		es[i] = e
	}
	return es
}

func newPane(w, h int) *transcriptPane {
	p := newTranscriptPane(DefaultKeyMap().Transcript, NewStyles(true))
	p.SetSize(w, h)
	return p
}

func paneLines(p *transcriptPane) []string { return strings.Split(ansi.Strip(p.View()), "\n") }

func checkFrame(t *testing.T, p *transcriptPane) {
	t.Helper()
	ls := strings.Split(p.View(), "\n")
	if len(ls) != p.h {
		t.Fatalf("frame has %d lines, want %d", len(ls), p.h)
	}
	for i, l := range ls {
		if w := ansi.StringWidth(l); w > p.w {
			t.Fatalf("line %d is %d wide, want <= %d: %q", i, w, p.w, ansi.Strip(l))
		}
	}
}

func TestFollowMode(t *testing.T) {
	p := newPane(60, 10)
	p.Append(mkEntries(1, 50))
	checkFrame(t, p)
	if !p.Following() || p.sel != 49 {
		t.Fatalf("follow=%v sel=%d, want following the last entry", p.Following(), p.sel)
	}
	if l := paneLines(p); !strings.Contains(l[len(l)-1], "550 5.1.1 line 50") {
		t.Fatalf("bottom line %q, want the newest entry", l[len(l)-1])
	}
	// Scrolling up leaves follow mode; new entries do not move the view.
	p.Update(keyMsg("k"))
	p.Update(keyMsg("k"))
	if p.Following() || p.sel != 47 {
		t.Fatalf("after k k: follow=%v sel=%d", p.Following(), p.sel)
	}
	before := strings.Join(paneLines(p), "\n")
	p.Append(mkEntries(51, 30))
	if after := strings.Join(paneLines(p), "\n"); after != before || p.sel != 47 {
		t.Fatalf("the view moved while not following:\n%s\n---\n%s", before, after)
	}
	// G re-enables follow and jumps to the newest.
	p.Update(keyMsg("G"))
	p.Append(mkEntries(81, 5))
	if !p.Following() || p.sel != 84 {
		t.Fatalf("after G: follow=%v sel=%d", p.Following(), p.sel)
	}
	checkFrame(t, p)
	// home goes to the first entry.
	p.Update(keyMsg("home"))
	if l := paneLines(p); p.sel != 0 || !strings.Contains(l[0], "250 line 1") {
		t.Fatalf("home: sel=%d first=%q", p.sel, l[0])
	}
}

func TestSelectionStaysVisibleWithWrapping(t *testing.T) {
	p := newPane(30, 8) // long lines wrap to several rows
	p.Append(mkEntries(1, 200))
	p.Update(keyMsg("home"))
	for i := 0; i < 120; i++ {
		p.Update(keyMsg("j"))
		checkFrame(t, p)
		if !strings.Contains(strings.Join(strings.Split(p.View(), "\n"), ""), ">") {
			t.Fatalf("after %d j: the selected entry is off screen", i+1)
		}
	}
	for i := 0; i < 5; i++ {
		p.Update(keyMsg("pgup"))
		checkFrame(t, p)
	}
	p.Update(keyMsg("pgdown"))
	checkFrame(t, p)
	if p.sel < 0 || p.sel >= 200 {
		t.Fatalf("sel = %d", p.sel)
	}
}

func TestSearchAndFailureJumps(t *testing.T) {
	p := newPane(60, 10)
	p.Append(mkEntries(1, 100))
	p.Update(keyMsg("home"))
	p.StartSearch()
	for _, r := range "LINE 42" { // case-insensitive
		p.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	p.Update(keyMsg("enter"))
	if p.Searching() || p.entries[p.sel].Seq != 42 {
		t.Fatalf("search selected seq %d", p.entries[p.sel].Seq)
	}
	if l := paneLines(p); !strings.Contains(l[len(l)-1], "/LINE 42") {
		t.Errorf("status line %q does not show the query", l[len(l)-1])
	}
	p.Update(keyMsg("n")) // wraps around to the only match
	if p.entries[p.sel].Seq != 42 {
		t.Errorf("n moved to %d", p.entries[p.sel].Seq)
	}
	p.Update(keyMsg("f"))
	if p.entries[p.sel].Seq != 50 {
		t.Errorf("f went to %d, want the next failure 50", p.entries[p.sel].Seq)
	}
	p.Update(keyMsg("F"))
	p.Update(keyMsg("F"))
	if p.entries[p.sel].Seq != 30 {
		t.Errorf("F F went to %d, want 30", p.entries[p.sel].Seq)
	}
	p.StartSearch()
	p.input.SetValue("no such text")
	p.Update(keyMsg("enter"))
	if !strings.Contains(strings.Join(paneLines(p), "\n"), "no match") {
		t.Error("a failed search says nothing")
	}
	checkFrame(t, p)
}

func TestSelectedReplyMultiLine(t *testing.T) {
	p := newPane(60, 10)
	r := &transcript.Reply{Code: "250", Lines: []string{"250-a", "250-b", "250 c"}, OK: true}
	p.Append([]transcript.Entry{
		{Seq: 1, Dir: transcript.Client, Raw: []byte("EHLO x")},
		{Seq: 2, Dir: transcript.Server, Raw: []byte("250-a")},
		{Seq: 3, Dir: transcript.Server, Raw: []byte("250-b")},
		{Seq: 4, Dir: transcript.Server, Raw: []byte("250 c"), Reply: r},
	})
	p.Update(keyMsg("home"))
	if _, _, ok := p.SelectedReply(); ok {
		t.Error("a client line has no reply")
	}
	p.Update(keyMsg("j"))
	got, cmd, ok := p.SelectedReply()
	if !ok || len(got.Lines) != 3 || got.Lines[0] != "250-a" || cmd != "EHLO x" {
		t.Errorf("SelectedReply = %+v, %q, %v", got, cmd, ok)
	}
}

func TestRenderDetails(t *testing.T) {
	p := newPane(80, 6)
	p.Append([]transcript.Entry{
		{Seq: 1, At: time.Date(2025, 3, 4, 10, 0, 0, 5e6, time.UTC), Dir: transcript.Server, Raw: []byte("334 VXNlcm5hbWU6"), Annotation: "Username:",
			Reply: &transcript.Reply{Code: "334", OK: true, Lines: []string{"334 VXNlcm5hbWU6"}}, RTT: 1500 * time.Microsecond},
		{Seq: 2, Dir: transcript.Client, Raw: []byte("<redacted>"), Redacted: true},
		{Seq: 3, Dir: transcript.Note, Proto: "tls", Raw: []byte("TLS 1.3 handshake ok")},
		{Seq: 4, Dir: transcript.Client, Secure: true, Raw: []byte("QUIT")},
		{Seq: 5, Dir: transcript.Note, Level: transcript.Warning, Raw: []byte("connection dropped")},
	})
	got := paneLines(p)
	want := []string{
		" <- 334 VXNlcm5hbWU6  (1ms)  # Username:",
		" -> <redacted>",
		" == TLS 1.3 handshake ok",
		" ~> QUIT",
		">!! connection dropped",
	}
	for i, w := range want {
		if strings.TrimRight(got[i], " ") != w {
			t.Errorf("line %d = %q, want %q", i, got[i], w)
		}
	}
	p.Update(keyMsg("t"))
	if l := paneLines(p)[0]; !strings.HasPrefix(l, " 10:00:00.005 <- 334") {
		t.Errorf("with timestamps: %q", l)
	}
}

func TestResizeWhileStreaming(t *testing.T) {
	p := newPane(60, 10)
	p.Append(mkEntries(1, 100))
	p.Update(keyMsg("k"))
	p.Update(keyMsg("k")) // seq 98 selected, not following
	for i, sz := range [][2]int{{30, 5}, {100, 30}, {5, 2}, {0, 0}, {60, 10}} {
		p.SetSize(sz[0], sz[1])
		p.Append(mkEntries(101+i*10, 10))
		if p.entries[p.sel].Seq != 98 || p.Following() {
			t.Fatalf("resize to %v lost the selection: seq %d follow %v", sz, p.entries[p.sel].Seq, p.Following())
		}
		if p.h > 0 {
			checkFrame(t, p)
		}
	}
	if p.Len() != 150 {
		t.Fatalf("have %d entries, want 150", p.Len())
	}
	if !strings.Contains(p.View(), "line 98") {
		t.Error("the selected entry is not on screen after resizes")
	}
}

func TestCacheInvalidatedOnlyByWidth(t *testing.T) {
	p := newPane(60, 10)
	p.Append(mkEntries(1, 20))
	n := len(p.cache)
	if n == 0 {
		t.Fatal("nothing cached")
	}
	p.cache[19] = []string{"SENTINEL"}
	p.SetSize(60, 12) // height change keeps the cache
	p.Append(mkEntries(21, 1))
	if p.cache[19][0] != "SENTINEL" {
		t.Fatal("a height change or an append dropped the cache")
	}
	p.SetSize(61, 12)
	if len(p.cache) > 0 && p.cache[19] != nil && p.cache[19][0] == "SENTINEL" {
		t.Fatal("a width change kept stale lines")
	}
}

// TestFollowWithoutRoom streams entries into a following pane that has no
// room to draw them (no size at all, or a status line and no body): the
// selection must still be the newest entry, so that copying, explaining
// and the title act on what the operator will see once there is room.
func TestFollowWithoutRoom(t *testing.T) {
	for _, c := range []struct {
		name  string
		w, h  int
		query string
	}{
		{"zero size", 0, 0, ""},
		{"zero width", 0, 10, ""},
		{"zero height", 60, 0, ""},
		{"status line only", 60, 1, "line"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPane(60, 10)
			p.Append(mkEntries(1, 2))
			p.query = c.query
			p.SetSize(c.w, c.h)
			p.Append(mkEntries(3, 10))
			if !p.Following() || p.sel != p.Len()-1 {
				t.Fatalf("following %v, entry %d of %d selected; want the newest", p.Following(), p.sel+1, p.Len())
			}
			p.SetSize(60, 10)
			if !strings.Contains(p.Title(), "12/12") {
				t.Fatalf("title %q after the pane got room", p.Title())
			}
			checkFrame(t, p)
		})
	}
}
