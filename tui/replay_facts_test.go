package tui

import (
	"math/rand"
	"reflect"
	"testing"

	"github.com/mailflow/mailflow/session/transcript"
)

// TestReplayFactsCheckpoints checks that the checkpointed facts equal a
// walk from the start, for entries on and around checkpoint boundaries and
// in any order of asking.
func TestReplayFactsCheckpoints(t *testing.T) {
	rnd := rand.New(rand.NewSource(7))
	n := 3*replayFactsEvery + 17
	es := make([]transcript.Entry, n)
	for i := range es {
		switch rnd.Intn(400) {
		case 0:
			es[i] = transcript.Entry{Dir: transcript.Server, Step: "ehlo", Reply: &transcript.Reply{Code: "250", OK: true,
				Lines: []string{"250-mx", []string{"250 STARTTLS", "250 AUTH PLAIN", "250 SIZE 10"}[rnd.Intn(3)]}}}
		case 1:
			es[i] = transcript.Entry{Dir: transcript.Server, Step: "auth", Reply: &transcript.Reply{Code: "235", OK: true}}
		case 2:
			es[i] = transcript.Entry{Dir: transcript.Note, Level: transcript.Error, Proto: "tls", Raw: []byte("certificate verification failed (expired)")}
		case 3:
			es[i] = transcript.Entry{Dir: transcript.Note, Level: transcript.Error, Proto: "tcp", Step: "connect", Raw: []byte("connect failed (refused)")}
		case 4:
			es[i] = transcript.Entry{Dir: transcript.Note, Level: transcript.Error, Proto: "smtp", Step: "data", Raw: []byte("the server closed the connection")}
		default:
			es[i] = transcript.Entry{Dir: transcript.Server, Step: "rcpt", Raw: []byte("250 ok")}
		}
	}
	asks := []int{n - 1, 0, replayFactsEvery - 1, replayFactsEvery, replayFactsEvery + 1, 2*replayFactsEvery - 1, 5}
	for k := 0; k < 200; k++ {
		asks = append(asks, rnd.Intn(n))
	}
	cache := &replayFacts{}
	for _, i := range asks {
		got, want := cache.upTo("smtp", es, i), (*replayFacts)(nil).upTo("smtp", es, i)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("entry %d: checkpointed %+v, walked %+v", i, got, want)
		}
	}
	if len(cache.marks) != n/replayFactsEvery+1 {
		t.Fatalf("%d checkpoints for %d entries", len(cache.marks), n)
	}
	// The facts must actually change along the way, or the comparison
	// above proves nothing.
	if reflect.DeepEqual(cache.upTo("smtp", es, 10), cache.upTo("smtp", es, n-1)) {
		t.Fatal("the generated conversation establishes nothing")
	}
}
