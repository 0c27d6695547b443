package main

import (
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mailflow/mailflow/internal/peertest"
	"github.com/mailflow/mailflow/internal/smtppeer"
)

// smtpPeer is a scripted SMTP server on loopback for the check command's
// tests (internal/smtppeer), announcing DSN and AUTH by default.
type smtpPeer struct {
	greeting string
	delay    time.Duration
	ehlo     []string
	rcpt     func(string) string
	peer     *smtppeer.Peer
}

func (p *smtpPeer) serve(t *testing.T, ln net.Listener) {
	ext := p.ehlo
	if ext == nil {
		ext = []string{"SIZE 1000000", "DSN", "AUTH PLAIN LOGIN", "ENHANCEDSTATUSCODES"}
	}
	p.peer = smtppeer.Serve(t, smtppeer.Config{Greeting: p.greeting, Delay: p.delay, EHLO: ext, Rcpt: p.rcpt}, ln)
}

// conn returns the lines of the next connection that ended.
func (p *smtpPeer) conn(t *testing.T) []string { return p.peer.Conn(t) }

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
