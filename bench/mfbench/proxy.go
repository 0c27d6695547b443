package main

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"
)

// Proxy is a TCP relay on loopback that adds a fixed one-way delay to
// every chunk in both directions, so that a round trip costs 2×OneWay, as
// "tc qdisc add dev lo root netem delay OneWay" would on a loopback
// interface (there each packet crosses lo once). It stands in for netem
// where the kernel has no sch_netem.
//
// A proxy cannot delay the client's own connect(), so it delays the
// connection to the server instead: the server accepts 3×OneWay after the
// client connected, which is when the final ACK of the handshake would
// reach it, so the greeting reaches the client at 4×OneWay = two round
// trips, as over a real link (the handshake, then the greeting).
//
// The proxy also counts turns: every burst from the server that follows
// data from the client (or that opens the conversation) is one more time
// the client had to wait for the other end. Turns()+1 (the handshake) is
// the conversation's round trips on the wire, TLS handshakes included,
// whatever the client thinks it does.
type Proxy struct {
	// OneWay is the delay added to each direction.
	OneWay time.Duration
	// Upstream is the server's address.
	Upstream string
	// Source, when set, is the local IP the proxy connects from (the
	// benchmark Postfix hides PIPELINING from one source address).
	Source string

	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	turns int
	last  int // direction of the last chunk read: 0 none, 1 to server, 2 to client
}

// Start listens on 127.0.0.1 and relays each connection to Upstream.
func (p *Proxy) Start() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("proxy: %w", err)
	}
	p.ln = ln
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.relay(c) })
		}
	})
	return ln.Addr().String(), nil
}

// Close stops listening and waits for the relays to end.
func (p *Proxy) Close() {
	p.ln.Close()
	p.wg.Wait()
}

// Turns returns how many times the server answered after the client had
// sent something, the greeting included.
func (p *Proxy) Turns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.turns
}

// RoundTrips returns Turns plus the TCP handshake.
func (p *Proxy) RoundTrips() int { return p.Turns() + 1 }

func (p *Proxy) note(dir int) {
	p.mu.Lock()
	if dir == 2 && p.last != 2 {
		p.turns++
	}
	p.last = dir
	p.mu.Unlock()
}

func (p *Proxy) relay(client net.Conn) {
	defer client.Close()
	time.Sleep(3 * p.OneWay)
	d := net.Dialer{Timeout: 10 * time.Second}
	if p.Source != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(p.Source)}
	}
	server, err := d.DialContext(context.Background(), "tcp", p.Upstream)
	if err != nil {
		return
	}
	defer server.Close()
	// When one direction ends, the other gets a few seconds to drain, so
	// that a peer that never closes cannot hold Close forever.
	var once sync.Once
	drain := func() {
		once.Do(func() {
			t := time.Now().Add(2*time.Second + 4*p.OneWay)
			client.SetDeadline(t)
			server.SetDeadline(t)
		})
	}
	var wg sync.WaitGroup
	wg.Go(func() { p.pump(client, server, 1); drain() })
	wg.Go(func() { p.pump(server, client, 2); drain() })
	wg.Wait()
}

type chunk struct {
	b   []byte
	due time.Time
}

// pump copies src to dst, each chunk OneWay after it was read, in order.
// At the end of src it half-closes dst, so that a QUIT's closing
// handshake travels like the data before it.
func (p *Proxy) pump(src, dst net.Conn, dir int) {
	ch := make(chan chunk, 4096)
	go func() {
		defer close(ch)
		for {
			b := make([]byte, 32*1024)
			quickAck(src)
			n, err := src.Read(b)
			if n > 0 {
				p.note(dir)
				ch <- chunk{b[:n], time.Now().Add(p.OneWay)}
			}
			if err != nil {
				return
			}
		}
	}()
	broken := false
	for c := range ch {
		if broken {
			continue
		}
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.b); err != nil {
			broken = true
			src.Close()
		}
	}
	time.Sleep(p.OneWay) // the FIN travels too
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	} else {
		dst.Close()
	}
}
