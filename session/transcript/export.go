package transcript

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"
)

// Format names an export format.
type Format string

// Export formats.
const (
	FormatText     Format = "text"
	FormatMarkdown Format = "markdown"
	FormatJSONL    Format = "jsonl"
)

// ParseFormat accepts "text"/"txt"/"log", "markdown"/"md" and
// "jsonl"/"json".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "text", "txt", "log":
		return FormatText, nil
	case "markdown", "md":
		return FormatMarkdown, nil
	case "jsonl", "json", "ndjson":
		return FormatJSONL, nil
	}
	return "", fmt.Errorf("transcript: unknown export format %q (want text, markdown or jsonl)", s)
}

// FormatForPath guesses the format from a file name's extension, falling
// back to text.
func FormatForPath(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".md", ".markdown":
		return FormatMarkdown
	case ".jsonl", ".json", ".ndjson":
		return FormatJSONL
	}
	return FormatText
}

// Ext returns the usual file extension for f, with the dot.
func (f Format) Ext() string {
	switch f {
	case FormatMarkdown:
		return ".md"
	case FormatJSONL:
		return ".jsonl"
	}
	return ".txt"
}

// Meta describes a transcript for the headers of an export.
type Meta struct {
	Title   string    // e.g. "SMTP check of mx1.example.com:25"
	Target  string    // host:port or domain
	Started time.Time // zero means the first entry's time
}

func (m Meta) started(es []Entry) time.Time {
	if !m.Started.IsZero() || len(es) == 0 {
		return m.Started
	}
	return es[0].At.Add(-es[0].Elapsed)
}

// Write writes entries in format f.
func Write(w io.Writer, f Format, m Meta, es []Entry) error {
	switch f {
	case FormatText:
		return WriteText(w, m, es)
	case FormatMarkdown:
		return WriteMarkdown(w, m, es)
	case FormatJSONL:
		return WriteJSONL(w, m, es)
	}
	return fmt.Errorf("transcript: unknown export format %q", f)
}

// textLine renders one entry the way the screen and the text export show
// it: marker, sanitised line, and the annotation in brackets.
func textLine(e Entry) string {
	var b strings.Builder
	b.WriteString(e.Marker())
	b.WriteByte(' ')
	b.WriteString(e.Text())
	if e.Partial {
		b.WriteString(" [incomplete line]")
	}
	if e.Annotation != "" {
		b.WriteString("  [")
		b.WriteString(PrintableString(e.Annotation))
		b.WriteByte(']')
	}
	return b.String()
}

