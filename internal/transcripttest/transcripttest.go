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
		hay := string(e.Raw) + "\x00" + e.Annotation
		if e.Reply != nil {
			hay += "\x00" + strings.Join(e.Reply.Lines, "\x00")
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(hay, s) {
				tb.Errorf("transcript entry %d %q / %q holds the secret %q", e.Seq, e.Raw, e.Annotation, s)
			}
		}
	}
}
