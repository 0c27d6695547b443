package transcript

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sample builds a small AUTH session with hostile bytes in it.
func sample(t *testing.T) *Store {
	t.Helper()
	base := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	now := base
	s := NewStore(WithClock(func() time.Time { now = now.Add(10 * time.Millisecond); return now }))
	s.AddSecret("kate-pass")
	s.Append(Entry{Dir: Note, Proto: "tcp", Step: "connect", Raw: []byte("connected to 127.0.0.1:25")})
	s.Append(Entry{Dir: Server, Proto: "smtp", Step: "connect", Raw: []byte("220 mx \x1b]52;c;ZXZpbA==\x07ready"),
		Reply: &Reply{Code: "220", OK: true, Lines: []string{"220 mx ready"}}, RTT: 5 * time.Millisecond})
	s.Append(Entry{Dir: Client, Proto: "smtp", Step: "auth", Raw: []byte("AUTH LOGIN")})
	s.Append(Entry{Dir: Server, Proto: "smtp", Step: "auth", Raw: []byte("334 VXNlcm5hbWU6"), Annotation: "Username:",
		Reply: &Reply{Code: "334", OK: true}})
	s.Append(Entry{Dir: Client, Proto: "smtp", Step: "auth", Raw: []byte("a2F0ZQ=="), Annotation: "kate"})
	// A careless caller records the password: the store must scrub it.
	s.Append(Entry{Dir: Client, Proto: "smtp", Step: "auth", Raw: []byte(base64.StdEncoding.EncodeToString([]byte("kate-pass")))})
	s.Append(Entry{Dir: Server, Proto: "smtp", Step: "auth", Raw: []byte("535 5.7.8 bad password kate-pass"),
		Reply: &Reply{Code: "535", Enhanced: "5.7.8", Lines: []string{"535 5.7.8 bad password kate-pass"}}})
	s.Append(Entry{Dir: Server, Proto: "smtp", Step: "rcpt", Raw: []byte("550 ```| \xff"), Reply: &Reply{Code: "550"}})
	return s
}

func TestExportsRedactAndStayInert(t *testing.T) {
	s := sample(t)
	m := Meta{Title: "AUTH test", Target: "127.0.0.1:25"}
	for _, f := range []Format{FormatText, FormatMarkdown, FormatJSONL} {
		var buf bytes.Buffer
		if err := Write(&buf, f, m, s.Entries()); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out := buf.String()
		for _, secret := range []string{"kate-pass", base64.StdEncoding.EncodeToString([]byte("kate-pass"))} {
			if strings.Contains(out, secret) {
				t.Errorf("%s export contains the secret %q", f, secret)
			}
		}
		if strings.ContainsAny(out, "\x1b\x07\r") {
			t.Errorf("%s export contains raw control bytes", f)
		}
		if !strings.Contains(out, "a2F0ZQ==") {
			t.Errorf("%s export lost the user name line", f)
		}
	}
}

func TestTextExportMarkers(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, Meta{}, sample(t).Entries()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"== connected to", "<- 220 mx ␛]52;c;ZXZpbA==␇ready", "-> AUTH LOGIN", "<- 334 VXNlcm5hbWU6  [Username:]", `\xff`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text export lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestMarkdownFenceAndTable(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, Meta{Title: "x"}, sample(t).Entries()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "````text\n") {
		t.Errorf("fence not longer than the server's ``` run:\n%s", out)
	}
	if !strings.Contains(out, "| ✗ failed |") || !strings.Contains(out, "| ✓ ok |") {
		t.Errorf("step table lacks verdicts:\n%s", out)
	}
	if !strings.Contains(out, `550 '''\| `) {
		t.Errorf("pipe in a cell not escaped:\n%s", out)
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	s := sample(t)
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, Meta{Title: "t", Target: "x:25"}, s.Entries()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != s.Len()+1 {
		t.Fatalf("%d lines for %d entries", len(lines), s.Len())
	}
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("line %d is not JSON: %s", i+1, l)
		}
	}
	m, es, err := ReadJSONL(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if m.Target != "x:25" || len(es) != s.Len() {
		t.Fatalf("ReadJSONL meta %+v, %d entries", m, len(es))
	}
	orig := s.Entries()
	for i := range es {
		if !bytes.Equal(es[i].Raw, orig[i].Raw) || es[i].Dir != orig[i].Dir || es[i].Seq != orig[i].Seq {
			t.Errorf("entry %d: got %q/%v want %q/%v", i, es[i].Raw, es[i].Dir, orig[i].Raw, orig[i].Dir)
		}
	}
	if es[1].Reply == nil || es[1].Reply.Code != "220" || es[1].RTT != 5*time.Millisecond {
		t.Errorf("reply or RTT lost: %+v", es[1])
	}
}

