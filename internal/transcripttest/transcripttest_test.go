package transcripttest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mailflow/mailflow/session/transcript"
)

// recorder keeps reported errors instead of failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func store() *transcript.Store {
	ts := transcript.NewStore()
	ts.Append(transcript.Entry{Dir: transcript.Server, Raw: []byte("+OK ready")})
	ts.Append(transcript.Entry{Dir: transcript.Client, Raw: []byte("PASS hunter2"), Step: "pass"})
	ts.Append(transcript.Entry{Dir: transcript.Server, Raw: []byte("+ VXNlcm5hbWU6"), Annotation: `base64 for "opensesame"`})
	ts.Append(transcript.Entry{Dir: transcript.Server, Raw: []byte("-ERR no"), Reply: &transcript.Reply{Code: "-ERR", Lines: []string{"-ERR no", "echo s3cr3t"}}})
	return ts
}

func TestNoSecrets(t *testing.T) {
	tests := []struct {
		secrets []string
		hits    []string // a part of each report, in order
	}{
		{[]string{"not-there"}, nil},
		{[]string{""}, nil}, // an empty secret is in every string: ignored
		{[]string{"hunter2"}, []string{`"PASS hunter2"`}},
		{[]string{"opensesame"}, []string{"opensesame"}},
		{[]string{"s3cr3t"}, []string{`"-ERR no"`}},
		{[]string{"hunter2", "s3cr3t"}, []string{"hunter2", "s3cr3t"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.secrets, ","), func(t *testing.T) {
			rec := &recorder{TB: t}
			NoSecrets(rec, store(), tt.secrets...)
			if len(rec.errs) != len(tt.hits) {
				t.Fatalf("reports %q, want %d", rec.errs, len(tt.hits))
			}
			for i, h := range tt.hits {
				if !strings.Contains(rec.errs[i], h) {
					t.Errorf("report %q does not name %q", rec.errs[i], h)
				}
			}
		})
	}
}

func TestFind(t *testing.T) {
	ts := store()
	tests := []struct {
		raw     string
		ok      bool
		wantSeq int
	}{
		{"+OK ready", true, 1},
		{"PASS hunter2", true, 2},
		{"PASS", false, 0}, // whole lines only
		{"", false, 0},
	}
	for _, tt := range tests {
		e, ok := Find(ts, tt.raw)
		if ok != tt.ok || e.Seq != tt.wantSeq {
			t.Errorf("Find(%q) = seq %d, %v; want seq %d, %v", tt.raw, e.Seq, ok, tt.wantSeq, tt.ok)
		}
	}
}

func TestText(t *testing.T) {
	got := Text(store())
	want := "+OK ready\n\nPASS hunter2\n\n+ VXNlcm5hbWU6\nbase64 for \"opensesame\"\n-ERR no\n\n-ERR no\necho s3cr3t\n"
	if got != want {
		t.Errorf("Text() = %q, want %q", got, want)
	}
}

func TestClientLines(t *testing.T) {
	if got := ClientLines(store()); len(got) != 1 || got[0] != "PASS hunter2" {
		t.Errorf("ClientLines() = %q, want [\"PASS hunter2\"]", got)
	}
	if got := ClientLines(transcript.NewStore()); got != nil {
		t.Errorf("ClientLines(empty) = %q, want nil", got)
	}
}
