package imap

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// peer is the server side of a scripted conversation.
type peer struct {
	t  *testing.T
	c  net.Conn
	r  *bufio.Reader
	mu sync.Mutex
	// got holds every line the client sent.
	got []string
}

// startPeer listens on 127.0.0.1:0, accepts one connection and runs
// script on it; it returns the address and the peer (whose got lines may
// be read after the client is done).
func startPeer(t *testing.T, script func(p *peer)) (string, *peer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen() = %v", err)
	}
	p := &peer{t: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		p.c, p.r = c, bufio.NewReader(c)
		script(p)
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String(), p
}

// send writes lines, each followed by CRLF.
func (p *peer) send(lines ...string) {
	p.c.Write([]byte(strings.Join(lines, "\r\n") + "\r\n"))
}

// read returns the next line from the client without its ending, or ""
// when the client went away.
func (p *peer) read() string {
	l, err := p.r.ReadString('\n')
	if err != nil {
		return ""
	}
	l = strings.TrimRight(l, "\r\n")
	p.mu.Lock()
	p.got = append(p.got, l)
	p.mu.Unlock()
	return l
}

// expect reads a line and reports a mismatch with want (a prefix match
// when want ends in "*").
func (p *peer) expect(want string) string {
	l := p.read()
	if pre, ok := strings.CutSuffix(want, "*"); ok && strings.HasPrefix(l, pre) || l == want {
		return l
	}
	p.t.Errorf("peer: client sent %q, want %q", l, want)
	return l
}

// lines returns what the client sent.
func (p *peer) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.got...)
}

// startTLS turns the connection into the server side of TLS.
func (p *peer) startTLS(cert tls.Certificate) {
	tc := tls.Server(p.c, &tls.Config{Certificates: []tls.Certificate{cert}})
	if err := tc.Handshake(); err != nil {
		p.t.Errorf("peer: TLS handshake: %v", err)
		return
	}
	p.c, p.r = tc, bufio.NewReader(tc)
}

// reset closes the connection with an RST (SO_LINGER 0).
func (p *peer) reset() {
	if tc, ok := p.c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	p.c.Close()
}

// testCA returns a server certificate for 127.0.0.1 and a pool holding
// the CA that signed it.
func testCA(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imap test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}
