package replycode

import (
	"strings"
	"testing"
)

// TestRealReplies checks the explainer against real replies from many
// vendors. Each line is split on newlines the way a client would receive
// it; replies quoted from logs stay on one line.
func TestRealReplies(t *testing.T) {
	if len(realLines) < 150 {
		t.Fatalf("only %d real lines; the corpus must keep at least 150", len(realLines))
	}
	for _, tc := range realLines {
		name := tc.reply
		if len(name) > 50 {
			name = name[:50]
		}
		t.Run(name, func(t *testing.T) {
			ex := Explain(Input{Command: tc.command, Lines: strings.Split(tc.reply, "\n")})
			if ex.Category != tc.category || ex.Class != tc.class {
				t.Errorf("%s\nreply %q (command %q)\ngot %s/%s via %s, want %s/%s",
					tc.src, tc.reply, tc.command, ex.Class, ex.Category, ex.Matched, tc.class, tc.category)
			}
		})
	}
}
