package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// zone and reverse zone the lab is authoritative for.
const (
	zone        = "lab.test."
	reverseZone = "127.in-addr.arpa."
	ttl         = 60
)

// startDNS binds UDP and TCP on the same port and serves the lab zones.
func startDNS(ctx context.Context, l *Lab, addr string) (*dnsServer, error) {
	var lastErr error
	// With port 0 the UDP port may be taken on TCP; try a few times.
	for range 10 {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, fmt.Errorf("lab: listen dns/udp on %s: %w", addr, err)
		}
		bound := pc.LocalAddr().String()
		ln, err := net.Listen("tcp", bound)
		if err != nil {
			pc.Close()
			lastErr = fmt.Errorf("lab: listen dns/tcp on %s: %w", bound, err)
			if _, port, _ := net.SplitHostPort(addr); port != "0" {
				return nil, lastErr
			}
			continue
		}
		d := &dnsServer{addr: bound}
		h := dns.HandlerFunc(l.serveDNS)
		d.udp = &dns.Server{PacketConn: pc, Handler: h}
		d.tcp = &dns.Server{Listener: ln, Handler: h}
		if err := d.run(ctx, l); err != nil {
			return nil, err
		}
		return d, nil
	}
	return nil, lastErr
}

// run starts both servers and waits until both are serving.
func (d *dnsServer) run(ctx context.Context, l *Lab) error {
	started := make(chan struct{}, 2)
	for _, s := range []*dns.Server{d.udp, d.tcp} {
		s.NotifyStartedFunc = func() { started <- struct{}{} }
		l.goServe(s.ActivateAndServe)
	}
	for range 2 {
		select {
		case <-started:
		case <-ctx.Done():
			return fmt.Errorf("lab: start dns: %w", ctx.Err())
		case <-time.After(10 * time.Second):
			return errors.New("lab: start dns: timed out")
		}
	}
	return nil
}

func (d *dnsServer) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, s := range []*dns.Server{d.udp, d.tcp} {
		if err := s.ShutdownContext(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lab: dns shutdown: %w", err)
	}
	return nil
}

// serveDNS answers from the zone of the active scenario.
func (l *Lab) serveDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	inZone := dns.IsSubDomain(zone, name)
	inReverse := dns.IsSubDomain(reverseZone, name)
	if !inZone && !inReverse {
		// Not authoritative, and the lab never recurses: tools must
		// fail at once instead of waiting for the internet.
		m.Rcode = dns.RcodeRefused
		w.WriteMsg(m)
		return
	}
	m.Authoritative = true
	origin := zone
	if inReverse {
		origin = reverseZone
	}
	records := l.zoneRecords(l.Scenario())
	exists := false
	for _, rr := range records {
		h := rr.Header()
		if h.Name != name {
			continue
		}
		exists = true
		if h.Rrtype == q.Qtype || q.Qtype == dns.TypeANY {
			m.Answer = append(m.Answer, rr)
		}
	}
	if len(m.Answer) == 0 {
		if !exists {
			m.Rcode = dns.RcodeNameError
		}
		// NXDOMAIN and NODATA carry the SOA for negative caching
		// (RFC 2308 section 3).
		m.Ns = append(m.Ns, soa(origin))
	}
	w.WriteMsg(m)
}

func soa(origin string) dns.RR {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: origin, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: ttl},
		Ns:      "ns.lab.test.",
		Mbox:    "hostmaster.lab.test.",
		Serial:  2024010101,
		Refresh: 3600, Retry: 600, Expire: 86400, Minttl: ttl,
	}
}

// zoneRecords builds both zones for a scenario. The zones are tiny, so
// building them per query keeps scenario switches trivially consistent.
func (l *Lab) zoneRecords(sc string) []dns.RR {
	hdr := func(name string, t uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
	}
	ip := net.ParseIP(hostOf(l.endpoints[epSMTP].addr))
	if ip == nil || ip.IsUnspecified() || ip.To4() == nil {
		ip = net.IPv4(127, 0, 0, 1)
	}
	ip = ip.To4()
	a := func(name string) dns.RR { return &dns.A{Hdr: hdr(name, dns.TypeA), A: ip} }
	mx := func(pref uint16, host string) dns.RR {
		return &dns.MX{Hdr: hdr(zone, dns.TypeMX), Preference: pref, Mx: host}
	}
	txt := func(name, text string) dns.RR { return &dns.TXT{Hdr: hdr(name, dns.TypeTXT), Txt: []string{text}} }

	spf := "v=spf1 ip4:127.0.0.0/8 -all"
	if sc == SPFFail {
		// The lab's own address is not among the permitted senders.
		spf = "v=spf1 ip4:192.0.2.0/24 -all"
	}
	rrs := []dns.RR{
		soa(zone),
		&dns.NS{Hdr: hdr(zone, dns.TypeNS), Ns: "ns.lab.test."},
		a(zone), a("ns.lab.test."), a("mx1.lab.test."), a("mx2.lab.test."), a("mail.lab.test."),
		txt(zone, spf),
		txt("_dmarc.lab.test.", "v=DMARC1; p=reject; rua=mailto:dmarc@lab.test"),
		soa(reverseZone),
		&dns.NS{Hdr: hdr(reverseZone, dns.TypeNS), Ns: "ns.lab.test."},
	}
	switch sc {
	case NullMX:
		rrs = append(rrs, mx(0, "."))
	case NoMX:
	default:
		rrs = append(rrs, mx(10, "mx1.lab.test."), mx(20, "mx2.lab.test."))
	}
	if sc == Blocklisted {
		// A DNSBL entry for the lab address, the way real lists publish
		// them: the reversed IP under the list's zone.
		rev := reverseIP(ip) + ".bl.lab.test."
		rrs = append(rrs, &dns.A{Hdr: hdr(rev, dns.TypeA), A: net.IPv4(127, 0, 0, 2)},
			txt(rev, "Listed on the fictional bl.lab.test blocklist; see http://bl.lab.test/query/"+ip.String()))
	}
	ptr, _ := dns.ReverseAddr(ip.String())
	rrs = append(rrs, &dns.PTR{Hdr: hdr(ptr, dns.TypePTR), Ptr: "mx1.lab.test."})
	if !ip.Equal(net.IPv4(127, 0, 0, 1)) {
		ptr1, _ := dns.ReverseAddr("127.0.0.1")
		rrs = append(rrs, &dns.PTR{Hdr: hdr(ptr1, dns.TypePTR), Ptr: "localhost."})
	}
	return rrs
}

func reverseIP(ip net.IP) string {
	v4 := ip.To4()
	return fmt.Sprintf("%d.%d.%d.%d", v4[3], v4[2], v4[1], v4[0])
}
