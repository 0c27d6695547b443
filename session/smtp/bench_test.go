package smtp

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// statelessServer answers any number of transactions on one connection:
// EHLO with the given extensions, 354 to DATA, 250 to everything else.
// delay is added before each batch of replies, to imitate a network
// round trip.
func statelessServer(b *testing.B, exts []string, delay time.Duration) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		w := bufio.NewWriter(c)
		w.WriteString("220 bench ESMTP\r\n")
		w.Flush()
		data := false
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			l = strings.TrimRight(l, "\r\n")
			switch {
			case data && l == ".":
				data = false
				w.WriteString("250 2.0.0 queued\r\n")
			case data:
				continue
			case strings.HasPrefix(l, "EHLO"):
				for _, line := range ehloLines(exts...) {
					w.WriteString(line + "\r\n")
				}
			case l == "DATA":
				data = true
				w.WriteString("354 go\r\n")
			default:
				w.WriteString("250 ok\r\n")
			}
			// Reply when the client has nothing more buffered: a batch
			// of pipelined commands gets one batch of replies.
			if r.Buffered() == 0 {
				time.Sleep(delay)
				w.Flush()
			}
		}
	}()
	return ln.Addr().String()
}

// BenchmarkTransaction measures a delivery to three recipients with and
// without PIPELINING over a link with 1 ms of added latency per round
// trip. It reports round trips per transaction: 2 pipelined, 6 without.
func BenchmarkTransaction(b *testing.B) {
	for _, tc := range []struct {
		name string
		exts []string
	}{{"pipelining", []string{"PIPELINING", "SIZE 100000"}}, {"sequential", []string{"SIZE 100000"}}} {
		b.Run(tc.name, func(b *testing.B) {
			addr := statelessServer(b, tc.exts, time.Millisecond)
			c, err := Dial(ctx, addr, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Hello(ctx, "bench.test"); err != nil {
				b.Fatal(err)
			}
			tx := Tx{From: "a@b.test", To: []string{"r1@b.test", "r2@b.test", "r3@b.test"}, Data: []byte("Subject: bench\n\nhello\n")}
			start := c.RoundTrips()
			n := 0
			for b.Loop() {
				if _, err := c.Transaction(ctx, tx); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(c.RoundTrips()-start)/float64(n), "roundtrips/op")
		})
	}
}
