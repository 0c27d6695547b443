package check

import (
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/mailflow/mailflow/internal/smtppeer"
)

// peerConfig scripts a small SMTP server for the tests in this package
// (internal/smtppeer; the fields are its Config's).
type peerConfig struct {
	delay         time.Duration
	greeting      string
	ehlo, ehloTLS []string
	tls           *tls.Config
	rcpt          func(arg string) string
	auth          func(line string) string
}

// scriptedPeer serves cfg on every connection to its listeners and
// reports, for each connection that ends, the lines it received.
type scriptedPeer struct{ *smtppeer.Peer }

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
	return &scriptedPeer{smtppeer.Serve(t, smtppeer.Config{Delay: cfg.delay, Greeting: cfg.greeting, EHLO: cfg.ehlo,
		EHLOTLS: cfg.ehloTLS, TLS: cfg.tls, Rcpt: cfg.rcpt, Auth: cfg.auth}, lns...)}
}

// conn returns the lines of the next connection that ended.
func (p *scriptedPeer) conn(t *testing.T) []string { return p.Conn(t) }