func TestReadJSONLReportsBadLines(t *testing.T) {
	in := `{"type":"header","version":1,"started":"2026-01-01T00:00:00Z"}
{"type":"entry","seq":1,"dir":"client","line":"EHLO x"}
{"type":"entry","seq":2,"dir":"sideways","line":"?"}
`
	_, es, err := ReadJSONL(strings.NewReader(in))
	if err == nil || !strings.Contains(err.Error(), "line 3") || len(es) != 1 {
		t.Fatalf("ReadJSONL = %d entries, %v", len(es), err)
	}
	if _, _, err := ReadJSONL(strings.NewReader(`{"type":"header","version":99}`)); err == nil {
		t.Fatal("a newer schema version was accepted")
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	es := sample(t).Entries()
	if err := WriteFileAtomic(path, FormatText, Meta{}, es, false); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("stat = %v, %v; want mode 0600", st.Mode(), err)
	}
	if err := WriteFileAtomic(path, FormatText, Meta{}, es[:1], false); !errors.Is(err, ErrExists) {
		t.Fatalf("second write without overwrite = %v", err)
	}
	before, _ := os.ReadFile(path)
	// A read-only directory: a clear error, and the old file is intact.
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o500)
	roPath := filepath.Join(ro, "x.txt")
	if os.Geteuid() != 0 { // root ignores directory permissions
		if err := WriteFileAtomic(roPath, FormatText, Meta{}, es, true); err == nil || !strings.Contains(err.Error(), "cannot create") {
			t.Fatalf("read-only dir: %v", err)
		}
	}
	// A missing directory fails the same way without touching path.
	if err := WriteFileAtomic(filepath.Join(dir, "nope", "x.txt"), FormatText, Meta{}, es, true); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("previous export changed")
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".out.txt.tmp-*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
}

func TestWriteFileAtomicFullDisk(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	// Writing through /dev/full fails with ENOSPC: Write must report it.
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	if err := Write(f, FormatText, Meta{}, sample(t).Entries()); err == nil {
		t.Fatal("Write to a full device reported no error")
	}
}

func TestJournal(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir, "mx.example:25", time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(WithSink(j))
	s.AddSecret("kate-pass")
	s.Append(Entry{Dir: Client, Raw: []byte("PASS kate-pass")})
	s.Append(Entry{Dir: Server, Raw: []byte("+OK")})
	// No Close: a crash must still leave both entries on disk.
	b, err := os.ReadFile(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "kate-pass") {
		t.Fatal("journal holds the password")
	}
	_, es, err := ReadJSONL(bytes.NewReader(b))
	if err != nil || len(es) != 2 {
		t.Fatalf("journal read back: %d entries, %v", len(es), err)
	}
	st, _ := os.Stat(j.Path())
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("journal mode %v", st.Mode())
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	s.Append(Entry{Dir: Note})
	if s.SinkErr() == nil {
		t.Fatal("writing to a closed journal reported nothing")
	}
}

func FuzzReadJSONL(f *testing.F) {
	var buf bytes.Buffer
	WriteJSONL(&buf, Meta{}, []Entry{{Seq: 1, Dir: Client, Raw: []byte("x")}})
	f.Add(buf.Bytes())
	f.Add([]byte(`{"type":"entry","dir":"note","level":"error","line":"\u001b"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		_, es, err := ReadJSONL(bytes.NewReader(in))
		if err != nil {
			return
		}
		// What was read must export again without error and inert.
		var out bytes.Buffer
		if err := WriteText(&out, Meta{}, es); err != nil {
			t.Fatal(err)
		}
		for _, r := range out.String() {
			if r == 0x1b || r == 0x07 || r == '\r' {
				t.Fatalf("control byte survived: %q", out.String())
			}
		}
	})
}

func TestJSONLEscapesC1AndBidi(t *testing.T) {
	es := []Entry{{Seq: 1, Dir: Server, Raw: []byte("250 a\u009b2Jb \u202eevil\u2066 \x7f"), Annotation: "\u0085x",
		Reply: &Reply{Code: "250", Lines: []string{"250 \u202e"}}}}
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, Meta{}, es); err != nil {
		t.Fatal(err)
	}
	for _, r := range buf.String() {
		if r == 0x7f || (r >= 0x80 && r <= 0x9f) || isBidiControl(r) {
			t.Fatalf("raw %U in JSON lines output: %q", r, buf.String())
		}
	}
	_, got, err := ReadJSONL(&buf)
	if err != nil || len(got) != 1 || !bytes.Equal(got[0].Raw, es[0].Raw) || got[0].Annotation != es[0].Annotation ||
		got[0].Reply.Lines[0] != es[0].Reply.Lines[0] {
		t.Fatalf("round trip lost data: %+v, %v", got, err)
	}
	// The journal uses the same encoding.
	j, err := OpenJournal(t.TempDir(), "x", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.Write(es[0]); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(j.Path())
	if strings.ContainsRune(string(b), 0x9b) || strings.ContainsRune(string(b), 0x202e) {
		t.Fatalf("journal holds raw C1/bidi characters: %q", b)
	}
}
