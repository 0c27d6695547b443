package transcripttest

import (
	"strings"
	"testing"

	"github.com/mailflow/mailflow/session/transcript"
)

// Find returns the first entry whose raw text is exactly raw.
func Find(ts *transcript.Store, raw string) (transcript.Entry, bool) {
	for _, e := range ts.Entries() {
		if string(e.Raw) == raw {
			return e, true
		}
	}
	return transcript.Entry{}, false
}

// NoSecrets reports, as a test error per hit, every entry that holds one
// of secrets in its raw text, its annotation or the lines of its parsed
// reply. Pass each form a secret may travel in (as typed, base64, a SASL
// blob) as its own string.
func NoSecrets(tb testing.TB, ts *transcript.Store, secrets ...string) {
	tb.Helper()
	for _, e := range ts.Entries() {
		hay := entryText(e, "\x00")
		for _, s := range secrets {
			if s != "" && strings.Contains(hay, s) {
				tb.Errorf("transcript entry %d %q / %q holds the secret %q", e.Seq, e.Raw, e.Annotation, s)
			}
		}
	}
}

// entryText is every field of e a screen or export could show: its raw
// text, its annotation and the lines of its parsed reply, each followed
// by sep. NoSecrets separates them with NUL, which no line holds, so that
// a secret is not found across two fields.
func entryText(e transcript.Entry, sep string) string {
	t := string(e.Raw) + sep + e.Annotation + sep
	if e.Reply != nil {
		t += strings.Join(e.Reply.Lines, sep) + sep
	}
	return t
}

// Text returns all the recorded text, entry after entry: the fields
// NoSecrets searches, one a line, for a test that looks for a note or
// shows the whole record in its failure message.
func Text(ts *transcript.Store) string {
	var b strings.Builder
	for _, e := range ts.Entries() {
		b.WriteString(entryText(e, "\n"))
	}
	return b.String()
}

// ClientLines returns the raw text of every line the client sent, in
// order (secrets already replaced by the store).
func ClientLines(ts *transcript.Store) []string {
	var out []string
	for _, e := range ts.Entries() {
		if e.Dir == transcript.Client {
			out = append(out, string(e.Raw))
		}
	}
	return out
}
