package realpeers

import (
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestNSDNoRateLimit sends 2,000 queries as fast as a few workers can
// (the DNS benchmarks do this) and checks that every one gets a full
// answer: NSD's response-rate limiting (on by default at 200 qps per
// source) would drop some and truncate others, and log "ratelimit
// block".
func TestNSDNoRateLimit(t *testing.T) {
	t.Parallel()
	d := NSD(t, map[string]string{"example.test": testZone})
	const total, workers = 2000, 8
	var next, answered, truncated, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
			conn, err := c.Dial(d.Addr)
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				failed.Add(1)
				return
			}
			defer conn.Close()
			for next.Add(1) <= total {
				q := new(dns.Msg)
				q.SetQuestion("example.test.", dns.TypeMX)
				r, _, err := c.ExchangeWithConn(q, conn)
				switch {
				case err != nil:
					firstErr.CompareAndSwap(nil, err)
					failed.Add(1)
				case r.Truncated:
					truncated.Add(1)
				case r.Rcode == dns.RcodeSuccess && len(r.Answer) == 2:
					answered.Add(1)
				default:
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if answered.Load() != total {
		t.Errorf("%d of %d queries answered, %d truncated (RRL slip), %d failed (first error: %v)",
			answered.Load(), total, truncated.Load(), failed.Load(), firstErr.Load())
	}
	if log, err := os.ReadFile(d.Log); err == nil && strings.Contains(string(log), "ratelimit block") {
		t.Errorf("NSD's log shows response-rate limiting:\n%s", tail(d.Log, 2000))
	}
}