// WriteText writes a plain-text log in the spirit of telnet's logfile:
// the conversation line by line, with swaks-style markers so that a reader
// can tell who said what ("->" client, "<-" server, "~>"/"<~" inside TLS,
// "==" notes, "!!" problems). Every server byte is made inert.
func WriteText(w io.Writer, m Meta, es []Entry) error {
	bw := bufio.NewWriter(w)
	title := m.Title
	if title == "" {
		title = "mailflow transcript"
	}
	fmt.Fprintf(bw, "# %s\n", PrintableString(title))
	if m.Target != "" {
		fmt.Fprintf(bw, "# target: %s\n", PrintableString(m.Target))
	}
	if st := m.started(es); !st.IsZero() {
		fmt.Fprintf(bw, "# started: %s\n", st.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(bw, "# %d entries; credentials are redacted\n", len(es))
	for _, e := range es {
		bw.WriteString(textLine(e))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// StepRow is one row of the step table in a Markdown export: a reply and
// the command it answered.
type StepRow struct {
	Step     string
	Command  string
	Code     string
	Enhanced string
	OK       bool
	RTT      time.Duration
	Text     string // the reply's last line, sanitised
}

// Steps derives the step table from entries: one row per complete reply,
// paired with the last client line before it.
func Steps(es []Entry) []StepRow {
	var rows []StepRow
	lastCmd := ""
	for _, e := range es {
		switch {
		case e.Dir == Client:
			lastCmd = e.Text()
		case e.Reply != nil:
			cmd := lastCmd
			if cmd == "" {
				cmd = "(connect)"
			}
			rows = append(rows, StepRow{Step: e.Step, Command: cmd, Code: e.Reply.Code, Enhanced: e.Reply.Enhanced,
				OK: e.Reply.OK, RTT: e.RTT, Text: e.Text()})
			lastCmd = ""
		}
	}
	return rows
}

// WriteMarkdown writes a ticket-ready report: a step table with verdicts,
// then the transcript in a fenced block.
func WriteMarkdown(w io.Writer, m Meta, es []Entry) error {
	bw := bufio.NewWriter(w)
	title := m.Title
	if title == "" {
		title = "mailflow transcript"
	}
	fmt.Fprintf(bw, "# %s\n\n", mdEscape(title))
	if m.Target != "" {
		fmt.Fprintf(bw, "- Target: `%s`\n", strings.ReplaceAll(PrintableString(m.Target), "`", "'"))
	}
	if st := m.started(es); !st.IsZero() {
		fmt.Fprintf(bw, "- Started: %s\n", st.UTC().Format(time.RFC3339))
	}
	bw.WriteString("- Credentials are redacted.\n\n")
	if rows := Steps(es); len(rows) > 0 {
		bw.WriteString("| Step | Command | Reply | Verdict | RTT |\n|---|---|---|---|---|\n")
		for _, r := range rows {
			verdict := "✓ ok"
			if !r.OK {
				verdict = "✗ failed"
			}
			fmt.Fprintf(bw, "| %s | %s | %s | %s | %s |\n", mdEscape(r.Step), mdEscape(r.Command), mdEscape(r.Text),
				verdict, r.RTT.Round(time.Millisecond))
		}
		bw.WriteByte('\n')
	}
	var body strings.Builder
	for _, e := range es {
		body.WriteString(textLine(e))
		body.WriteByte('\n')
	}
	fence := fenceFor(body.String())
	bw.WriteString("## Transcript\n\n")
	bw.WriteString(fence + "text\n")
	bw.WriteString(body.String())
	bw.WriteString(fence + "\n")
	return bw.Flush()
}

// mdEscape makes s safe inside a Markdown table cell.
func mdEscape(s string) string {
	s = PrintableString(s)
	r := strings.NewReplacer("|", `\|`, "`", "'", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

// fenceFor returns a backtick fence longer than any run of backticks in
// body, so that server text cannot close the code block early.
func fenceFor(body string) string {
	longest, run := 0, 0
	for i := 0; i < len(body); i++ {
		if body[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// JSONHeader is the first line of a JSON-lines export.
type JSONHeader struct {
	Type    string    `json:"type"` // "header"
	Version int       `json:"version"`
	Title   string    `json:"title,omitempty"`
	Target  string    `json:"target,omitempty"`
	Started time.Time `json:"started"`
}

// JSONEntry is one line of a JSON-lines export. The schema is documented
// in the README; Version in the header changes if it ever breaks.
type JSONEntry struct {
	Type       string    `json:"type"` // "entry"
	Seq        int       `json:"seq"`
	At         time.Time `json:"at"`
	ElapsedMS  float64   `json:"elapsed_ms"`
	Dir        Dir       `json:"dir"`
	Proto      string    `json:"proto,omitempty"`
	Step       string    `json:"step,omitempty"`
	Line       string    `json:"line"`
	RawBase64  string    `json:"raw_b64,omitempty"` // set when the line is not valid UTF-8
	TLS        bool      `json:"tls,omitempty"`
	Redacted   bool      `json:"redacted,omitempty"`
	Level      string    `json:"level,omitempty"`
	Annotation string    `json:"annotation,omitempty"`
	Reply      *Reply    `json:"reply,omitempty"`
	RTTMS      float64   `json:"rtt_ms,omitempty"`
	Partial    bool      `json:"partial,omitempty"`
}

// JSONSchemaVersion is the version written in the header line.
const JSONSchemaVersion = 1

func toJSON(e Entry) JSONEntry {
	j := JSONEntry{Type: "entry", Seq: e.Seq, At: e.At, ElapsedMS: ms(e.Elapsed), Dir: e.Dir, Proto: e.Proto, Step: e.Step,
		TLS: e.Secure, Redacted: e.Redacted, Annotation: e.Annotation, Reply: e.Reply, RTTMS: ms(e.RTT), Partial: e.Partial}
	if utf8.Valid(e.Raw) {
		j.Line = string(e.Raw) // JSON escapes control characters, so the file stays inert
	} else {
		j.Line = e.Text()
		j.RawBase64 = base64.StdEncoding.EncodeToString(e.Raw)
	}
	if e.Dir == Note {
		j.Level = e.Level.String()
	}
	return j
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// WriteJSONL writes a header line, then one JSON object per entry.
func WriteJSONL(w io.Writer, m Meta, es []Entry) error {
	bw := bufio.NewWriter(w)
	if err := writeJSONLine(bw, JSONHeader{Type: "header", Version: JSONSchemaVersion, Title: m.Title, Target: m.Target, Started: m.started(es)}); err != nil {
		return err
	}
	for _, e := range es {
		if err := writeJSONLine(bw, toJSON(e)); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeJSONLine writes v as one line of JSON with every character that
// could act on a terminal escaped (see marshalInert).
func writeJSONLine(w io.Writer, v any) error {
	b, err := marshalInert(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// marshalInert is json.Marshal, then C1 controls, DEL and bidirectional
// formatting characters are written as \u escapes too. encoding/json
// escapes C0 controls but leaves these as raw UTF-8, and a `cat` or `less`
// of the file would hand them to the terminal. The escapes decode to the
// same strings, so nothing is lost.
func marshalInert(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if isPlain(b) {
		return b, nil
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == 0x7f || (r >= 0x80 && r <= 0x9f) || isBidiControl(r) || r == 0xfeff {
			out = append(out, '\\', 'u', hexDigits[(r>>12)&0xF], hexDigits[(r>>8)&0xF], hexDigits[(r>>4)&0xF], hexDigits[r&0xF])
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out, nil
}

// jsonLine is either line of a JSON-lines export: an entry's fields plus
// the header's.
type jsonLine struct {
	JSONEntry
	Version int       `json:"version"`
	Title   string    `json:"title"`
	Target  string    `json:"target"`
	Started time.Time `json:"started"`
}

// ReadJSONL reads a JSON-lines export back (for replay). Lines it cannot
// parse are reported with their line number; nothing is silently dropped.
func ReadJSONL(r io.Reader) (Meta, []Entry, error) {
	d := NewJSONLReader(r)
	var es []Entry
	for {
		e, err := d.Next()
		if err == io.EOF {
			return d.Meta(), es, nil
		}
		if err != nil {
			return d.Meta(), es, err
		}
		es = append(es, e)
	}
}

// JSONLReader reads a JSON-lines export one entry at a time, so that a
// large file can fill a Store while it is shown instead of being held
// twice (once as a slice, once in the view).
type JSONLReader struct {
	sc   *bufio.Scanner
	line int
	meta Meta
}

// NewJSONLReader returns a reader of the JSON-lines export in r.
func NewJSONLReader(r io.Reader) *JSONLReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	return &JSONLReader{sc: sc}
}

// Meta returns the last header read so far.
func (d *JSONLReader) Meta() Meta { return d.meta }

// Line returns the number of the last line read.
func (d *JSONLReader) Line() int { return d.line }

// Next returns the next entry, reading any header lines before it into
// Meta. It returns io.EOF after the last entry; any other error names
// the line.
func (d *JSONLReader) Next() (Entry, error) {
	for d.sc.Scan() {
		d.line++
		n := d.line
		line := d.sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		// One decode per line: the header's own fields sit beside the
		// entry's (their names do not clash), so the type can be read
		// from the same pass. Decoding twice cost 40% of a large replay.
		var j jsonLine
		if err := json.Unmarshal(line, &j); err != nil {
			return Entry{}, fmt.Errorf("transcript: line %d: %w", n, err)
		}
		switch j.Type {
		case "header":
			if j.Version > JSONSchemaVersion {
				return Entry{}, fmt.Errorf("transcript: line %d: schema version %d is newer than this mailflow understands (%d)", n, j.Version, JSONSchemaVersion)
			}
			d.meta = Meta{Title: j.Title, Target: j.Target, Started: j.Started}
		case "entry":
			e := Entry{Seq: j.Seq, At: j.At, Elapsed: time.Duration(j.ElapsedMS * float64(time.Millisecond)), Dir: j.Dir,
				Proto: j.Proto, Step: j.Step, Raw: []byte(j.Line), Secure: j.TLS, Redacted: j.Redacted, Annotation: j.Annotation,
				Reply: j.Reply, RTT: time.Duration(j.RTTMS * float64(time.Millisecond)), Partial: j.Partial}
			if j.RawBase64 != "" {
				raw, err := base64.StdEncoding.DecodeString(j.RawBase64)
				if err != nil {
					return Entry{}, fmt.Errorf("transcript: line %d: raw_b64: %w", n, err)
				}
				e.Raw = raw
			}
			if j.Level != "" {
				if err := e.Level.UnmarshalText([]byte(j.Level)); err != nil {
					return Entry{}, fmt.Errorf("transcript: line %d: %w", n, err)
				}
			}
			if e.Dir < Client || e.Dir > Note {
				return Entry{}, fmt.Errorf("transcript: line %d: missing or bad dir", n)
			}
			return e, nil
		default:
			return Entry{}, fmt.Errorf("transcript: line %d: unknown type %q", n, j.Type)
		}
	}
	if err := d.sc.Err(); err != nil {
		return Entry{}, fmt.Errorf("transcript: line %d: %w", d.line+1, err)
	}
	return Entry{}, io.EOF
}

// ReadJSONLInto reads the rest of d into st with Restore, then closes
// st. It stops early when ctx ends; an error names the line.
func ReadJSONLInto(ctx context.Context, d *JSONLReader, st *Store) error {
	defer st.Close()
	for i := 0; ; i++ {
		if i%4096 == 0 && ctx.Err() != nil {
			return fmt.Errorf("transcript: line %d: %w", d.line, ctx.Err())
		}
		e, err := d.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		st.Restore(e)
	}
}

// ErrExists is returned by WriteFileAtomic when the file exists and
// overwrite was not allowed.
var ErrExists = errors.New("file exists")

// WriteFileAtomic writes entries to path in format f: into a temporary
// file in the same directory with permissions 0600, synced, then renamed
// over path. A full disk or a read-only directory leaves any previous
// file untouched and returns an error that says which.
func WriteFileAtomic(path string, f Format, m Meta, es []Entry, overwrite bool) error {
	if !overwrite {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("transcript: export %s: %w", path, ErrExists)
		}
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("transcript: export %s: cannot create a file in %s: %w", path, dir, err)
	}
	clean := func() { tmp.Close(); os.Remove(tmp.Name()) }
	if err := tmp.Chmod(0o600); err != nil {
		clean()
		return fmt.Errorf("transcript: export %s: %w", path, err)
	}
	if err := Write(tmp, f, m, es); err != nil {
		clean()
		return fmt.Errorf("transcript: export %s: write failed (disk full?): %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		clean()
		return fmt.Errorf("transcript: export %s: sync failed (disk full?): %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("transcript: export %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("transcript: export %s: %w", path, err)
	}
	return nil
}
