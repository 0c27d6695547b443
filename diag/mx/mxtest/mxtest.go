// Package mxtest runs a small in-process DNS server on loopback for tests
// and benchmarks of diag/mx and its users. It serves records given in zone
// file syntax and can be told to misbehave: fixed rcodes, delays, silence,
// truncated UDP answers, and a different view for non-recursive queries
// (to imitate split-horizon DNS).
package mxtest

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Server is a running fake DNS server, on UDP and TCP at Addr.
type Server struct {
	// Addr is 127.0.0.1:PORT, the same port for UDP and TCP.
	Addr string

	mu        sync.Mutex
	records   zoneIndex
	authOnly  zoneIndex // answers for RD=0 queries, when set
	rcodes    map[string]int
	delays    map[string]time.Duration
	silent    map[string]bool
	truncate  bool
	queries   map[string]int
	sources   map[string]bool // "network address" of every client seen
	udp, tcp  *dns.Server
	closeOnce sync.Once
}

// key is "name" or "name TYPE", lower case, fully qualified.
func key(name string, t uint16) string {
	return strings.ToLower(dns.Fqdn(name)) + " " + dns.TypeToString[t]
}

// Start is New that fails tb on error and stops the server when tb ends.
func Start(tb testing.TB, zone string) *Server {
	tb.Helper()
	s, err := New(zone)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// New parses zone (one record per line in zone file syntax, fully
// qualified names; blank lines and ";" comments are skipped) and starts
// the server. Close stops it.
func New(zone string) (*Server, error) {
	s := &Server{rcodes: map[string]int{}, delays: map[string]time.Duration{}, silent: map[string]bool{}, queries: map[string]int{}, sources: map[string]bool{}}
	rrs, err := parse(zone)
	if err != nil {
		return nil, err
	}
	s.records.add(rrs)
	var (
		pc net.PacketConn
		ln net.Listener
	)
	for range 20 {
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("mxtest: listen udp: %w", err)
		}
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("mxtest: listen tcp: %w", err)
	}
	s.Addr = pc.LocalAddr().String()
	h := dns.HandlerFunc(s.serve)
	started := make(chan struct{}, 2)
	s.udp = &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { started <- struct{}{} }}
	s.tcp = &dns.Server{Listener: ln, Handler: h, NotifyStartedFunc: func() { started <- struct{}{} }}
	go s.udp.ActivateAndServe()
	go s.tcp.ActivateAndServe()
	<-started
	<-started
	return s, nil
}

func parse(zone string) ([]dns.RR, error) {
	var out []dns.RR
	for _, line := range strings.Split(zone, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			return nil, fmt.Errorf("mxtest: bad record %q: %w", line, err)
		}
		out = append(out, rr)
	}
	return out, nil
}

func mustParse(tb testing.TB, zone string) []dns.RR {
	tb.Helper()
	rrs, err := parse(zone)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	return rrs
}

// Close stops the server.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.udp.Shutdown()
		s.tcp.Shutdown()
	})
}

// Add adds records (zone file syntax, one per line).
func (s *Server) Add(tb testing.TB, zone string) {
	rrs := mustParse(tb, zone)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records.add(rrs)
}

// AuthView makes queries with the RD bit clear (as sent to an
// authoritative server) see these records for the names they cover
// instead of the normal ones.
func (s *Server) AuthView(tb testing.TB, zone string) {
	rrs := mustParse(tb, zone)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authOnly.add(rrs)
}

// Rcode makes questions for name and type t (t 0: any type) get rcode.
func (s *Server) Rcode(name string, t uint16, rcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcodes[ruleKey(name, t)] = rcode
}

// Delay makes questions for name and type t (t 0: any type) wait d before
// the answer.
func (s *Server) Delay(name string, t uint16, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delays[ruleKey(name, t)] = d
}

// Silence makes questions for name and type t (t 0: any type) never get
// an answer.
func (s *Server) Silence(name string, t uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent[ruleKey(name, t)] = true
}

