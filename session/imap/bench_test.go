package imap

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/mailflow/mailflow/session/wire"
)

// BenchmarkFetchLiteral measures FETCH of a 1 MiB BODY[] literal (16,384
// lines of 62 bytes, every line recorded in the transcript) from a
// loopback peer.
func BenchmarkFetchLiteral(b *testing.B) {
	msg := strings.Repeat(strings.Repeat("x", 62)+"\r\n", 16384)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	serve := func(c net.Conn) {
		defer c.Close()
		c.Write([]byte("* OK ready\r\n"))
		r := bufio.NewReader(c)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, _, _ := strings.Cut(l, " ")
			c.Write([]byte("* 1 FETCH (BODY[] {" + strconv.Itoa(len(msg)) + "}\r\n" + msg + ")\r\n" + tag + " OK done\r\n"))
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
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A fresh connection and transcript each time: one message,
		// as a user fetches it.
		c, err := Dial(ctx, ln.Addr().String(), wire.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Fetch(ctx, "1", "BODY[]"); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
