package pop3

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"

	"github.com/mailflow/mailflow/session/wire"
)

// BenchmarkRetr measures RETR of a 1 MiB message (16,384 lines of 62
// bytes, every line recorded in the transcript) from a loopback peer.
func BenchmarkRetr(b *testing.B) {
	line := strings.Repeat("x", 62) + "\r\n"
	body := "+OK\r\n" + strings.Repeat(line, 16384) + ".\r\n"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	serve := func(c net.Conn) {
		defer c.Close()
		c.Write([]byte("+OK ready\r\n"))
		r := bufio.NewReader(c)
		for {
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
			c.Write([]byte(body))
		}
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A fresh connection and transcript each time: one message,
		// as a user fetches it.
		c, err := Dial(ctx, ln.Addr().String(), wire.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Retr(ctx, 1); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
