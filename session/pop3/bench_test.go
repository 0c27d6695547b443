package pop3

import (
	"context"
	"strings"
	"testing"

	"github.com/mailflow/mailflow/internal/peertest"
	"github.com/mailflow/mailflow/session/wire"
)

// BenchmarkRetr measures RETR of a 1 MiB message (16,384 lines of 62
// bytes, every line recorded in the transcript) from a loopback peer.
func BenchmarkRetr(b *testing.B) {
	line := strings.Repeat("x", 62) + "\r\n"
	body := "+OK\r\n" + strings.Repeat(line, 16384) + ".\r\n"
	addr := peertest.Respond(b, "+OK ready\r\n", func(string) string { return body })
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A fresh connection and transcript each time: one message,
		// as a user fetches it.
		c, err := Dial(ctx, addr, wire.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Retr(ctx, 1); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
