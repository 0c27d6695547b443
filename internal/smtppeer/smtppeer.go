// Package smtppeer is a scripted SMTP server on loopback for tests: it
// greets (after an optional pause), answers EHLO with the extensions it is
// given, upgrades on STARTTLS when it has a TLS config, takes AUTH, MAIL,
// RCPT and DATA, and reports the lines each connection sent.
//
// It serves every connection to its listeners until the test ends, so a
// check that walks several MX hosts, or a tool such as swaks or curl, can
// talk to it as to a small MTA. For one scripted exchange per test, use
// internal/peertest instead.
package smtppeer

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailflow/mailflow/internal/peertest"
)

// DefaultEHLO are the extensions announced when Config.EHLO is nil.
var DefaultEHLO = []string{"SIZE 1000000", "ENHANCEDSTATUSCODES"}

// Config scripts the server.
type Config struct {
	// Greeting defaults to "220 peer.test ESMTP". Any other code refuses
	// the session: the server then answers one more line with 221 and
	// hangs up.
	Greeting string
	// Delay is the pause before the greeting (a greet pause, a tarpit).
	// It ends early when the client hangs up.
	Delay time.Duration
	// EHLO are the extension lines (DefaultEHLO when nil); STARTTLS is
	// added when TLS is set. EHLOTLS, when set, replaces them after TLS.
	EHLO, EHLOTLS []string
	// TLS enables STARTTLS.
	TLS *tls.Config
	// Rcpt answers RCPT TO given its argument (default 250).
	Rcpt func(arg string) string
	// Auth answers an AUTH command line. By default an AUTH without an
	// initial response gets "334 " (RFC 4954 §4) and then 235.
	Auth func(line string) string
}

// Peer is a running server.
type Peer struct {
	cfg  Config
	done chan []string
}

// Serve serves cfg on every connection to lns until the test ends.
func Serve(tb testing.TB, cfg Config, lns ...net.Listener) *Peer {
	p := &Peer{cfg: cfg, done: make(chan []string, 100)}
	for _, ln := range lns {
		peertest.Accept(tb, ln, p.handle)
	}
	return p
}

// Conn returns the lines the next connection to end had sent; message
// text is summed up as one "<message>" line.
func (p *Peer) Conn(tb testing.TB) []string {
	tb.Helper()
	select {
	case l := <-p.done:
		return l
	case <-time.After(10 * time.Second):
		tb.Fatal("no connection ended within 10 s")
	}
	return nil
}

func ehloReply(ext []string) []string {
	if len(ext) == 0 {
		return []string{"250 peer.test"}
	}
	out := []string{"250-peer.test"}
	for i, e := range ext {
		sep := "-"
		if i == len(ext)-1 {
			sep = " "
		}
		out = append(out, "250"+sep+e)
	}
	return out
}

func (p *Peer) handle(c net.Conn) {
	var got []string
	defer func() { c.Close(); p.done <- got }()
	if p.cfg.Delay > 0 {
		// Wait by reading: the pause ends early when the client hangs up
		// or the test ends (peertest.Accept closes the connection).
		c.SetDeadline(time.Now().Add(p.cfg.Delay))
		c.Read(make([]byte, 1))
	}
	c.SetDeadline(time.Now().Add(15 * time.Second))
	r := bufio.NewReader(c)
	w := func(lines ...string) { c.Write([]byte(strings.Join(lines, "\r\n") + "\r\n")) }
	g := p.cfg.Greeting
	if g == "" {
		g = "220 peer.test ESMTP"
	}
	w(g)
	if !strings.HasPrefix(g, "220") {
		if l, err := r.ReadString('\n'); err == nil {
			got = append(got, strings.TrimRight(l, "\r\n"))
			w("221 bye")
		}
		return
	}
	secure, data := false, false
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
			ext := p.cfg.EHLO
			if ext == nil {
				ext = DefaultEHLO
			}
			if secure && p.cfg.EHLOTLS != nil {
				ext = p.cfg.EHLOTLS
			} else if !secure && p.cfg.TLS != nil {
				ext = append(append([]string(nil), ext...), "STARTTLS")
			}
			w(ehloReply(ext)...)
		case up == "STARTTLS" && p.cfg.TLS != nil && !secure:
			w("220 2.0.0 go ahead")
			tc := tls.Server(c, p.cfg.TLS)
			if tc.Handshake() != nil {
				return
			}
			c, r, secure = tc, bufio.NewReader(tc), true
		case strings.HasPrefix(up, "AUTH"):
			if p.cfg.Auth != nil {
				w(p.cfg.Auth(l))
				continue
			}
			if len(strings.Fields(l)) == 2 {
				w("334 ")
				if _, err := r.ReadString('\n'); err != nil {
					return
				}
			}
			w("235 2.7.0 ok")
		case strings.HasPrefix(up, "RCPT TO:"):
			if p.cfg.Rcpt != nil {
				w(p.cfg.Rcpt(l[len("RCPT TO:"):]))
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
