package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mailflow/mailflow/session/check"
	"github.com/mailflow/mailflow/session/wire"
)

// rttVerbose prints the steps of every run.
var rttVerbose bool

// rttVariant is one way of reaching the server: from a source address
// that is offered PIPELINING, or from one that is not.
type rttVariant struct {
	name       string
	source     string
	pipelining bool
	times      []time.Duration
	trips      []int
}

// runRTT times check.Run (the programmatic form of "mailflow check
// --tls starttls --send") through a Proxy adding rtt per round trip, the
// two variants alternately, and compares the median with round trips ×
// rtt.
func runRTT(args []string) error {
	fs := flag.NewFlagSet("rtt", flag.ContinueOnError)
	server := fs.String("server", "", "SMTP server HOST:PORT (STARTTLS offered)")
	caFile := fs.String("ca-file", "", "CA of the server's certificate")
	from := fs.String("from", "bench@example.test", "MAIL FROM")
	to := fs.String("to", "", "RCPT TO")
	rtt := fs.Duration("rtt", 20*time.Millisecond, "added round-trip time (half each way)")
	runs := fs.Int("runs", 7, "runs of each variant")
	pipeSource := fs.String("source", "127.0.0.1", "source address offered PIPELINING")
	noPipeSource := fs.String("nopipe-source", "127.0.0.2", "source address the server hides PIPELINING from")
	fs.BoolVar(&rttVerbose, "v", false, "print each run's steps and their round-trip times")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *server == "" || *to == "" {
		return fmt.Errorf("-server and -to are required")
	}
	variants := []*rttVariant{
		{name: "PIPELINING offered", source: *pipeSource, pipelining: true},
		{name: "PIPELINING not offered", source: *noPipeSource},
	}
	// One untimed run each wakes up Postfix's processes (smtpd, cleanup,
	// trivial-rewrite) so that the first timed run does not pay for it.
	for i := -1; i < *runs; i++ {
		for _, v := range variants {
			d, trips, err := rttOnce(*server, *caFile, *from, *to, v, *rtt)
			if err != nil {
				return fmt.Errorf("%s: %w", v.name, err)
			}
			if i >= 0 {
				v.times = append(v.times, d)
				v.trips = append(v.trips, trips)
			}
		}
	}
	fmt.Printf("| mailflow check (STARTTLS, MAIL, RCPT, DATA, QUIT), %v RTT added | round trips on the wire | limit (round trips × RTT) | median (of %d) | median / limit |\n", *rtt, *runs)
	fmt.Println("|---|---|---|---|---|")
	for _, v := range variants {
		slices.Sort(v.trips)
		trips := v.trips[len(v.trips)/2]
		if v.trips[0] != v.trips[len(v.trips)-1] {
			fmt.Fprintf(os.Stderr, "mfbench rtt: %s: round trips varied between runs: %v (median used)\n", v.name, v.trips)
		}
		limit := time.Duration(trips) * *rtt
		m := median(v.times)
		fmt.Printf("| %s | %d | %s ms | %s ms | %.3f |\n", v.name, trips, ms(limit), ms(m), float64(m)/float64(limit))
	}
	return nil
}

// rttOnce runs one check through a fresh proxy and returns its wall time
// and the round trips the proxy saw.
func rttOnce(server, caFile, from, to string, v *rttVariant, rtt time.Duration) (time.Duration, int, error) {
	p := &Proxy{OneWay: rtt / 2, Upstream: server, Source: v.source}
	addr, err := p.Start()
	if err != nil {
		return 0, 0, err
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	r := check.Run(ctx, check.Options{
		Server: addr, TLS: wire.TLSStartTLS, TLSOptions: wire.TLSOptions{CAFile: caFile},
		From: from, To: []string{to}, Send: true, Helo: "bench.example.test",
	})
	el := time.Since(start)
	if rttVerbose {
		fmt.Printf("%s: %s, %d round trips\n", v.name, ms(el), p.RoundTrips())
		for _, s := range r.Steps {
			fmt.Printf("  %-9s %-8s %s ms\n", s.Name, s.ReplyCode, ms(s.RTT))
		}
	}
	if !r.OK() {
		return 0, 0, fmt.Errorf("check failed: %s", r.Error)
	}
	offered := slices.ContainsFunc(r.CapsAfter, func(c string) bool { return strings.EqualFold(c, "PIPELINING") })
	if offered != v.pipelining {
		return 0, 0, fmt.Errorf("PIPELINING offered after STARTTLS = %v, want %v (caps %v)", offered, v.pipelining, r.CapsAfter)
	}
	return el, p.RoundTrips(), nil
}
