package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SlowMX is a set of minimal SMTP servers, one per address, all on one
// port, each greeting delay after a connection arrives: an MX host that
// is slow to answer. After the greeting it answers EHLO/HELO with 250,
// QUIT with 221 and anything else with 250.
type SlowMX struct {
	Delay time.Duration

	lns  []net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	hits map[string]int
	open map[net.Conn]bool
}

// Listen binds hosts addresses 127.0.0.1..127.0.0.N on one free port (the
// same port for all, since --port replaces 25 for every MX) and serves
// them. It returns the port.
func (s *SlowMX) Listen(hosts int) (int, error) {
	s.hits = map[string]int{}
	s.open = map[net.Conn]bool{}
	var lastErr error
	for attempt := 0; attempt < 20; attempt++ {
		first, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := first.Addr().(*net.TCPAddr).Port
		lns := []net.Listener{first}
		for i := 2; i <= hosts && err == nil; i++ {
			var ln net.Listener
			if ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.%d:%d", i, port)); err == nil {
				lns = append(lns, ln)
			}
		}
		if err != nil {
			lastErr = err
			for _, ln := range lns {
				ln.Close()
			}
			continue
		}
		s.lns = lns
		for i, ln := range lns {
			name := fmt.Sprintf("mx%d", i+1)
			s.wg.Go(func() { s.serve(ln, name) })
		}
		return port, nil
	}
	return 0, fmt.Errorf("no port free on all %d addresses: %w", hosts, lastErr)
}

// Close stops the listeners and waits for open conversations.
func (s *SlowMX) Close() {
	for _, ln := range s.lns {
		ln.Close()
	}
	s.mu.Lock()
	for c := range s.open {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Hits returns how many connections each address received.
func (s *SlowMX) Hits() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int, len(s.hits))
	for k, v := range s.hits {
		m[k] = v
	}
	return m
}

func (s *SlowMX) serve(ln net.Listener, name string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.hits[ln.Addr().(*net.TCPAddr).IP.String()]++
		s.open[c] = true
		s.mu.Unlock()
		s.wg.Go(func() { s.talk(c, name) })
	}
}

func (s *SlowMX) talk(c net.Conn, name string) {
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.open, c)
		s.mu.Unlock()
	}()
	_ = c.SetDeadline(time.Now().Add(s.Delay + 30*time.Second))
	time.Sleep(s.Delay)
	fmt.Fprintf(c, "220 %s.slow.test ESMTP slow\r\n", name)
	r := bufio.NewReader(c)
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.Fields(l + " x")[0])
		switch verb {
		case "QUIT":
			fmt.Fprintf(c, "221 2.0.0 bye\r\n")
			return
		case "EHLO", "HELO":
			fmt.Fprintf(c, "250 %s.slow.test\r\n", name)
		default:
			fmt.Fprintf(c, "250 2.0.0 ok\r\n")
		}
	}
}

// runSlowMX serves until -for has passed or SIGTERM/SIGINT arrives, and
// prints the port first ("PORT=n") and the connections per address last.
func runSlowMX(args []string) error {
	fs := flag.NewFlagSet("slowmx", flag.ContinueOnError)
	hosts := fs.Int("hosts", 5, "number of hosts, 127.0.0.1..127.0.0.N")
	delay := fs.Duration("delay", 200*time.Millisecond, "delay before each greeting")
	life := fs.Duration("for", 10*time.Minute, "stop after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *hosts < 1 || *hosts > 250 {
		return fmt.Errorf("-hosts must be 1..250")
	}
	s := &SlowMX{Delay: *delay}
	port, err := s.Listen(*hosts)
	if err != nil {
		return err
	}
	fmt.Printf("PORT=%d\n", port)
	os.Stdout.Sync()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-sig:
	case <-time.After(*life):
	}
	s.Close()
	hits := s.Hits()
	keys := make([]string, 0, len(hits))
	for k := range hits {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(os.Stderr, "slowmx: %s had %d connections\n", k, hits[k])
	}
	return nil
}
