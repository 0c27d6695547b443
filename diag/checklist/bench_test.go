package checklist

import "testing"

// BenchmarkEvaluate measures one evaluation of the largest step with a
// reply to score, the work the TUI does per reply.
func BenchmarkEvaluate(b *testing.B) {
	ev := Evidence{Reply: Reply{Code: 550, Enhanced: "5.7.1", Text: "Relay access denied", Category: "relay-denied"}}
	Default()
	b.ReportAllocs()
	for b.Loop() {
		if len(Evaluate(StepRcpt, ev)) == 0 {
			b.Fatal("no items")
		}
	}
}