// TruncateUDP makes every UDP answer empty with the TC bit set, so that
// clients must retry over TCP.
func (s *Server) TruncateUDP(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.truncate = on
}

// Sources returns how many distinct client addresses (source ports)
// sent questions over network ("udp" or "tcp"): how many sockets the
// client used.
func (s *Server) Sources(network string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k := range s.sources {
		if strings.HasPrefix(k, network+" ") {
			n++
		}
	}
	return n
}

// Queries returns how many questions for name and type arrived over
// network ("udp" or "tcp").
func (s *Server) Queries(network, name string, t uint16) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[network+" "+key(name, t)]
}

func ruleKey(name string, t uint16) string {
	if t == 0 {
		return strings.ToLower(dns.Fqdn(name))
	}
	return key(name, t)
}

func (s *Server) rule(q dns.Question) (rcode int, hasRcode bool, delay time.Duration, silent bool) {
	for _, k := range []string{key(q.Name, q.Qtype), strings.ToLower(q.Name)} {
		if r, ok := s.rcodes[k]; ok && !hasRcode {
			rcode, hasRcode = r, true
		}
		if d, ok := s.delays[k]; ok && delay == 0 {
			delay = d
		}
		if s.silent[k] {
			silent = true
		}
	}
	return
}

func (s *Server) serve(w dns.ResponseWriter, r *dns.Msg) {
	if len(r.Question) != 1 {
		return
	}
	q := r.Question[0]
	network := "udp"
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		network = "tcp"
	}
	s.mu.Lock()
	s.queries[network+" "+key(q.Name, q.Qtype)]++
	s.sources[network+" "+w.RemoteAddr().String()] = true
	rcode, hasRcode, delay, silent := s.rule(q)
	truncate := s.truncate && network == "udp"
	recs := &s.records
	if !r.RecursionDesired && len(s.authOnly.byName[strings.ToLower(q.Name)]) > 0 {
		recs = &s.authOnly
	}
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = !r.RecursionDesired
	m.RecursionAvailable = true
	switch {
	case hasRcode:
		m.Rcode = rcode
	case truncate:
		m.Truncated = true
	default:
		m.Answer, m.Rcode = answer(recs, q)
	}
	s.mu.Unlock()
	if opt := r.IsEdns0(); opt != nil {
		m.SetEdns0(4096, opt.Do())
	}
	if silent {
		return
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	w.WriteMsg(m)
}

// zoneIndex holds records by owner name, and every name that exists
// (owners and their ancestors, so that empty non-terminals are NODATA,
// not NXDOMAIN).
type zoneIndex struct {
	byName map[string][]dns.RR
	exists map[string]bool
}

func (z *zoneIndex) add(rrs []dns.RR) {
	if z.byName == nil {
		z.byName, z.exists = map[string][]dns.RR{}, map[string]bool{}
	}
	for _, rr := range rrs {
		n := strings.ToLower(rr.Header().Name)
		z.byName[n] = append(z.byName[n], rr)
		for {
			z.exists[n] = true
			_, parent, ok := strings.Cut(n, ".")
			if !ok || parent == "" {
				break
			}
			n = parent
		}
	}
}

// answer finds the records for q, following CNAMEs (up to 8), and says
// NXDOMAIN when no record has the name or a name below it.
func answer(z *zoneIndex, q dns.Question) ([]dns.RR, int) {
	name := strings.ToLower(q.Name)
	var out []dns.RR
	for range 8 {
		var cname *dns.CNAME
		found := false
		for _, rr := range z.byName[name] {
			if rr.Header().Rrtype == q.Qtype {
				out = append(out, dns.Copy(rr))
				found = true
			} else if c, ok := rr.(*dns.CNAME); ok && q.Qtype != dns.TypeCNAME {
				cname = c
			}
		}
		if found || cname == nil {
			break
		}
		out = append(out, dns.Copy(cname))
		name = strings.ToLower(cname.Target)
	}
	if len(out) > 0 || z.exists[strings.ToLower(q.Name)] {
		return out, dns.RcodeSuccess
	}
	return nil, dns.RcodeNameError
}
