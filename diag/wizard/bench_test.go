package wizard

import "testing"

// BenchmarkGuidedRun measures a whole SMTP run through the Machine (New,
// Next and Observe for every step), without any I/O.
func BenchmarkGuidedRun(b *testing.B) {
	p := exchangeParams()
	p.Host = "mail1.fabrikam.com"
	replies := map[string]Reply{
		"connect": lines("220 ready"), "ehlo": ehloExchange, "mail": lines("250 2.1.0 ok"),
		"rcpt": lines("250 2.1.5 ok"), "data": lines("354 go"), "dot": lines("250 2.6.0 queued"), "quit": lines("221 bye"),
	}
	b.ReportAllocs()
	for b.Loop() {
		m, err := New(SMTP, p)
		if err != nil {
			b.Fatal(err)
		}
		for !m.Done() {
			a := m.Next()
			if a.ExpectReply {
				m.Observe(replies[a.StepID])
			} else {
				m.Sent()
			}
		}
	}
}
