package mx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Type is a DNS record type number (RFC 1035 §3.2.2 and the IANA registry).
// The numbers are fixed by the protocol, not by the DNS library.
type Type uint16

// The record types mailflow asks for.
const (
	TypeA     Type = 1
	TypeNS    Type = 2
	TypeCNAME Type = 5
	TypePTR   Type = 12
	TypeMX    Type = 15
	TypeTXT   Type = 16
	TypeAAAA  Type = 28
	TypeTLSA  Type = 52
)

// String returns the mnemonic, e.g. "MX".
func (t Type) String() string {
	if s, ok := dns.TypeToString[uint16(t)]; ok {
		return s
	}
	return fmt.Sprintf("TYPE%d", uint16(t))
}

// Rcode values of RFC 1035 §4.1.1 that mailflow tells apart.
const (
	RcodeSuccess  = 0
	RcodeFormErr  = 1
	RcodeServFail = 2
	RcodeNXDomain = 3
	RcodeNotImp   = 4
	RcodeRefused  = 5
)

// Record is one resource record of an answer, in a form that does not
// depend on the DNS library.
type Record struct {
	// Name is the owner name, fully qualified, lower case.
	Name string
	// Type is the record type.
	Type Type
	// TTL is the time to live in seconds.
	TTL uint32
	// Pref is the MX preference.
	Pref uint16
	// Target is the MX exchange, CNAME target, PTR or NS name (fully
	// qualified).
	Target string
	// Addr is the A or AAAA address.
	Addr netip.Addr
	// Text is the TXT record's strings joined without separators, as
	// RFC 7208 §3.3 says SPF (and the other mail policy records) read
	// them.
	Text string
	// Data is the record in presentation form after the type (for TLSA:
	// "3 1 1 ABCD...").
	Data string
}

// Answer is what one server said about one question.
type Answer struct {
	// Name and Type are the question.
	Name string
	Type Type
	// Server is the HOST:PORT that answered.
	Server string
	// Rcode is the response code (RcodeSuccess, RcodeNXDomain, ...).
	Rcode int
	// AD is the Authenticated Data flag: the server says it validated the
	// answer with DNSSEC (RFC 4035 §3.2.3). Only meaningful from a
	// validating resolver the user trusts.
	AD bool
	// Authoritative is the AA flag.
	Authoritative bool
	// TCP is set when the answer came over TCP after a truncated UDP
	// answer.
	TCP bool
	// RTT is the round-trip time of the exchange that gave the answer.
	RTT time.Duration
	// Records is the answer section.
	Records []Record
}

// Of returns the answer records of type t whose owner is the question name
// or, after CNAMEs, its alias target.
func (a *Answer) Of(t Type) []Record {
	var out []Record
	for _, r := range a.Records {
		if r.Type == t {
			out = append(out, r)
		}
	}
	return out
}

// CNAME returns the first alias target for the question name, or "".
func (a *Answer) CNAME() string {
	for _, r := range a.Records {
		if r.Type == TypeCNAME && strings.EqualFold(r.Name, a.Name) {
			return r.Target
		}
	}
	return ""
}

// Resolver asks DNS one question. Query returns an Answer for every
// response it got, whatever its rcode (NXDOMAIN and SERVFAIL are answers),
// and an *Error of kind timeout, refused, servfail, network or no_resolver
// when no server gave a usable answer. Implementations must be safe for
// concurrent use and must return promptly when ctx is done.
type Resolver interface {
	Query(ctx context.Context, name string, t Type) (*Answer, error)
}

// Client is the Resolver built on github.com/miekg/dns.
type Client struct {
	// Servers are tried in order, HOST:PORT each.
	Servers []string
	// Timeout bounds each attempt (one UDP exchange, plus its TCP retry
	// when truncated). Zero means 2 s.
	Timeout time.Duration
	// Retries is the number of extra attempts per server after a timeout.
	Retries int
	// NoRecursion clears the RD bit, for asking an authoritative server
	// directly.
	NoRecursion bool

	poolOnce sync.Once
	pool     *udpPool
}

// Reuse of UDP sockets. A new socket per question costs a socket, a
// connect and a close system call (most of the system time of a batch of
// lookups). A socket goes back to the pool only after a clean exchange:
// one that timed out, was cancelled or failed is closed, so that a late
// answer can never be read as the answer to the next question (miekg also
// skips answers whose ID does not match, and the question is checked).
// Each socket serves at most maxSocketUses questions, so that the source
// port keeps changing as RFC 5452 §9.2 asks of resolvers (an off-path
// forger must guess the port as well as the ID).
const (
	maxSocketUses  = 100
	maxIdleSockets = 64 // per server
)

// udpPool holds the idle UDP sockets of a Client, per server.
type udpPool struct {
	mu   sync.Mutex
	idle map[string][]*pooledConn
}

type pooledConn struct {
	conn *dns.Conn
	uses int
}

func (c *Client) udpPool() *udpPool {
	c.poolOnce.Do(func() {
		p := &udpPool{idle: map[string][]*pooledConn{}}
		c.pool = p
		// A Client dropped without CloseIdle does not keep its sockets.
		runtime.AddCleanup(c, func(p *udpPool) { p.closeAll() }, p)
	})
	return c.pool
}

