package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/mailflow/mailflow/session/check"
	"github.com/mailflow/mailflow/session/wire"
)

// runStall runs the STARTTLS check directly against the server (no
// proxy, no added latency) -n times and reports how often the EHLO after
// the TLS handshake took -stall or longer: the delayed-ACK stall that
// TCP_QUICKACK in session/wire removes.
func runStall(args []string) error {
	fs := flag.NewFlagSet("stall", flag.ContinueOnError)
	server := fs.String("server", "", "SMTP server HOST:PORT (STARTTLS offered)")
	caFile := fs.String("ca-file", "", "CA of the server's certificate")
	from := fs.String("from", "bench@example.test", "MAIL FROM")
	to := fs.String("to", "", "RCPT TO")
	n := fs.Int("n", 20, "runs")
	stall := fs.Duration("stall", 30*time.Millisecond, "an EHLO after TLS this slow counts as a stall")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *server == "" || *to == "" {
		return fmt.Errorf("-server and -to are required")
	}
	var ehlo, total []time.Duration
	stalls := 0
	for range *n {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		start := time.Now()
		r := check.Run(ctx, check.Options{
			Server: *server, TLS: wire.TLSStartTLS, TLSOptions: wire.TLSOptions{CAFile: *caFile},
			From: *from, To: []string{*to}, Send: true, Helo: "bench.example.test",
		})
		total = append(total, time.Since(start))
		cancel()
		if !r.OK() {
			return fmt.Errorf("check failed: %s", r.Error)
		}
		seen := 0
		for _, s := range r.Steps {
			if s.Name == "ehlo" {
				if seen++; seen == 2 {
					ehlo = append(ehlo, s.RTT)
					if s.RTT >= *stall {
						stalls++
					}
				}
			}
		}
	}
	fmt.Printf("RUNS=%d STALLS=%d EHLO_AFTER_TLS_MEDIAN_MS=%s TOTAL_MEDIAN_MS=%s\n", *n, stalls, ms(median(ehlo)), ms(median(total)))
	return nil
}
