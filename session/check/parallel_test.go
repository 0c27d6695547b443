package check

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/mailflow/mailflow/diag/mx/mxtest"

	"github.com/mailflow/mailflow/internal/peertest"
)

// peakListener counts the connections open at once across listeners.
type peakListener struct {
	net.Listener
	mu         *sync.Mutex
	open, peak *int
}

type peakConn struct {
	net.Conn
	l    *peakListener
	once sync.Once
}

func (l *peakListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	*l.open++
	*l.peak = max(*l.peak, *l.open)
	l.mu.Unlock()
	return &peakConn{Conn: c, l: l}, nil
}

func (c *peakConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		*c.l.open--
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// TestRunDomainAllMXParallelDefault checks that --all-mx tries every
// address at once by default: five MX hosts, each pausing before its
// banner, are all connected at the same time (the old default of 4 made
// the fifth wait for a whole pause), and MXParallel still bounds it.
func TestRunDomainAllMXParallelDefault(t *testing.T) {
	lns, port := peertest.ListenSamePort(t, "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6")
	var mu sync.Mutex
	var open, peak int
	wrapped := make([]net.Listener, len(lns))
	for i, ln := range lns {
		wrapped[i] = &peakListener{Listener: ln, mu: &mu, open: &open, peak: &peak}
	}
	const pause = 600 * time.Millisecond
	peer := serveSMTP(t, peerConfig{delay: pause}, wrapped...)
	dns := mxtest.Start(t, `
five.test. 300 IN MX 10 mx1.five.test.
five.test. 300 IN MX 20 mx2.five.test.
five.test. 300 IN MX 30 mx3.five.test.
five.test. 300 IN MX 40 mx4.five.test.
five.test. 300 IN MX 50 mx5.five.test.
mx1.five.test. 300 IN A 127.0.0.2
mx2.five.test. 300 IN A 127.0.0.3
mx3.five.test. 300 IN A 127.0.0.4
mx4.five.test. 300 IN A 127.0.0.5
mx5.five.test. 300 IN A 127.0.0.6
`)
	for _, tc := range []struct {
		parallel, want int
	}{
		{0, 5}, // default: every address at once
		{2, 2}, // an explicit bound is kept
	} {
		mu.Lock()
		open, peak = 0, 0
		mu.Unlock()
		opts := Options{Resolver: []string{dns.Addr}, Port: port, AllMX: true, MXParallel: tc.parallel, Limits: fastLimits()}
		start := time.Now()
		r := RunDomain(context.Background(), "five.test", opts)
		took := time.Since(start)
		if r.Exit != ExitOK || len(r.Hosts) != 5 {
			t.Fatalf("MXParallel %d: exit %d %q, %d hosts", tc.parallel, r.Exit, r.Error, len(r.Hosts))
		}
		for range 5 {
			peer.conn(t)
		}
		mu.Lock()
		got := peak
		mu.Unlock()
		t.Logf("MXParallel %d: %d connections at once, %v for 5 MX with a %v banner pause (%.2f pauses)",
			tc.parallel, got, took.Round(time.Millisecond), pause, float64(took)/float64(pause))
		switch {
		case tc.parallel == 0 && got != tc.want:
			t.Errorf("MXParallel %d: %d connections open at once, want %d", tc.parallel, got, tc.want)
		case tc.parallel > 0 && took < 29*pause/10:
			// Five hosts two at a time take three pauses. The server
			// may still hold a finished connection for a moment when the
			// next one arrives, so the bound is checked through the
			// time, which a slow machine can only make longer.
			t.Errorf("MXParallel %d: took %v, want at least three pauses (%v)", tc.parallel, took, 3*pause)
		}
	}
}

// TestMXParallelLimit checks the default and the cap of the --all-mx
// concurrency.
func TestMXParallelLimit(t *testing.T) {
	for _, tc := range []struct{ opt, n, want int }{
		{0, 5, 5},
		{0, 1, 1},
		{0, 0, 1},
		{0, 40, MaxMXParallel},
		{3, 40, 3},
		{-1, 5, 5},
		{100, 40, MaxMXParallel},
	} {
		if got := mxParallel(tc.opt, tc.n); got != tc.want {
			t.Errorf("mxParallel(%d, %d) = %d, want %d", tc.opt, tc.n, got, tc.want)
		}
	}
}
