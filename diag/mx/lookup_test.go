package mx_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailflow/mailflow/diag/mx"
	"github.com/mailflow/mailflow/diag/mx/mxtest"
)

// baseZone is a healthy domain with two MX of equal preference and a
// backup, PTRs, SPF, DMARC, MTA-STS and TLS-RPT.
const baseZone = `
good.test. 300 IN MX 10 mx1.good.test.
good.test. 300 IN MX 10 mx2.good.test.
good.test. 300 IN MX 20 backup.good.test.
mx1.good.test. 300 IN A 192.0.2.1
mx1.good.test. 300 IN AAAA 2001:db8::1
mx2.good.test. 300 IN A 192.0.2.2
backup.good.test. 300 IN A 192.0.2.3
1.2.0.192.in-addr.arpa. 300 IN PTR mx1.good.test.
2.2.0.192.in-addr.arpa. 300 IN PTR somewhere.else.test.
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 300 IN PTR mx1.good.test.
good.test. 300 IN TXT "v=spf1 mx a:mail.good.test ip4:192.0.2.0/24 -all"
good.test. 300 IN TXT "google-site-verification=abc"
_dmarc.good.test. 300 IN TXT "v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@good.test"
_mta-sts.good.test. 300 IN TXT "v=STSv1; id=20240101"
_smtp._tls.good.test. 300 IN TXT "v=TLSRPTv1; rua=mailto:tls@good.test"
_25._tcp.mx1.good.test. 300 IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
`

func lookup(t *testing.T, s *mxtest.Server, domain string, opt ...func(*mx.Options)) (*mx.Picture, error) {
	t.Helper()
	c := mx.NewClient(s.Addr)
	c.Timeout = 2 * time.Second
	o := mx.Options{Resolver: c}
	for _, f := range opt {
		f(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return mx.Lookup(ctx, domain, o)
}

func hasProblem(ps []mx.Problem, code string) bool {
	return slices.ContainsFunc(ps, func(p mx.Problem) bool { return p.Code == code })
}

func codes(ps []mx.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Code)
	}
	return out
}

func TestLookupHealthy(t *testing.T) {
	s := mxtest.Start(t, baseZone)
	p, err := lookup(t, s, "Good.Test.")
	if err != nil {
		t.Fatalf("Lookup() error = %v", err)
	}
	if !p.CanReceive || p.ImplicitMX || p.NullMX || p.Error != nil {
		t.Fatalf("picture = %+v, want a healthy domain", p)
	}
	var got []string
	for _, h := range p.MX {
		got = append(got, h.Host)
	}
	if want := []string{"mx1.good.test", "mx2.good.test", "backup.good.test"}; !slices.Equal(got, want) {
		t.Errorf("MX order = %v, want %v", got, want)
	}
	mx1 := p.MX[0]
	if want := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}; !slices.Equal(mx1.Addresses, want) {
		t.Errorf("mx1 addresses = %v, want %v", mx1.Addresses, want)
	}
	if !mx1.FCrDNS["192.0.2.1"] || !mx1.FCrDNS["2001:db8::1"] {
		t.Errorf("mx1 FCrDNS = %v, want both confirmed", mx1.FCrDNS)
	}
	if got := p.MX[1].PTR["192.0.2.2"]; !slices.Equal(got, []string{"somewhere.else.test"}) {
		t.Errorf("mx2 PTR = %v", got)
	}
	if p.MX[1].FCrDNS["192.0.2.2"] || !hasProblem(p.MX[1].Problems, "fcrdns_failed") {
		t.Errorf("mx2 should fail FCrDNS: %v %v", p.MX[1].FCrDNS, codes(p.MX[1].Problems))
	}
	if !hasProblem(p.MX[2].Problems, "no_ptr") {
		t.Errorf("backup should have no_ptr, got %v", codes(p.MX[2].Problems))
	}
	if !hasProblem(p.Problems, "equal_preference") {
		t.Errorf("equal preferences not noted: %v", codes(p.Problems))
	}
	if hasProblem(p.AllProblems(), "mx_loopback") || hasProblem(p.AllProblems(), "mx_private") {
		t.Errorf("unexpected address problems: %v", codes(p.AllProblems()))
	}
	r := p.Records
	if !r.SPF.Found || r.SPF.Lookups != 2 || r.SPF.All != "-" || !strings.HasPrefix(r.SPF.Verdict, "ok: 2 of 10") {
		t.Errorf("SPF = %+v", r.SPF)
	}
	if r.DMARC.Policy != "reject" || r.DMARC.SubdomainPolicy != "quarantine" || !slices.Equal(r.DMARC.RUA, []string{"mailto:dmarc@good.test"}) {
		t.Errorf("DMARC = %+v", r.DMARC)
	}
	if !r.MTASTS.Found || r.MTASTS.Tags["id"] != "20240101" || !strings.HasPrefix(r.MTASTS.Verdict, "id=20240101") {
		t.Errorf("MTA-STS = %+v", r.MTASTS)
	}
	if !r.TLSRPT.Found || r.TLSRPT.Verdict != "rua=mailto:tls@good.test" {
		t.Errorf("TLS-RPT = %+v", r.TLSRPT)
	}
	if tl := r.TLSA["mx1.good.test"]; !tl.Found || len(tl.Records) != 1 || !strings.HasPrefix(tl.Records[0], "3 1 1 0123") || tl.AD {
		t.Errorf("TLSA mx1 = %+v", tl)
	}
	if tl := r.TLSA["mx2.good.test"]; tl.Found || tl.Verdict != "none (no DANE)" {
		t.Errorf("TLSA mx2 = %+v", tl)
	}
	targets := p.Targets()
	if len(targets) != 3 || targets[0].Host != "mx1.good.test" || targets[2].Preference != 20 || len(targets[0].Addresses) != 2 {
		t.Errorf("Targets() = %+v", targets)
	}
	if p.Server != s.Addr {
		t.Errorf("Server = %q, want %q", p.Server, s.Addr)
	}
}

