package main

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5}, 5},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{4, 1, 3, 2}, 2},
	}
	for _, tc := range tests {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// lineServer greets, then answers each line with "ok N".
func lineServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				fmt.Fprintf(c, "hello\r\n")
				r := bufio.NewReader(c)
				for i := 1; ; i++ {
					if _, err := r.ReadString('\n'); err != nil {
						return
					}
					fmt.Fprintf(c, "ok %d\r\n", i)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestProxyDelaysAndCountsTurns sends two lines one after the other
// through the proxy: greeting plus two replies are three turns, four
// round trips with the handshake, and each costs at least one RTT.
func TestProxyDelaysAndCountsTurns(t *testing.T) {
	const rtt = 20 * time.Millisecond
	p := &Proxy{OneWay: rtt / 2, Upstream: lineServer(t)}
	addr, err := p.Start()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	want := []string{"hello", "ok 1", "ok 2"}
	for i, w := range want {
		if i > 0 {
			fmt.Fprintf(c, "line %d\r\n", i)
		}
		l, err := r.ReadString('\n')
		if err != nil || strings.TrimSpace(l) != w {
			t.Fatalf("read %q, %v; want %q", l, err, w)
		}
	}
	el := time.Since(start)
	c.Close()
	p.Close()
	if got := p.Turns(); got != 3 {
		t.Errorf("Turns() = %d, want 3", got)
	}
	if got := p.RoundTrips(); got != 4 {
		t.Errorf("RoundTrips() = %d, want 4", got)
	}
	if el < 4*rtt {
		t.Errorf("4 round trips took %v, less than 4×%v: the delay is missing", el, rtt)
	}
}

// TestProxyPipelinedBatchIsOneTurn sends two lines in one write: the two
// replies are one turn.
func TestProxyPipelinedBatchIsOneTurn(t *testing.T) {
	p := &Proxy{OneWay: time.Millisecond, Upstream: lineServer(t)}
	addr, err := p.Start()
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	r.ReadString('\n')
	fmt.Fprintf(c, "a\r\nb\r\n")
	for range 2 {
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	p.Close()
	if got := p.Turns(); got != 2 {
		t.Errorf("Turns() = %d, want 2 (greeting, one batch)", got)
	}
}

// TestSlowMX connects to every host: each greets no sooner than the delay,
// answers EHLO and QUIT, and is counted.
func TestSlowMX(t *testing.T) {
	const delay = 30 * time.Millisecond
	s := &SlowMX{Delay: delay}
	port, err := s.Listen(3)
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2-3 here: %v", err)
	}
	defer s.Close()
	for i := 1; i <= 3; i++ {
		start := time.Now()
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.%d:%d", i, port))
		if err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(c)
		l, err := r.ReadString('\n')
		if el := time.Since(start); err != nil || !strings.HasPrefix(l, fmt.Sprintf("220 mx%d.slow.test", i)) || el < delay {
			t.Fatalf("greeting %q, %v after %v", l, err, el)
		}
		fmt.Fprintf(c, "EHLO me\r\nQUIT\r\n")
		for _, w := range []string{"250 ", "221 "} {
			if l, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(l, w) {
				t.Fatalf("got %q, %v; want %q", l, err, w)
			}
		}
		c.Close()
	}
	s.Close()
	for i := 1; i <= 3; i++ {
		if n := s.Hits()[fmt.Sprintf("127.0.0.%d", i)]; n != 1 {
			t.Errorf("127.0.0.%d had %d connections, want 1", i, n)
		}
	}
}