func (p *udpPool) get(server string) *pooledConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.idle[server]
	if len(list) == 0 {
		return nil
	}
	pc := list[len(list)-1]
	p.idle[server] = list[:len(list)-1]
	return pc
}

func (p *udpPool) put(server string, pc *pooledConn) {
	if pc.uses < maxSocketUses {
		p.mu.Lock()
		if len(p.idle[server]) < maxIdleSockets {
			p.idle[server] = append(p.idle[server], pc)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
	pc.conn.Close()
}

func (p *udpPool) closeAll() {
	p.mu.Lock()
	idle := p.idle
	p.idle = map[string][]*pooledConn{}
	p.mu.Unlock()
	for _, list := range idle {
		for _, pc := range list {
			pc.conn.Close()
		}
	}
}

// CloseIdle closes the UDP sockets the Client keeps for its next
// questions. The Client stays usable; later questions open new sockets.
func (c *Client) CloseIdle() { c.udpPool().closeAll() }

// DefaultResolvConf is where NewSystemClient looks for servers.
const DefaultResolvConf = "/etc/resolv.conf"

// NewSystemClient returns a Client for the name servers listed in a
// resolv.conf(5) file (DefaultResolvConf when path is ""). A missing file or
// one without nameserver lines gives an *Error of kind no_resolver, with a
// hint to name a server with --resolver.
func NewSystemClient(path string) (*Client, error) {
	if path == "" {
		path = DefaultResolvConf
	}
	cfg, err := dns.ClientConfigFromFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("%s does not exist", path)
		}
		return nil, &Error{Kind: KindNoResolver, Message: fmt.Sprintf("no system resolver (%v); name one with --resolver HOST:PORT", err), Err: err}
	}
	if len(cfg.Servers) == 0 {
		return nil, &Error{Kind: KindNoResolver, Message: fmt.Sprintf("no nameserver line in %s; name a server with --resolver HOST:PORT", path)}
	}
	c := &Client{Retries: 1}
	if cfg.Timeout > 0 {
		c.Timeout = time.Duration(cfg.Timeout) * time.Second
	}
	if cfg.Attempts > 1 {
		c.Retries = cfg.Attempts - 1
	}
	for _, s := range cfg.Servers {
		c.Servers = append(c.Servers, net.JoinHostPort(s, cfg.Port))
	}
	return c, nil
}

// NewClient returns a Client for the given servers (HOST:PORT each).
func NewClient(servers ...string) *Client {
	return &Client{Servers: servers, Retries: 1}
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 2 * time.Second
}

// Query implements Resolver. Servers are tried in order; a server that
// times out (after Retries more attempts), fails at the network level,
// answers SERVFAIL or REFUSED is skipped for the next one. The last
// failure is returned when none answers well; a SERVFAIL or REFUSED
// response is then returned with the error so the caller still sees who
// said what.
func (c *Client) Query(ctx context.Context, name string, t Type) (*Answer, error) {
	if len(c.Servers) == 0 {
		return nil, &Error{Kind: KindNoResolver, Name: name, Type: t.String(), Message: "no DNS server to ask; name one with --resolver HOST:PORT"}
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), uint16(t))
	m.RecursionDesired = !c.NoRecursion
	// RFC 6840 §5.7: setting AD in a query asks for the AD bit in the
	// answer without needing DO, but DO also brings RRSIGs, which tells a
	// validating resolver we care (RFC 3225).
	m.AuthenticatedData = true
	m.SetEdns0(4096, true)

	var last error
	var lastAns *Answer
	for _, server := range c.Servers {
		for attempt := 0; attempt <= c.Retries; attempt++ {
			if err := ctx.Err(); err != nil {
				return nil, ctxError(err, name, t, server)
			}
			ans, err := c.exchange(ctx, m, server)
			if err != nil {
				last = err
				var e *Error
				if errors.As(err, &e) && e.Kind == KindTimeout && ctx.Err() == nil {
					continue // retry this server
				}
				if ctx.Err() != nil {
					return nil, ctxError(ctx.Err(), name, t, server)
				}
				break // network error: next server
			}
			switch ans.Rcode {
			case RcodeServFail:
				lastAns, last = ans, &Error{Kind: KindServFail, Name: name, Type: t.String(), Server: server,
					Message: "the server could not answer (SERVFAIL): often a DNSSEC validation failure or a broken or unreachable authoritative server"}
			case RcodeRefused:
				lastAns, last = ans, &Error{Kind: KindRefused, Name: name, Type: t.String(), Server: server,
					Message: "the server refused to answer (REFUSED): it does not serve this name or does not recurse for you"}
			default:
				return ans, nil
			}
			break // SERVFAIL/REFUSED: next server
		}
	}
	return lastAns, last
}