func TestLookupCases(t *testing.T) {
	tests := []struct {
		name       string
		zone       string
		setup      func(*mxtest.Server)
		domain     string
		canReceive bool
		implicit   bool
		null       bool
		errKind    mx.Kind
		problems   []string // codes that must appear (domain or hosts)
		check      func(*testing.T, *mx.Picture)
	}{
		{
			name:       "implicit MX",
			zone:       "nomx.test. 300 IN A 192.0.2.9\n",
			domain:     "nomx.test",
			canReceive: true, implicit: true,
			problems: []string{"implicit_mx"},
			check: func(t *testing.T, p *mx.Picture) {
				if len(p.MX) != 1 || p.MX[0].Host != "nomx.test" || !p.MX[0].Implicit {
					t.Errorf("MX = %+v, want the domain itself", p.MX)
				}
				if tg := p.Targets(); len(tg) != 1 || !tg[0].Implicit || tg[0].Addresses[0].String() != "192.0.2.9" {
					t.Errorf("Targets() = %+v", tg)
				}
			},
		},
		{
			name:     "no MX and no address",
			zone:     "bare.test. 300 IN TXT \"hello\"\n",
			domain:   "bare.test",
			implicit: true,
			problems: []string{"implicit_mx", "implicit_mx_no_address", "no_mail_host"},
		},
		{
			name:   "null MX",
			zone:   "nullmx.test. 300 IN MX 0 .\n",
			domain: "nullmx.test",
			null:   true,
			check: func(t *testing.T, p *mx.Picture) {
				if len(p.MX) != 0 || p.Targets() != nil {
					t.Errorf("null MX picture has hosts: %+v", p.MX)
				}
			},
		},
		{
			name:       "null MX mixed with others",
			zone:       "mixed.test. 300 IN MX 0 .\nmixed.test. 300 IN MX 10 mx.mixed.test.\nmx.mixed.test. 300 IN A 192.0.2.5\n",
			domain:     "mixed.test",
			canReceive: true,
			problems:   []string{"null_mx_mixed"},
		},
		{
			name:       "CNAME target",
			zone:       "cn.test. 300 IN MX 10 alias.cn.test.\nalias.cn.test. 300 IN CNAME real.cn.test.\nreal.cn.test. 300 IN A 192.0.2.7\n",
			domain:     "cn.test",
			canReceive: true,
			problems:   []string{"mx_cname"},
			check: func(t *testing.T, p *mx.Picture) {
				if p.MX[0].CNAME != "real.cn.test" || len(p.MX[0].Addresses) != 1 {
					t.Errorf("MX[0] = %+v", p.MX[0])
				}
			},
		},
		{
			name:     "IP literal target",
			zone:     "lit.test. 300 IN MX 10 192.0.2.8.\n",
			domain:   "lit.test",
			problems: []string{"mx_ip_literal", "host_unresolvable", "no_mail_host"},
			check: func(t *testing.T, p *mx.Picture) {
				if !p.MX[0].IPLiteral {
					t.Errorf("IPLiteral not set: %+v", p.MX[0])
				}
			},
		},
		{
			name:       "one host does not resolve",
			zone:       "half.test. 300 IN MX 10 gone.half.test.\nhalf.test. 300 IN MX 20 ok.half.test.\nok.half.test. 300 IN A 192.0.2.10\n",
			domain:     "half.test",
			canReceive: true,
			problems:   []string{"host_unresolvable"},
			check: func(t *testing.T, p *mx.Picture) {
				if p.MX[0].Error == nil || p.MX[0].Error.Kind != mx.KindNXDomain {
					t.Errorf("gone host error = %+v", p.MX[0].Error)
				}
			},
		},
		{
			name:    "NXDOMAIN",
			zone:    "other.test. 300 IN A 192.0.2.1\n",
			domain:  "missing.test",
			errKind: mx.KindNXDomain,
		},
		{
			name:     "SERVFAIL",
			zone:     "sf.test. 300 IN A 192.0.2.1\n",
			setup:    func(s *mxtest.Server) { s.Rcode("sf.test", dns.TypeMX, dns.RcodeServerFailure) },
			domain:   "sf.test",
			errKind:  mx.KindServFail,
			problems: []string{"servfail"},
			check: func(t *testing.T, p *mx.Picture) {
				if !strings.Contains(p.Error.Message, "DNSSEC") {
					t.Errorf("SERVFAIL message does not mention DNSSEC: %q", p.Error.Message)
				}
			},
		},
		{
			name:    "REFUSED",
			zone:    "rf.test. 300 IN A 192.0.2.1\n",
			setup:   func(s *mxtest.Server) { s.Rcode("rf.test", 0, dns.RcodeRefused) },
			domain:  "rf.test",
			errKind: mx.KindRefused,
		},
		{
			name:       "loopback in a public domain",
			zone:       "pub.example-mail.net. 300 IN MX 10 mx.pub.example-mail.net.\nmx.pub.example-mail.net. 300 IN A 127.0.0.1\nmx.pub.example-mail.net. 300 IN AAAA fd00::1\n",
			domain:     "pub.example-mail.net",
			canReceive: true,
			problems:   []string{"mx_loopback", "mx_private"},
		},
		{
			name:       "loopback in a lab domain is fine",
			zone:       "lab.test. 300 IN MX 10 mx.lab.test.\nmx.lab.test. 300 IN A 127.0.0.1\n",
			domain:     "lab.test",
			canReceive: true,
			check: func(t *testing.T, p *mx.Picture) {
				if hasProblem(p.AllProblems(), "mx_loopback") {
					t.Errorf("loopback flagged in lab.test")
				}
			},
		},
		{
			name:       "IDN domain",
			zone:       "xn--bcher-kva.test. 300 IN MX 10 mx.xn--bcher-kva.test.\nmx.xn--bcher-kva.test. 300 IN A 192.0.2.11\n",
			domain:     "BÜCHER.test",
			canReceive: true,
			check: func(t *testing.T, p *mx.Picture) {
				if p.Domain != "bücher.test" || p.ASCIIDomain != "xn--bcher-kva.test" || p.MX[0].HostUnicode != "mx.bücher.test" {
					t.Errorf("forms = %q %q %q", p.Domain, p.ASCIIDomain, p.MX[0].HostUnicode)
				}
			},
		},
		{
			name:       "truncated UDP retried over TCP",
			zone:       "tc.test. 300 IN MX 10 mx.tc.test.\nmx.tc.test. 300 IN A 192.0.2.12\n",
			setup:      func(s *mxtest.Server) { s.TruncateUDP(true) },
			domain:     "tc.test",
			canReceive: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mxtest.Start(t, tt.zone)
			if tt.setup != nil {
				tt.setup(s)
			}
			p, err := lookup(t, s, tt.domain)
			if p == nil {
				t.Fatalf("Lookup() = nil picture, error %v", err)
			}
			if got := mx.KindOf(err); got != tt.errKind {
				t.Errorf("error kind = %q (%v), want %q", got, err, tt.errKind)
			}
			if tt.errKind != "" && (p.Error == nil || p.Error.Kind != tt.errKind) {
				t.Errorf("picture error = %+v, want kind %q", p.Error, tt.errKind)
			}
			if p.CanReceive != tt.canReceive || p.ImplicitMX != tt.implicit || p.NullMX != tt.null {
				t.Errorf("CanReceive/Implicit/Null = %v/%v/%v, want %v/%v/%v (verdict %q)",
					p.CanReceive, p.ImplicitMX, p.NullMX, tt.canReceive, tt.implicit, tt.null, p.Verdict)
			}
			all := p.AllProblems()
			for _, c := range tt.problems {
				if !hasProblem(all, c) {
					t.Errorf("problem %q missing; got %v", c, codes(all))
				}
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

func TestTruncationUsesTCP(t *testing.T) {
	s := mxtest.Start(t, "tc.test. 300 IN MX 10 mx.tc.test.\nmx.tc.test. 300 IN A 192.0.2.12\n")
	s.TruncateUDP(true)
	c := mx.NewClient(s.Addr)
	ans, err := c.Query(context.Background(), "tc.test.", mx.TypeMX)
	if err != nil {
		t.Fatalf("Query() error = %v", err)
	}
	if !ans.TCP || len(ans.Of(mx.TypeMX)) != 1 {
		t.Errorf("answer = %+v, want one MX over TCP", ans)
	}
	if s.Queries("udp", "tc.test", dns.TypeMX) != 1 || s.Queries("tcp", "tc.test", dns.TypeMX) != 1 {
		t.Errorf("queries udp=%d tcp=%d, want 1 each", s.Queries("udp", "tc.test", dns.TypeMX), s.Queries("tcp", "tc.test", dns.TypeMX))
	}
}

func TestNoData(t *testing.T) {
	s := mxtest.Start(t, "nd.test. 300 IN A 192.0.2.1\n")
	c := mx.NewClient(s.Addr)
	ans, err := c.Query(context.Background(), "nd.test.", mx.TypeTXT)
	if err != nil || ans.Rcode != mx.RcodeSuccess || len(ans.Records) != 0 {
		t.Fatalf("Query() = %+v, %v; want an empty NOERROR answer", ans, err)
	}
	ans, err = c.Query(context.Background(), "nope.nd.test.", mx.TypeTXT)
	if err != nil || ans.Rcode != mx.RcodeNXDomain {
		t.Fatalf("Query() = %+v, %v; want NXDOMAIN", ans, err)
	}
}

func TestTimeout(t *testing.T) {
	s := mxtest.Start(t, "slow.test. 300 IN MX 10 mx.slow.test.\n")
	s.Silence("slow.test", 0)
	c := mx.NewClient(s.Addr)
	c.Timeout, c.Retries = 150*time.Millisecond, 1
	start := time.Now()
	_, err := c.Query(context.Background(), "slow.test.", mx.TypeMX)
	if mx.KindOf(err) != mx.KindTimeout {
		t.Fatalf("Query() error = %v, want kind timeout", err)
	}
	// Two attempts of 150 ms: generous bound, only to prove it ended.
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("Query took %v after its timeout", el)
	}
	if got := s.Queries("udp", "slow.test", dns.TypeMX); got != 2 {
		t.Errorf("attempts = %d, want 2 (1 retry)", got)
	}

	// Through Lookup: the whole picture reports the timeout.
	p, err := mx.Lookup(context.Background(), "slow.test", mx.Options{Resolver: c})
	if mx.KindOf(err) != mx.KindTimeout || p.Error == nil || !p.Unreachable() {
		t.Errorf("Lookup() = %+v, %v; want an unreachable timeout picture", p, err)
	}
}

func TestCancelEndsQuery(t *testing.T) {
	s := mxtest.Start(t, "slow.test. 300 IN MX 10 mx.slow.test.\n")
	s.Silence("slow.test", 0)
	c := mx.NewClient(s.Addr)
	c.Timeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Query(ctx, "slow.test.", mx.TypeMX)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if mx.KindOf(err) != mx.KindCanceled || !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Query did not end after cancel")
	}
}

func TestServerFallback(t *testing.T) {
	bad := mxtest.Start(t, "x.test. 300 IN A 192.0.2.1\n")
	bad.Rcode("fb.test", 0, dns.RcodeRefused)
	good := mxtest.Start(t, "fb.test. 300 IN MX 10 mx.fb.test.\n")
	c := mx.NewClient(bad.Addr, good.Addr)
	ans, err := c.Query(context.Background(), "fb.test.", mx.TypeMX)
	if err != nil || ans.Server != good.Addr {
		t.Fatalf("Query() = %+v, %v; want the answer of the second server", ans, err)
	}
	// Both refuse: the error says refused and the last answer is kept.
	c = mx.NewClient(bad.Addr, bad.Addr)
	ans, err = c.Query(context.Background(), "fb.test.", mx.TypeMX)
	if mx.KindOf(err) != mx.KindRefused || ans == nil || ans.Rcode != mx.RcodeRefused {
		t.Errorf("Query() = %+v, %v; want refused", ans, err)
	}
}

func TestBadInputAsksNothing(t *testing.T) {
	s := mxtest.Start(t, "")
	for _, in := range []string{"", "exa mple.com", "192.0.2.1", "a\r\nb.test", "-x.test"} {
		p, err := lookup(t, s, in)
		if p != nil || mx.KindOf(err) != mx.KindBadInput {
			t.Errorf("Lookup(%q) = %v, %v; want bad_input", in, p, err)
		}
	}
	if n := s.Queries("udp", "exa mple.com", dns.TypeMX); n != 0 {
		t.Errorf("a query was sent for bad input")
	}
}

func TestNoResolver(t *testing.T) {
	_, err := mx.NewSystemClient(t.TempDir() + "/resolv.conf")
	if mx.KindOf(err) != mx.KindNoResolver || !strings.Contains(err.Error(), "--resolver") {
		t.Errorf("NewSystemClient(missing) error = %v, want no_resolver with a hint", err)
	}
}

func TestSPF(t *testing.T) {
	zone := `
many.test. 300 IN TXT "v=spf1 include:a.many.test include:b.many.test mx a ptr exists:x.many.test -all"
a.many.test. 300 IN TXT "v=spf1 include:c.many.test a mx ~all"
b.many.test. 300 IN TXT "v=spf1 a mx ip4:192.0.2.0/24 ~all"
c.many.test. 300 IN TXT "v=spf1 a mx -all"
loop.test. 300 IN TXT "v=spf1 include:l1.loop.test -all"
l1.loop.test. 300 IN TXT "v=spf1 include:l2.loop.test -all"
l2.loop.test. 300 IN TXT "v=spf1 include:loop.test -all"
two.test. 300 IN TXT "v=spf1 -all"
two.test. 300 IN TXT "v=spf1 mx -all"
dangling.test. 300 IN TXT "v=spf1 include:nothing.dangling.test redirect=also.test"
also.test. 300 IN TXT "v=spf1 ip4:192.0.2.1 +all"
`
	s := mxtest.Start(t, zone)
	tests := []struct {
		domain   string
		lookups  int
		verdict  string
		problems []string
	}{
		{"many.test", 13, "permerror: 13 DNS lookups, limit 10", []string{"spf_too_many_lookups"}},
		{"loop.test", 3, "permerror: spf_loop", []string{"spf_loop"}},
		{"two.test", 0, "permerror: more than one SPF record", []string{"spf_multiple"}},
		{"dangling.test", 2, "permerror: spf_include_invalid", []string{"spf_include_invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			p, _ := lookup(t, s, tt.domain)
			spf := p.Records.SPF
			if spf.Lookups != tt.lookups || spf.Verdict != tt.verdict {
				t.Errorf("SPF lookups=%d verdict=%q, want %d %q (followed %v, problems %v)",
					spf.Lookups, spf.Verdict, tt.lookups, tt.verdict, spf.Followed, codes(spf.Problems))
			}
			for _, c := range tt.problems {
				if !hasProblem(spf.Problems, c) || !hasProblem(p.Problems, c) {
					t.Errorf("problem %q missing: %v", c, codes(spf.Problems))
				}
			}
		})
	}
}

func TestDMARC(t *testing.T) {
	s := mxtest.Start(t, `
d1.test. 300 IN TXT "x"
_dmarc.d1.test. 300 IN TXT "v=DMARC1; p=none"
_dmarc.d2.test. 300 IN TXT "v=DMARC1; rua=mailto:a@d2.test"
_dmarc.d3.test. 300 IN TXT "v=DMARC1; p=reject"
_dmarc.d3.test. 300 IN TXT "v=DMARC1; p=none"
d4.test. 300 IN TXT "x"
`)
	tests := []struct {
		domain, policy, verdict, problem string
	}{
		{"d1.test", "none", "p=none: monitoring only, no rua", ""},
		{"d2.test", "", "invalid: no p= tag, rua=mailto:a@d2.test", "dmarc_no_policy"},
		{"d3.test", "", "invalid: more than one DMARC record", "dmarc_multiple"},
		{"d4.test", "", "none", "dmarc_missing"},
	}
	for _, tt := range tests {
		p, _ := lookup(t, s, tt.domain)
		d := p.Records.DMARC
		if d.Policy != tt.policy || d.Verdict != tt.verdict {
			t.Errorf("%s: DMARC policy=%q verdict=%q, want %q %q", tt.domain, d.Policy, d.Verdict, tt.policy, tt.verdict)
		}
		if tt.problem != "" && !hasProblem(d.Problems, tt.problem) {
			t.Errorf("%s: problem %q missing: %v", tt.domain, tt.problem, codes(d.Problems))
		}
	}
}

// TestConcurrency proves the lookups overlap: five hosts whose address
// answers each take 300 ms must not take five times that. The bound is
// loose on purpose (the speed goal is in BenchmarkSlowHosts).
func TestConcurrency(t *testing.T) {
	var zone strings.Builder
	for i := range 5 {
		h := "mx" + string(rune('a'+i)) + ".conc.test."
		zone.WriteString("conc.test. 300 IN MX 10 " + h + "\n" + h + " 300 IN A 192.0.2.1\n")
	}
	s := mxtest.Start(t, zone.String())
	for i := range 5 {
		s.Delay("mx"+string(rune('a'+i))+".conc.test", 0, 300*time.Millisecond)
	}
	start := time.Now()
	p, err := lookup(t, s, "conc.test")
	el := time.Since(start)
	if err != nil || len(p.MX) != 5 || !p.CanReceive {
		t.Fatalf("Lookup() = %+v, %v", p, err)
	}
	if el >= 5*300*time.Millisecond {
		t.Errorf("Lookup took %v: the five delayed hosts were looked up one after the other", el)
	}
}

func TestEvents(t *testing.T) {
	s := mxtest.Start(t, baseZone)
	var mu sync.Mutex
	var evs []mx.Event
	_, err := lookup(t, s, "good.test", func(o *mx.Options) {
		o.OnEvent = func(e mx.Event) { mu.Lock(); evs = append(evs, e); mu.Unlock() }
	})
	if err != nil {
		t.Fatal(err)
	}
	count := map[mx.EventKind]int{}
	for _, e := range evs {
		count[e.Kind]++
	}
	want := map[mx.EventKind]int{mx.EventMX: 1, mx.EventHost: 3, mx.EventPTR: 4, mx.EventRecord: 4 + 3, mx.EventDone: 1}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%d %s events, want %d (all: %v)", count[k], k, n, count)
		}
	}
	if last := evs[len(evs)-1]; last.Kind != mx.EventDone || last.Picture == nil || !last.Picture.CanReceive {
		t.Errorf("last event = %+v, want done with the picture", last)
	}
	// Host events come after the MX event.
	mxAt := slices.IndexFunc(evs, func(e mx.Event) bool { return e.Kind == mx.EventMX })
	hostAt := slices.IndexFunc(evs, func(e mx.Event) bool { return e.Kind == mx.EventHost })
	if hostAt < mxAt {
		t.Errorf("host event before the MX event")
	}
}

