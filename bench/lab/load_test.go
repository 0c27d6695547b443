package labbench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailflow/mailflow/session/lab"
)

// sessionsWanted is how many sessions TestLoad runs at once; LAB_SESSIONS
// overrides the default of 300.
func sessionsWanted(t testing.TB) int {
	if v := os.Getenv("LAB_SESSIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("LAB_SESSIONS=%q is not a positive number", v)
		}
		return n
	}
	return 300
}

func startLab(t testing.TB, users int) *lab.Lab {
	t.Helper()
	var us []lab.User
	for i := range users {
		us = append(us, lab.User{Login: fmt.Sprintf("user%d", i), Password: fmt.Sprintf("pass%d", i)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := lab.Start(ctx, lab.Config{Users: us})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// conv is a minimal line client; every call honours the deadline set on
// the connection.
type conv struct {
	c net.Conn
	r *bufio.Reader
}

func open(ctx context.Context, addr string) (*conv, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	dl, _ := ctx.Deadline()
	c.SetDeadline(dl)
	return &conv{c: c, r: bufio.NewReader(c)}, nil
}

// exchange sends cmd (nothing when it is empty: the greeting) and reads
// reply lines until one that skip does not pass over, which must start
// with want.
func (v *conv) exchange(cmd, want string, skip func(l string) bool) error {
	if cmd != "" {
		if _, err := v.c.Write([]byte(cmd + "\r\n")); err != nil {
			return err
		}
	}
	for {
		l, err := v.r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("%q: %w", cmd, err)
		}
		if skip(l) {
			continue
		}
		if !strings.HasPrefix(l, want) {
			return fmt.Errorf("%q: got %q, want %s", cmd, strings.TrimSpace(l), want)
		}
		return nil
	}
}

// smtp reads a whole SMTP reply (its continuation lines skipped) and
// checks its code; a line too short to hold one fails the check.
func (v *conv) smtp(cmd string, code string) error {
	return v.exchange(cmd, code, func(l string) bool { return len(l) >= 4 && l[3] == '-' })
}

// line sends cmd and checks the first reply line's prefix (POP3, IMAP),
// skipping IMAP untagged data before the tagged reply.
func (v *conv) line(cmd, prefix string) error {
	return v.exchange(cmd, prefix, func(l string) bool {
		return strings.HasPrefix(l, "* ") && !strings.HasPrefix(prefix, "*")
	})
}

// steps plays each command and wanted reply with do (smtp or line),
// stopping at the first failure.
func steps(do func(cmd, want string) error, steps ...[2]string) error {
	for _, s := range steps {
		if err := do(s[0], s[1]); err != nil {
			return err
		}
	}
	return nil
}

// multi skips a POP3 multi-line body.
func (v *conv) multi() error {
	for {
		l, err := v.r.ReadString('\n')
		if err != nil {
			return err
		}
		if l == ".\r\n" {
			return nil
		}
	}
}

// session is one client session of kind i%3: SMTP delivery, POP3
// retrieval or IMAP select. held is called once the session is
// established and must return before the session goes on; it lets the
// test hold every session open at the same time.
func session(ctx context.Context, e lab.Endpoints, i int, held func()) error {
	user := fmt.Sprintf("user%d", i)
	switch i % 3 {
	case 0:
		v, err := open(ctx, e.SMTP)
		if err != nil {
			return err
		}
		defer v.c.Close()
		if err := steps(v.smtp, [2]string{"", "220"}, [2]string{"EHLO load.example.org", "250"}); err != nil {
			return err
		}
		held()
		return steps(v.smtp,
			[2]string{"MAIL FROM:<load@example.org>", "250"},
			[2]string{"RCPT TO:<" + user + "@lab.test>", "250"},
			[2]string{"DATA", "354"},
			[2]string{"Subject: load " + user + "\r\n\r\nbody\r\n.", "250"},
			[2]string{"QUIT", "221"})
	case 1:
		v, err := open(ctx, e.POP3)
		if err != nil {
			return err
		}
		defer v.c.Close()
		if err := steps(v.line, [2]string{"", "+OK"}, [2]string{"USER " + user, "+OK"}, [2]string{fmt.Sprintf("PASS pass%d", i), "+OK"}); err != nil {
			return err
		}
		held()
		if err := v.line("LIST", "+OK"); err != nil {
			return err
		}
		if err := v.multi(); err != nil {
			return err
		}
		return v.line("QUIT", "+OK")
	default:
		v, err := open(ctx, e.IMAP)
		if err != nil {
			return err
		}
		defer v.c.Close()
		if err := steps(v.line, [2]string{"", "* OK"}, [2]string{fmt.Sprintf("a LOGIN %s pass%d", user, i), "a OK"}); err != nil {
			return err
		}
		held()
		return steps(v.line, [2]string{"b SELECT INBOX", "b OK"}, [2]string{"c LOGOUT", "* BYE"})
	}
}

// TestLoad holds N sessions (SMTP, POP3 and IMAP in equal parts) open at
// the same time against one lab, then lets them all finish. Every session
// must succeed. It logs sessions/s and the most sessions held at once.
func TestLoad(t *testing.T) {
	n := sessionsWanted(t)
	l := startLab(t, n)
	e := l.Endpoints()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var active, maxActive atomic.Int64
	all := make(chan struct{})
	var arrived sync.WaitGroup
	arrived.Add(n)
	held := func() {
		a := active.Add(1)
		for {
			m := maxActive.Load()
			if a <= m || maxActive.CompareAndSwap(m, a) {
				break
			}
		}
		arrived.Done()
		select {
		case <-all:
		case <-ctx.Done():
		}
	}
	errs := make(chan error, n)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reached := false
			err := session(ctx, e, i, func() { reached = true; held() })
			if !reached {
				arrived.Done() // never got established; do not block the others
			} else {
				active.Add(-1)
			}
			if err != nil {
				errs <- fmt.Errorf("session %d: %w", i, err)
			}
		}()
	}
	waitArrived := make(chan struct{})
	go func() { arrived.Wait(); close(waitArrived) }()
	select {
	case <-waitArrived:
	case <-ctx.Done():
		t.Fatalf("only %d of %d sessions established before the deadline", active.Load(), n)
	}
	close(all)
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	var failed []error
	for err := range errs {
		failed = append(failed, err)
	}
	if len(failed) > 0 {
		t.Fatalf("%d of %d sessions failed; first: %v", len(failed), n, errors.Join(failed[:min(5, len(failed))]...))
	}
	if got := maxActive.Load(); got != int64(n) {
		t.Errorf("held %d sessions at once, want %d", got, n)
	}
	// Every SMTP session delivered exactly one message.
	for i := 0; i < n; i += 3 {
		msgs, err := l.Messages(fmt.Sprintf("user%d", i))
		if err != nil || len(msgs) != 1 {
			t.Errorf("user%d has %d messages (%v), want 1", i, len(msgs), err)
		}
	}
	t.Logf("%d sessions (SMTP/POP3/IMAP), max simultaneous %d, %.0f sessions/s, total %v",
		n, maxActive.Load(), float64(n)/elapsed.Seconds(), elapsed.Round(time.Millisecond))
}

// BenchmarkSession measures complete sessions per second with parallel
// clients; run with -cpu and -benchtime to vary the load.
func BenchmarkSession(b *testing.B) {
	for _, kind := range []struct {
		name string
		off  int
	}{{"smtp", 0}, {"pop3", 1}, {"imap", 2}} {
		b.Run(kind.name, func(b *testing.B) {
			const users = 300
			l := startLab(b, users)
			e := l.Endpoints()
			var next atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					// POP3 locks a maildrop per session, so spread users.
					i := int(next.Add(1)%(users/3))*3 + kind.off
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					err := session(ctx, e, i, func() {})
					cancel()
					if err != nil && kind.name != "pop3" {
						b.Error(err)
					} else if err != nil && !strings.Contains(err.Error(), "IN-USE") {
						b.Error(err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sessions/s")
		})
	}
}
