package transcript

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestReadJSONLInto fills a store from an export as ReadJSONL reads it:
// the same entries with their recorded times, then the store is closed;
// a bad line stops the reading with its line number, keeps the entries
// before it and still closes the store.
func TestReadJSONLInto(t *testing.T) {
	s := sample(t)
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, Meta{Title: "t", Target: "x:25"}, s.Entries()); err != nil {
		t.Fatal(err)
	}
	_, want, err := ReadJSONL(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, tail string
		n          int    // entries in the store
		errLine    string // "" when the reading succeeds
	}{
		{"whole", "", len(want), ""},
		{"bad dir", `{"type":"entry","seq":99,"dir":"sideways","line":"?"}` + "\n", len(want), "line 10"},
		{"truncated", `{"type":"entry","seq":99,"dir":"cli`, len(want), "line 10"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := NewJSONLReader(strings.NewReader(buf.String() + tt.tail))
			st := NewStore()
			err := ReadJSONLInto(context.Background(), d, st)
			if tt.errLine == "" && err != nil || tt.errLine != "" && (err == nil || !strings.Contains(err.Error(), tt.errLine)) {
				t.Fatalf("ReadJSONLInto = %v, want an error with %q", err, tt.errLine)
			}
			if !st.Closed() {
				t.Error("the store is not closed")
			}
			if d.Meta().Target != "x:25" {
				t.Errorf("meta %+v", d.Meta())
			}
			got := st.Entries()
			if len(got) != tt.n {
				t.Fatalf("%d entries, want %d", len(got), tt.n)
			}
			for i := range got {
				g, w := got[i], want[i]
				if !bytes.Equal(g.Raw, w.Raw) || g.Seq != i+1 || !g.At.Equal(w.At) || g.Elapsed != w.Elapsed || g.Dir != w.Dir {
					t.Errorf("entry %d: got %+v want %+v", i, g, w)
				}
			}
		})
	}
}

// TestJSONLReaderNext reads entry by entry: the header before the first
// entry is in Meta, and io.EOF follows the last entry.
func TestJSONLReaderNext(t *testing.T) {
	d := NewJSONLReader(strings.NewReader(`{"type":"header","version":1,"target":"h:25"}` + "\n\n" +
		`{"type":"entry","seq":1,"dir":"server","line":"220 hi"}` + "\n"))
	e, err := d.Next()
	if err != nil || e.Text() != "220 hi" || d.Meta().Target != "h:25" || d.Line() != 3 {
		t.Fatalf("Next = %+v, %v; meta %+v line %d", e, err, d.Meta(), d.Line())
	}
	if _, err := d.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after the last entry = %v, want io.EOF", err)
	}
	if _, err := NewJSONLReader(strings.NewReader("hello\n")).Next(); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("a first line that is not JSON: %v", err)
	}
}

// TestReadJSONLIntoCancel stops at once when the context is done.
func TestReadJSONLIntoCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st := NewStore()
	err := ReadJSONLInto(ctx, NewJSONLReader(strings.NewReader(`{"type":"entry","seq":1,"dir":"server","line":"220 hi"}`+"\n")), st)
	if !errors.Is(err, context.Canceled) || st.Len() != 0 || !st.Closed() {
		t.Fatalf("ReadJSONLInto after cancel = %v, %d entries, closed %v", err, st.Len(), st.Closed())
	}
}

// TestWithCapacity: reserved room changes nothing a reader sees, and a
// reader's append never writes into the store's spare room.
func TestWithCapacity(t *testing.T) {
	for _, c := range []int{0, 1, 2, 100} {
		st := NewStore(WithCapacity(c))
		for i := range 3 {
			st.Restore(Entry{Dir: Server, Raw: []byte{'a' + byte(i)}})
		}
		es := st.Entries()
		_ = append(es, Entry{Raw: []byte("x")})
		st.Append(Entry{Dir: Client, Raw: []byte("d")})
		got := ""
		for i, e := range st.Entries() {
			if e.Seq != i+1 {
				t.Errorf("capacity %d: entry %d has Seq %d", c, i, e.Seq)
			}
			got += e.Text()
		}
		if got != "abcd" {
			t.Errorf("capacity %d: entries %q, want abcd", c, got)
		}
	}
}
