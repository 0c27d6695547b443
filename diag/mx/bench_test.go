package mx_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailflow/mailflow/diag/mx"
	"github.com/mailflow/mailflow/diag/mx/mxtest"
)

// benchZone generates n domains, each with two MX hosts (one IPv4 and one
// dual-stack), PTRs that confirm, SPF with one include, and DMARC.
func benchZone(n int) string {
	var b strings.Builder
	for i := range n {
		d := fmt.Sprintf("d%d.bench.test.", i)
		a, c := i/250, i%250
		fmt.Fprintf(&b, "%s 300 IN MX 10 mx1.%s\n%s 300 IN MX 20 mx2.%s\n", d, d, d, d)
		fmt.Fprintf(&b, "mx1.%s 300 IN A 10.1.%d.%d\nmx2.%s 300 IN A 10.2.%d.%d\nmx2.%s 300 IN AAAA fd00::%x\n", d, a, c, d, a, c, d, i+1)
		fmt.Fprintf(&b, "%d.%d.1.10.in-addr.arpa. 300 IN PTR mx1.%s\n%d.%d.2.10.in-addr.arpa. 300 IN PTR mx2.%s\n", c, a, d, c, a, d)
		fmt.Fprintf(&b, "%s 300 IN TXT \"v=spf1 mx include:_spf.bench.test -all\"\n_dmarc.%s 300 IN TXT \"v=DMARC1; p=reject\"\n", d, d)
	}
	b.WriteString("_spf.bench.test. 300 IN TXT \"v=spf1 ip4:10.0.0.0/8 -all\"\n")
	return b.String()
}

// BenchmarkLookupDomains draws the full picture of 1,000 generated domains
// against a local server, 32 domains at a time, and reports domains per
// second.
func BenchmarkLookupDomains(b *testing.B) {
	const n, workers = 1000, 32
	s := mxtest.Start(b, benchZone(n))
	c := mx.NewClient(s.Addr)
	c.Timeout = 5 * time.Second
	b.ResetTimer()
	start := time.Now()
	var failed atomic.Int64
	for range b.N {
		next := atomic.Int64{}
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for {
					i := next.Add(1) - 1
					if i >= n {
						return
					}
					p, err := mx.Lookup(context.Background(), fmt.Sprintf("d%d.bench.test", i), mx.Options{Resolver: c, Concurrency: 8})
					if err != nil || !p.CanReceive || len(p.MX) != 2 || !p.MX[0].FCrDNS[p.MX[0].Addresses[0].String()] {
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
	}
	el := time.Since(start)
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d lookups gave a wrong picture", f)
	}
	b.ReportMetric(float64(n*b.N)/el.Seconds(), "domains/s")
}

// BenchmarkSlowHosts looks up one domain with five MX hosts whose answers
// (A, AAAA, and the forward confirmation of their PTRs) each take 200 ms,
// and reports the total time as a multiple of one delay. Looked up one by
// one it would be 5x or more; the goal is under 1.5x.
func BenchmarkSlowHosts(b *testing.B) {
	const delay = 200 * time.Millisecond
	var zone strings.Builder
	for i := range 5 {
		h := fmt.Sprintf("mx%d.slow.test.", i)
		fmt.Fprintf(&zone, "slow.test. 300 IN MX %d %s\n%s 300 IN A 10.9.0.%d\n%d.0.9.10.in-addr.arpa. 300 IN PTR %s\n", 10*i, h, h, i+1, i+1, h)
	}
	s := mxtest.Start(b, zone.String())
	for i := range 5 {
		s.Delay(fmt.Sprintf("mx%d.slow.test", i), 0, delay)
	}
	c := mx.NewClient(s.Addr)
	b.ResetTimer()
	var total time.Duration
	for range b.N {
		start := time.Now()
		p, err := mx.Lookup(context.Background(), "slow.test", mx.Options{Resolver: c})
		total += time.Since(start)
		if err != nil || !p.CanReceive || len(p.MX) != 5 {
			b.Fatalf("Lookup() = %+v, %v", p, err)
		}
	}
	b.ReportMetric(float64(total)/float64(b.N)/float64(delay), "x_delay")
}
