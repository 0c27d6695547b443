package check

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailflow/mailflow/internal/peertest"
)

// peerConfig scripts a small SMTP server for the tests in this package.
type peerConfig struct {
	// delay is the wait before the greeting (a greet pause, a tarpit).
	delay time.Duration
	// greeting defaults to "220 peer.test ESMTP".
	greeting string
	// ehlo are the extension lines (default SIZE, ENHANCEDSTATUSCODES);
	// STARTTLS is added when tls is set. ehloTLS are those after TLS.
	ehlo, ehloTLS []string
	tls           *tls.Config
	// rcpt answers RCPT TO (default 250).
	rcpt func(arg string) string
	// auth answers an AUTH command line (default 235).
	auth func(line string) string
}

// scriptedPeer serves cfg on every connection to its listeners and
// reports, for each connection that ends, the lines it received.
type scriptedPeer struct {
	cfg  peerConfig
	done chan []string
}

func ipv6Loopback(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("::1 cannot be bound on this machine: %v", err)
	}
	ln.Close()
}

// serveSMTP serves cfg on every connection to lns until the test ends.
func serveSMTP(t *testing.T, cfg peerConfig, lns ...net.Listener) *scriptedPeer {
	p := &scriptedPeer{cfg: cfg, done: make(chan []string, 100)}
	for _, ln := range lns {
		peertest.Accept(t, ln, p.handle)
	}
	return p
}

// conn returns the lines of the next connection that ended.
func (p *scriptedPeer) conn(t *testing.T) []string {
	t.Helper()
	select {
	case l := <-p.done:
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("no connection ended within 10 s")
	}
	return nil
}

func (p *scriptedPeer) handle(c net.Conn) {
	var got []string
	defer func() { c.Close(); p.done <- got }()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	time.Sleep(p.cfg.delay)
	r := bufio.NewReader(c)
	w := func(lines ...string) { c.Write([]byte(strings.Join(lines, "\r\n") + "\r\n")) }
	g := p.cfg.greeting
	if g == "" {
		g = "220 peer.test ESMTP"
	}
	w(g)
	if !strings.HasPrefix(g, "220") {
		// A refusing greeting: wait for QUIT or the close.
		if l, err := r.ReadString('\n'); err == nil {
			got = append(got, strings.TrimRight(l, "\r\n"))
			w("221 bye")
		}
		return
	}
	secure := false
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
				got = append(got, "<message>")
				w("250 2.0.0 queued")
			}
			continue
		}
		got = append(got, l)
		up := strings.ToUpper(l)
		switch {
		case strings.HasPrefix(up, "EHLO"):
			ext := p.cfg.ehlo
			if ext == nil {
				ext = []string{"SIZE 1000000", "ENHANCEDSTATUSCODES"}
			}
			if secure && p.cfg.ehloTLS != nil {
				ext = p.cfg.ehloTLS
			} else if !secure && p.cfg.tls != nil {
				ext = append(append([]string(nil), ext...), "STARTTLS")
			}
			out := []string{"250-peer.test"}
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				out = append(out, "250"+sep+e)
			}
			if len(ext) == 0 {
				out[0] = "250 peer.test"
			}
			w(out...)
		case up == "STARTTLS" && p.cfg.tls != nil && !secure:
			w("220 2.0.0 go ahead")
			tc := tls.Server(c, p.cfg.tls)
			if tc.Handshake() != nil {
				return
			}
			c, r, secure = tc, bufio.NewReader(tc), true
		case strings.HasPrefix(up, "AUTH "):
			if p.cfg.auth != nil {
				w(p.cfg.auth(l))
			} else {
				w("235 2.7.0 ok")
			}
		case strings.HasPrefix(up, "RCPT TO:"):
			if p.cfg.rcpt != nil {
				w(p.cfg.rcpt(l[len("RCPT TO:"):]))
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
