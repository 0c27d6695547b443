package wire

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/mailflow/mailflow/session/transcript"
)

// TestReadLineMemoryBound checks that reading a line longer than MaxLine
// allocates about twice MaxLine, not the line and not append's 1.25x
// growth steps (about five times MaxLine), and that lines just under the
// limit still come back whole.
func TestReadLineMemoryBound(t *testing.T) {
	const max = 64 << 10
	chunk := []byte(strings.Repeat("A", 32<<10))
	for _, tc := range []struct {
		name    string
		size    int // bytes before CRLF
		wantErr bool
	}{
		{"short", 10, false},
		{"at-limit", max - 2, false},
		{"10MB", 10 << 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := serve(t, func(c net.Conn) {
				for n := 0; n < tc.size; n += len(chunk) {
					if _, err := c.Write(chunk[:min(len(chunk), tc.size-n)]); err != nil {
						return
					}
				}
				c.Write([]byte("\r\n"))
			})
			c, err := Dial(context.Background(), addr, Options{Proto: "imap", Transcript: transcript.NewStore(), Limits: Limits{MaxLine: max}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var a, b runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&a)
			line, err := c.ReadLine(context.Background(), "greeting")
			runtime.ReadMemStats(&b)
			if tc.wantErr {
				var le *LimitError
				if !errors.As(err, &le) || le.Limit != "line length" {
					t.Fatalf("ReadLine error %v, want a line length LimitError", err)
				}
			} else if err != nil || len(line) != tc.size {
				t.Fatalf("ReadLine = %d bytes, %v; want %d bytes", len(line), err, tc.size)
			}
			if got := b.TotalAlloc - a.TotalAlloc; got > 3*max {
				t.Errorf("ReadLine allocated %d bytes for a %d-byte line limit; want at most %d", got, max, 3*max)
			}
		})
	}
}
