package main

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailflow/mailflow/internal/peertest"
)

// smtpPeer is a scripted SMTP server on loopback for the check command's
// tests. Each connection's received lines are reported on done.
type smtpPeer struct {
	greeting string
	delay    time.Duration
	ehlo     []string
	rcpt     func(string) string
	done     chan []string
}

func (p *smtpPeer) serve(t *testing.T, ln net.Listener) {
	if p.done == nil {
		p.done = make(chan []string, 100)
	}
	peertest.Accept(t, ln, p.handle)
}

func (p *smtpPeer) handle(c net.Conn) {
	var got []string
	defer func() { c.Close(); p.done <- got }()
	if p.delay > 0 {
		// The pause before the greeting ends early when the client hangs
		// up or the test ends (peertest.Accept closes the connection and
		// waits for this handler).
		c.SetDeadline(time.Now().Add(p.delay))
		c.Read(make([]byte, 1))
	}
	c.SetDeadline(time.Now().Add(15 * time.Second))
	w := func(lines ...string) { c.Write([]byte(strings.Join(lines, "\r\n") + "\r\n")) }
	g := p.greeting
	if g == "" {
		g = "220 peer.test ESMTP"
	}
	w(g)
	r := bufio.NewReader(c)
	data := false
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return
		}
		l = strings.TrimRight(l, "\r\n")
		if data {
			if l == "." {
				data = false
				w("250 2.0.0 queued")
			}
			continue
		}
		got = append(got, l)
		up := strings.ToUpper(l)
		switch {
		case !strings.HasPrefix(g, "220"):
			w("503 5.5.1 go away")
		case strings.HasPrefix(up, "EHLO"):
			ext := p.ehlo
			if ext == nil {
				ext = []string{"SIZE 1000000", "DSN", "AUTH PLAIN LOGIN", "ENHANCEDSTATUSCODES"}
			}
			out := []string{"250-peer.test"}
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				out = append(out, "250"+sep+e)
			}
			w(out...)
		case strings.HasPrefix(up, "AUTH"):
			if len(strings.Fields(l)) == 2 {
				// No initial response: ask for it (RFC 4954 §4).
				w("334 ")
				if _, err := r.ReadString('\n'); err != nil {
					return
				}
			}
			w("235 2.7.0 ok")
		case strings.HasPrefix(up, "RCPT TO:"):
			if p.rcpt != nil {
				w(p.rcpt(l[len("RCPT TO:"):]))
			} else {
				w("250 2.1.5 ok")
			}
		case up == "DATA":
			data = true
			w("354 go ahead")
		case up == "QUIT":
			w("221 2.0.0 bye")
			return
		default:
			w("250 2.0.0 ok")
		}
	}
}

func (p *smtpPeer) conn(t *testing.T) []string {
	t.Helper()
	select {
	case l := <-p.done:
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("no connection ended within 10 s")
	}
	return nil
}

// socksServer is a minimal SOCKS5 server (RFC 1928, no authentication,
// CONNECT only) that sends every connection to target and records the
// destination each client asked for, as the client sent it.
type socksServer struct {
	addr   string
	target string
	mu     sync.Mutex
	asked  []string
}

func startSOCKS(t *testing.T, target string) *socksServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &socksServer{addr: ln.Addr().String(), target: target}
	peertest.Accept(t, ln, s.handle)
	return s
}

func (s *socksServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.asked...)
}

func (s *socksServer) handle(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	var hdr [2]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil || hdr[0] != 5 {
		return
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(c, methods); err != nil {
		return
	}
	c.Write([]byte{5, 0}) // no authentication
	var req [4]byte
	if _, err := io.ReadFull(c, req[:]); err != nil || req[1] != 1 {
		return
	}
	var host string
	switch req[3] {
	case 1:
		var ip [4]byte
		io.ReadFull(c, ip[:])
		host = net.IP(ip[:]).String()
	case 4:
		var ip [16]byte
		io.ReadFull(c, ip[:])
		host = net.IP(ip[:]).String()
	case 3:
		var n [1]byte
		io.ReadFull(c, n[:])
		name := make([]byte, n[0])
		io.ReadFull(c, name)
		host = "name:" + string(name)
	default:
		return
	}
	var pb [2]byte
	io.ReadFull(c, pb[:])
	s.mu.Lock()
	s.asked = append(s.asked, host+":"+strconv.Itoa(int(binary.BigEndian.Uint16(pb[:]))))
	s.mu.Unlock()
	up, err := net.Dial("tcp", s.target)
	if err != nil {
		c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0}) // connection refused
		return
	}
	defer up.Close()
	c.Write([]byte{5, 0, 0, 1, 127, 0, 0, 1, 0, 0})
	c.SetDeadline(time.Time{})
	go io.Copy(up, c)
	io.Copy(c, up)
}
