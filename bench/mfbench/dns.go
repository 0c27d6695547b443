package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/mailflow/mailflow/bench"
	"github.com/mailflow/mailflow/diag/mx"
)

// recorder is a Resolver that writes down every question it forwards.
type recorder struct {
	inner mx.Resolver
	mu    sync.Mutex
	qs    [][2]string // name, type
}

func (r *recorder) Query(ctx context.Context, name string, t mx.Type) (*mx.Answer, error) {
	typ := dns.TypeToString[uint16(t)]
	if typ == "" {
		typ = fmt.Sprintf("TYPE%d", t)
	}
	r.mu.Lock()
	r.qs = append(r.qs, [2]string{name, typ})
	r.mu.Unlock()
	return r.inner.Query(ctx, name, t)
}

// pictures draws the MX picture of domains 0..n-1 with workers at a time
// and returns how many came out wrong.
func pictures(res mx.Resolver, n, workers int) int64 {
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				p, err := mx.Lookup(ctx, bench.ManyDomain(i), mx.Options{Resolver: res, Concurrency: 8})
				cancel()
				if err != nil || !p.CanReceive || len(p.MX) != 2 || len(p.MX[0].Addresses) == 0 || !p.MX[0].FCrDNS[p.MX[0].Addresses[0].String()] {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return failed.Load()
}

// runDNS records the questions of one pass (written to -questions in
// "dig -f" form), then times -runs passes and prints the median rate.
func runDNS(args []string) error {
	fs := flag.NewFlagSet("dns", flag.ContinueOnError)
	server := fs.String("server", "", "DNS server HOST:PORT serving the bench zones")
	n := fs.Int("domains", 1000, "number of generated domains")
	workers := fs.Int("workers", 32, "domains looked up at once")
	runs := fs.Int("runs", 3, "timed passes")
	out := fs.String("questions", "", "write the questions of one pass here, one \"NAME TYPE\" per line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *server == "" {
		return fmt.Errorf("-server is required")
	}
	c := mx.NewClient(*server)
	c.Timeout = 5 * time.Second
	rec := &recorder{inner: c}
	if f := pictures(rec, *n, *workers); f > 0 {
		return fmt.Errorf("%d of %d pictures were wrong (is the bench zone loaded?)", f, *n)
	}
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		for _, q := range rec.qs {
			fmt.Fprintf(w, "%s %s\n", q[0], q[1])
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	var times []time.Duration
	for range *runs {
		start := time.Now()
		if f := pictures(c, *n, *workers); f > 0 {
			return fmt.Errorf("%d of %d pictures were wrong", f, *n)
		}
		times = append(times, time.Since(start))
	}
	m := median(times)
	fmt.Printf("DOMAINS=%d QUESTIONS=%d MEDIAN_MS=%s RATE=%.0f\n", *n, len(rec.qs), ms(m), float64(*n)/m.Seconds())
	return nil
}
