package mx

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mailflow/mailflow/diag/mx/mxtest"
	"github.com/miekg/dns"
)

const poolZone = "a.test. 300 IN A 192.0.2.1\nb.test. 300 IN A 192.0.2.2\nslow.test. 300 IN A 192.0.2.3\n"

func wantA(t *testing.T, ans *Answer, err error, addr string) {
	t.Helper()
	if err != nil {
		t.Fatalf("Query() error = %v", err)
	}
	if r := ans.Of(TypeA); len(r) != 1 || r[0].Addr.String() != addr {
		t.Fatalf("answer %+v, want A %s", ans.Records, addr)
	}
}

// TestUDPSocketReuse checks that a Client reuses its UDP sockets between
// questions (a new socket per question costs three system calls and a
// port), renews them after maxSocketUses questions so that the source
// port keeps changing (RFC 5452 §9.2), and never keeps a socket whose
// exchange failed: a late answer must not be taken for the next one.
func TestUDPSocketReuse(t *testing.T) {
	ctx := context.Background()
	t.Run("sequential", func(t *testing.T) {
		s := mxtest.Start(t, poolZone)
		c := NewClient(s.Addr)
		for i := range 50 {
			name, addr := "a.test", "192.0.2.1"
			if i%2 == 1 {
				name, addr = "b.test", "192.0.2.2"
			}
			ans, err := c.Query(ctx, name, TypeA)
			wantA(t, ans, err, addr)
		}
		if n := s.Sources("udp"); n != 1 {
			t.Errorf("50 questions in a row used %d UDP sockets, want 1", n)
		}
	})
	t.Run("renewed", func(t *testing.T) {
		s := mxtest.Start(t, poolZone)
		c := NewClient(s.Addr)
		n := 2*maxSocketUses + 1
		for range n {
			ans, err := c.Query(ctx, "a.test", TypeA)
			wantA(t, ans, err, "192.0.2.1")
		}
		if got := s.Sources("udp"); got != 3 {
			t.Errorf("%d questions used %d UDP sockets, want 3 (%d questions each at most)", n, got, maxSocketUses)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		s := mxtest.Start(t, poolZone)
		c := NewClient(s.Addr)
		const workers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for range workers {
			wg.Go(func() {
				for range each {
					ans, err := c.Query(ctx, "b.test", TypeA)
					if err == nil && (len(ans.Of(TypeA)) != 1 || ans.Of(TypeA)[0].Addr.String() != "192.0.2.2") {
						err = fmt.Errorf("wrong answer %+v", ans.Records)
					}
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n := s.Sources("udp"); n > workers {
			t.Errorf("%d workers used %d UDP sockets, want at most one each", workers, n)
		}
	})
	t.Run("timeout discards the socket", func(t *testing.T) {
		s := mxtest.Start(t, poolZone)
		s.Delay("slow.test", dns.TypeA, 300*time.Millisecond)
		c := NewClient(s.Addr)
		c.Timeout, c.Retries = 100*time.Millisecond, 0
		ans, err := c.Query(ctx, "a.test", TypeA)
		wantA(t, ans, err, "192.0.2.1")
		if _, err := c.Query(ctx, "slow.test", TypeA); KindOf(err) != KindTimeout {
			t.Fatalf("slow query: %v, want a timeout", err)
		}
		// The late answer for slow.test arrives while b.test is asked.
		time.Sleep(250 * time.Millisecond)
		ans, err = c.Query(ctx, "b.test", TypeA)
		wantA(t, ans, err, "192.0.2.2")
		if n := s.Sources("udp"); n != 2 {
			t.Errorf("%d UDP sockets, want 2: the one that timed out is not reused", n)
		}
	})
	t.Run("truncated still retried over TCP", func(t *testing.T) {
		s := mxtest.Start(t, poolZone)
		c := NewClient(s.Addr)
		ans, err := c.Query(ctx, "a.test", TypeA)
		wantA(t, ans, err, "192.0.2.1")
		s.TruncateUDP(true)
		ans, err = c.Query(ctx, "b.test", TypeA)
		wantA(t, ans, err, "192.0.2.2")
		if !ans.TCP {
			t.Errorf("truncated answer not retried over TCP: %+v", ans)
		}
		if n := s.Sources("udp"); n != 1 {
			t.Errorf("%d UDP sockets, want 1", n)
		}
	})
	t.Run("CloseIdle", func(t *testing.T) {
		s := mxtest.Start(t, poolZone)
		c := NewClient(s.Addr)
		ans, err := c.Query(ctx, "a.test", TypeA)
		wantA(t, ans, err, "192.0.2.1")
		c.CloseIdle()
		ans, err = c.Query(ctx, "a.test", TypeA)
		wantA(t, ans, err, "192.0.2.1")
		if n := s.Sources("udp"); n != 2 {
			t.Errorf("%d UDP sockets, want 2: CloseIdle closes the idle one", n)
		}
	})
}
