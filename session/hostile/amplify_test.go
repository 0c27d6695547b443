package hostile

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailflow/mailflow/session/imap"
	"github.com/mailflow/mailflow/session/pop3"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// Buffers of many short lines: the worst case for clients that record
// every line as its own transcript entry.
var (
	xLines   = []byte(strings.Repeat("x\r\n", 16<<10))
	newlines = []byte(strings.Repeat("\n", 64<<10))
)

// BenchmarkHostileAmplification measures how many bytes a client
// allocates (alloc/limit) and keeps (inuse/limit) per byte of the limit
// that bounds a response, when a server fills that limit with the
// shortest possible lines. A ratio near 1-4 means the limit bounds
// memory; far above means every line costs a transcript entry. Run:
//
//	go test -run='^$' -bench=HostileAmplification -benchtime=1x ./session/hostile
func BenchmarkHostileAmplification(b *testing.B) {
	const limit = 256 << 10
	lim := fastLimits(20 * time.Second)
	lim.MaxReply, lim.MaxData = limit, limit
	cases := []struct {
		name    string
		handler func(net.Conn)
		run     func(ctx context.Context, addr string) error
	}{
		{"smtp-250-dash-lines", endlessCont(shortCont), func(ctx context.Context, addr string) error {
			return smtpEHLO(lim)(ctx, addr, transcript.NewStore())
		}},
		{"smtp-66-byte-lines", endlessCont(contLine), func(ctx context.Context, addr string) error {
			return smtpEHLO(lim)(ctx, addr, transcript.NewStore())
		}},
		{"pop3-retr-x-lines", func(c net.Conn) {
			p := newPeer(c)
			p.send("+OK hi\r\n")
			p.line()
			p.send("+OK\r\n")
			for {
				if _, err := c.Write(xLines); err != nil {
					return
				}
			}
		}, func(ctx context.Context, addr string) error {
			c, err := pop3.Dial(ctx, addr, wire.Options{Transcript: transcript.NewStore(), Limits: lim})
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.Retr(ctx, 1)
			return err
		}},
		{"imap-literal-of-newlines", func(c net.Conn) {
			p := newPeer(c)
			p.send("* OK hi\r\n")
			p.line()
			p.send("* CAPABILITY {262144}\r\n")
			for {
				if _, err := c.Write(newlines); err != nil {
					return
				}
			}
		}, func(ctx context.Context, addr string) error {
			c, err := imap.Dial(ctx, addr, wire.Options{Transcript: transcript.NewStore(), Limits: lim})
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.Capability(ctx)
			return err
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			srv := startServer(b, tc.handler)
			var total, inuse int64
			for i := 0; i < b.N; i++ {
				t, u := memDelta(func() { _ = tc.run(context.Background(), srv.addr()) })
				total += t
				inuse += u
			}
			b.ReportMetric(float64(total)/float64(b.N)/limit, "alloc/limit")
			b.ReportMetric(float64(inuse)/float64(b.N)/limit, "inuse/limit")
		})
	}
}