func TestStream(t *testing.T) {
	s := mxtest.Start(t, baseZone)
	n, done := 0, false
	for ev := range mx.Stream(context.Background(), "good.test", mx.Options{Resolver: mx.NewClient(s.Addr)}) {
		n++
		if ev.Kind == mx.EventDone {
			done = ev.Picture != nil && ev.Picture.CanReceive
		}
	}
	if !done || n < 5 {
		t.Errorf("stream gave %d events, done=%v", n, done)
	}
	evs := mx.Stream(context.Background(), "bad domain", mx.Options{Resolver: mx.NewClient(s.Addr)})
	ev := <-evs
	if ev.Kind != mx.EventDone || ev.Err == nil || ev.Err.Kind != mx.KindBadInput {
		t.Errorf("bad input event = %+v", ev)
	}
	if _, ok := <-evs; ok {
		t.Error("stream not closed after bad input")
	}
}

func TestSplitHorizon(t *testing.T) {
	s := mxtest.Start(t, `
split.test. 300 IN MX 10 mx.split.test.
split.test. 300 IN NS ns1.split.test.
ns1.split.test. 300 IN A 127.0.0.1
mx.split.test. 300 IN A 192.0.2.1
`)
	s.AuthView(t, "split.test. 300 IN MX 10 internal.split.test.\n")
	_, port, _ := strings.Cut(s.Addr, ":")
	var p *mx.Picture
	p, err := lookup(t, s, "split.test", func(o *mx.Options) {
		o.SplitHorizon = true
		o.AuthPort = atoi(port)
	})
	if err != nil {
		t.Fatal(err)
	}
	sh := p.SplitHorizon
	if sh == nil || !sh.Differs || len(sh.Servers) != 1 || !slices.Equal(sh.Servers[0].MX, []string{"10 internal.split.test"}) {
		t.Fatalf("SplitHorizon = %+v", sh)
	}
	if !hasProblem(p.Problems, "split_horizon") {
		t.Errorf("split_horizon problem missing: %v", codes(p.Problems))
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestJSONShape(t *testing.T) {
	s := mxtest.Start(t, baseZone)
	p, err := lookup(t, s, "good.test")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"domain", "ascii_domain", "mx", "implicit_mx", "null_mx", "records", "problems", "error"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	mx0 := m["mx"].([]any)[0].(map[string]any)
	for _, k := range []string{"preference", "host", "addresses", "ptr", "fcrdns", "problems"} {
		if _, ok := mx0[k]; !ok {
			t.Errorf("JSON mx entry lacks %q", k)
		}
	}
	recs := m["records"].(map[string]any)
	for _, k := range []string{"spf", "dmarc", "mta_sts", "tls_rpt", "tlsa"} {
		if _, ok := recs[k]; !ok {
			t.Errorf("JSON records lacks %q", k)
		}
	}
	if addrs := mx0["addresses"].([]any); addrs[0] != "192.0.2.1" {
		t.Errorf("addresses = %v", addrs)
	}
}

func TestTXTBytes(t *testing.T) {
	s := mxtest.Start(t, `esc.test. 300 IN TXT "a\"b\\c\027d" "e"`+"\n")
	ans, err := mx.NewClient(s.Addr).Query(context.Background(), "esc.test.", mx.TypeTXT)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ans.Records[0].Text, "a\"b\\c\x1bde"; got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
}

func TestLookupErrorText(t *testing.T) {
	s := mxtest.Start(t, "other.test. 300 IN A 192.0.2.1\n")
	_, err := lookup(t, s, "missing.test")
	if got := err.Error(); strings.Count(got, "mx: ") != 1 || !strings.Contains(got, "MX missing.test: nxdomain") {
		t.Errorf("error = %q", got)
	}
}
