package imap

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/mailflow/mailflow/internal/peertest"
	"github.com/mailflow/mailflow/session/wire"
)

// BenchmarkFetchLiteral measures FETCH of a 1 MiB BODY[] literal (16,384
// lines of 62 bytes, every line recorded in the transcript) from a
// loopback peer.
func BenchmarkFetchLiteral(b *testing.B) {
	msg := strings.Repeat(strings.Repeat("x", 62)+"\r\n", 16384)
	addr := peertest.Respond(b, "* OK ready\r\n", func(l string) string {
		tag, _, _ := strings.Cut(l, " ")
		return "* 1 FETCH (BODY[] {" + strconv.Itoa(len(msg)) + "}\r\n" + msg + ")\r\n" + tag + " OK done\r\n"
	})
	ctx := context.Background()
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A fresh connection and transcript each time: one message,
		// as a user fetches it.
		c, err := Dial(ctx, addr, wire.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Fetch(ctx, "1", "BODY[]"); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
