package smtp

import (
	"strings"
	"testing"

	"github.com/mailflow/mailflow/internal/peertest"
	"github.com/mailflow/mailflow/internal/transcripttest"
)

// TestDropAfterData checks what goes on the wire for Tx.DropAfterData:
// DATA is sent, and after 354 the client closes the connection without a
// single message line, RSET or QUIT (all of which would be message
// content), with and without PIPELINING.
func TestDropAfterData(t *testing.T) {
	for _, pipelining := range []bool{true, false} {
		name := map[bool]string{true: "pipelining", false: "sequential"}[pipelining]
		t.Run(name, func(t *testing.T) {
			after := make(chan string, 1)
			addr, _ := peertest.Start(t, func(p *peertest.Peer) {
				p.Send("220 x ESMTP")
				p.Expect("EHLO *")
				if pipelining {
					p.Send(ehloLines("PIPELINING", "SIZE 100000")...)
				} else {
					p.Send(ehloLines("SIZE 100000")...)
				}
				p.Expect("MAIL FROM:<a@b.test>")
				if !pipelining {
					p.Send("250 ok")
				}
				p.Expect("RCPT TO:<r@b.test>")
				if !pipelining {
					p.Send("250 ok")
				}
				p.Expect("DATA")
				if pipelining {
					p.Send("250 ok", "250 ok")
				}
				p.Send("354 go ahead")
				after <- p.Rest()
			})
			c, ts := dial(t, addr, Options{})
			if _, err := c.Hello(ctx, "client.test"); err != nil {
				t.Fatal(err)
			}
			res, err := c.Transaction(ctx, Tx{From: "a@b.test", To: []string{"r@b.test"}, DropAfterData: true})
			if err != nil || res.Data.Code != 354 || res.Accepted != 1 {
				t.Fatalf("Transaction() = %+v, %v", res, err)
			}
			if got := <-after; got != "" {
				t.Fatalf("client sent %q after 354, want nothing (connection closed)", got)
			}
			if !strings.Contains(transcripttest.Text(ts), "without sending the message") {
				t.Fatalf("transcript does not say why the connection was closed:\n%s", transcripttest.Text(ts))
			}
		})
	}
	t.Run("with data refused", func(t *testing.T) {
		addr, _ := peertest.Start(t, func(p *peertest.Peer) { p.Send("220 x ESMTP"); p.Rest() })
		c, _ := dial(t, addr, Options{})
		defer c.Close()
		if _, err := c.Transaction(ctx, Tx{From: "a@b.test", To: []string{"r@b.test"}, Data: []byte("x"), DropAfterData: true}); err == nil {
			t.Fatal("Data with DropAfterData accepted")
		}
	})
}
