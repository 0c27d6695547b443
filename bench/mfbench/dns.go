package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/mailflow/mailflow/bench"
	"github.com/mailflow/mailflow/diag/mx"
	"github.com/mailflow/mailflow/diag/mx/mxtest"
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
	server := fs.String("server", "", "DNS server HOST:PORT serving the bench zones; empty: an in-process server (diag/mx/mxtest) with them")
	dig := fs.Bool("dig", true, "also time \"dig -f\" asking the same questions, alternating with mailflow's passes")
	n := fs.Int("domains", 1000, "number of generated domains")
	workers := fs.Int("workers", 32, "domains looked up at once")
	runs := fs.Int("runs", 3, "timed passes")
	out := fs.String("questions", "", "write the questions of one pass here, one \"NAME TYPE\" per line")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the timed mailflow passes here")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *server == "" {
		var zone strings.Builder
		for origin, text := range bench.Zones(*n, 5) {
			zp := dns.NewZoneParser(strings.NewReader(text), origin+".", "")
			for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
				zone.WriteString(rr.String() + "\n")
			}
			if err := zp.Err(); err != nil {
				return err
			}
		}
		s, err := mxtest.New(zone.String())
		if err != nil {
			return err
		}
		defer s.Close()
		*server = s.Addr
	}
	if *dig && *out == "" {
		*out = filepath.Join(os.TempDir(), fmt.Sprintf("mfbench-questions-%d.txt", os.Getpid()))
		defer os.Remove(*out)
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
	host, port, _ := net.SplitHostPort(*server)
	var times, digTimes []time.Duration
	for range *runs {
		start := time.Now()
		if f := pictures(c, *n, *workers); f > 0 {
			return fmt.Errorf("%d of %d pictures were wrong", f, *n)
		}
		times = append(times, time.Since(start))
		if *dig {
			// One dig process asking every question in turn: what a
			// script around dig does at best (no process per question).
			start := time.Now()
			cmd := exec.Command("dig", "@"+host, "-p", port, "+tries=1", "+time=5", "-f", *out)
			if outb, err := cmd.Output(); err != nil {
				return fmt.Errorf("dig -f: %v", err)
			} else if got := strings.Count(string(outb), "->>HEADER<<-"); got != len(rec.qs) {
				return fmt.Errorf("dig -f answered %d of %d questions", got, len(rec.qs))
			}
			digTimes = append(digTimes, time.Since(start))
		}
	}
	m := median(times)
	fmt.Printf("DOMAINS=%d QUESTIONS=%d SERVER=%s MEDIAN_MS=%s RATE=%.0f", *n, len(rec.qs), *server, ms(m), float64(*n)/m.Seconds())
	if *dig {
		dm := median(digTimes)
		fmt.Printf(" DIG_MEDIAN_MS=%s DIG_RATE=%.1f", ms(dm), float64(*n)/dm.Seconds())
	}
	fmt.Println()
	return nil
}