// exchange does one UDP exchange and, if the answer is truncated, one TCP
// exchange, within one attempt's timeout.
func (c *Client) exchange(ctx context.Context, m *dns.Msg, server string) (*Answer, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	name, t := m.Question[0].Name, Type(m.Question[0].Qtype)
	r, rtt, err := exchangeOnce(actx, m, server, "udp", c.udpPool())
	tcp := false
	if err == nil && r.Truncated {
		// RFC 7766 §5: a truncated UDP answer must be retried over TCP.
		r, rtt, err = exchangeOnce(actx, m, server, "tcp", nil)
		tcp = true
	}
	if err != nil {
		if actx.Err() != nil && ctx.Err() == nil {
			return nil, &Error{Kind: KindTimeout, Name: name, Type: t.String(), Server: server,
				Message: fmt.Sprintf("no answer within %v", c.timeout()), Err: err}
		}
		if ctx.Err() != nil {
			return nil, ctxError(ctx.Err(), name, t, server)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, &Error{Kind: KindTimeout, Name: name, Type: t.String(), Server: server,
				Message: fmt.Sprintf("no answer within %v", c.timeout()), Err: err}
		}
		return nil, &Error{Kind: KindNetwork, Name: name, Type: t.String(), Server: server, Message: err.Error(), Err: err}
	}
	ans := &Answer{
		Name: strings.ToLower(name), Type: t, Server: server, Rcode: r.Rcode, AD: r.AuthenticatedData,
		Authoritative: r.Authoritative, TCP: tcp, RTT: rtt,
	}
	for _, rr := range r.Answer {
		ans.Records = append(ans.Records, convert(rr))
	}
	return ans, nil
}

// exchangeOnce is miekg's exchange with a socket that is closed as soon as
// ctx is done: ExchangeContext only turns the deadline into socket
// deadlines and would otherwise ignore a cancellation. With a pool (UDP)
// the socket is taken from it and given back after a clean exchange.
func exchangeOnce(ctx context.Context, m *dns.Msg, server, network string, pool *udpPool) (*dns.Msg, time.Duration, error) {
	dc := &dns.Client{Net: network, UDPSize: 4096}
	if dl, ok := ctx.Deadline(); ok {
		dc.Timeout = time.Until(dl)
	}
	var pc *pooledConn
	if pool != nil {
		pc = pool.get(server)
	}
	if pc == nil {
		conn, err := dc.DialContext(ctx, server)
		if err != nil {
			return nil, 0, err
		}
		pc = &pooledConn{conn: conn}
	}
	pc.uses++
	stop := context.AfterFunc(ctx, func() { pc.conn.Close() })
	r, rtt, err := dc.ExchangeWithConnContext(ctx, m, pc.conn)
	interrupted := !stop() // the socket was closed by the cancellation
	if err == nil && !sameQuestion(m, r) {
		err = fmt.Errorf("the answer from %s is for another question (%s)", server, r.Question[0].String())
	}
	if pool != nil && err == nil && !interrupted {
		pool.put(server, pc)
	} else {
		pc.conn.Close()
	}
	if err != nil && ctx.Err() != nil {
		return nil, rtt, fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return r, rtt, err
}

// sameQuestion checks that an answer (whose ID matched) repeats the
// question (RFC 5452 §9.1: ID, question and address must all match). An
// answer without a question section is taken: some servers send their
// errors so.
func sameQuestion(m, r *dns.Msg) bool {
	if len(r.Question) == 0 {
		return true
	}
	q, a := m.Question[0], r.Question[0]
	return len(r.Question) == 1 && q.Qtype == a.Qtype && q.Qclass == a.Qclass && strings.EqualFold(q.Name, a.Name)
}

func ctxError(err error, name string, t Type, server string) error {
	kind := KindTimeout
	msg := "deadline reached before an answer"
	if errors.Is(err, context.Canceled) {
		kind, msg = KindCanceled, "cancelled"
	}
	return &Error{Kind: kind, Name: name, Type: t.String(), Server: server, Message: msg, Err: err}
}

// convert copies what mailflow needs out of a miekg record.
func convert(rr dns.RR) Record {
	h := rr.Header()
	rec := Record{Name: strings.ToLower(h.Name), Type: Type(h.Rrtype), TTL: h.Ttl}
	switch v := rr.(type) {
	case *dns.A:
		rec.Addr, _ = netip.AddrFromSlice(v.A.To4())
	case *dns.AAAA:
		rec.Addr, _ = netip.AddrFromSlice(v.AAAA.To16())
	case *dns.MX:
		rec.Pref, rec.Target = v.Preference, strings.ToLower(v.Mx)
	case *dns.CNAME:
		rec.Target = strings.ToLower(v.Target)
	case *dns.PTR:
		rec.Target = strings.ToLower(v.Ptr)
	case *dns.NS:
		rec.Target = strings.ToLower(v.Ns)
	case *dns.TXT:
		var b strings.Builder
		for _, t := range v.Txt {
			b.WriteString(unescapeTXT(t))
		}
		rec.Text = b.String()
	}
	rec.Data = strings.TrimPrefix(rr.String(), h.String())
	return rec
}

// unescapeTXT undoes miekg's presentation escapes in a TXT string ("\\DDD"
// for a byte, "\\X" for a character), so that Text holds the bytes that
// were on the wire. Whoever displays Text must sanitise it.
func unescapeTXT(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			n := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
			if n < 256 {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
