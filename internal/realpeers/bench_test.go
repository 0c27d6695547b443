package realpeers

import (
	"testing"
	"time"
)

// BenchmarkStartMail measures starting a private Postfix and Dovecot (the
// once-per-test-binary cost of Postfix) and reports the stop time apart.
func BenchmarkStartMail(b *testing.B) {
	Require(b)
	var stopping time.Duration
	for i := 0; i < b.N; i++ {
		if _, err := startMail(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		t0 := time.Now()
		Shutdown()
		stopping += time.Since(t0)
		b.StartTimer()
	}
	b.ReportMetric(float64(stopping.Milliseconds())/float64(b.N), "stop-ms/op")
}

// BenchmarkStartNSD measures starting and stopping an NSD with one zone.
func BenchmarkStartNSD(b *testing.B) {
	Require(b)
	for i := 0; i < b.N; i++ {
		d, err := startNSD(map[string]string{"example.test": testZone})
		if err != nil {
			b.Fatal(err)
		}
		d.Stop()
	}
}
