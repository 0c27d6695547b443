package mx_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailflow/mailflow/diag/mx"
	"github.com/mailflow/mailflow/internal/realpeers"
)

func TestMain(m *testing.M) { os.Exit(realpeers.Main(m)) }

const soa = "@ 300 IN SOA ns1.mail.test. hostmaster.mail.test. 1 3600 600 86400 300\n@ 300 IN NS ns1.mail.test.\n"

// nsdZones are served by a real NSD: a healthy domain whose second MX is
// at 127.0.0.2 where nothing listens (DNS still says it is fine), a domain
// without MX, a null-MX domain, an MX that is a CNAME, SPF with too many
// lookups, DMARC, and the 127.in-addr.arpa reverse zone.
var nsdZones = map[string]string{
	"mail.test": soa + `
ns1 300 IN A 127.0.0.1
@ 300 IN MX 10 mx1
@ 300 IN MX 20 mx2
mx1 300 IN A 127.0.0.1
mx2 300 IN A 127.0.0.2
@ 300 IN TXT "v=spf1 include:s1.mail.test include:s2.mail.test a mx ptr -all"
s1 300 IN TXT "v=spf1 a mx exists:x.mail.test include:s2.mail.test ~all"
s2 300 IN TXT "v=spf1 a mx ip4:127.0.0.0/8 ~all"
_dmarc 300 IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@mail.test"
`,
	"nomx.test":   soa + "@ 300 IN A 127.0.0.3\n",
	"nullmx.test": soa + "@ 300 IN MX 0 .\n",
	"alias.test":  soa + "@ 300 IN MX 10 mail\nmail 300 IN CNAME real\nreal 300 IN A 127.0.0.4\n",
	"127.in-addr.arpa": "@ 300 IN SOA ns1.mail.test. hostmaster.mail.test. 1 3600 600 86400 300\n@ 300 IN NS ns1.mail.test.\n" +
		"1.0.0 300 IN PTR mx1.mail.test.\n2.0.0 300 IN PTR mx2.mail.test.\n4.0.0 300 IN PTR elsewhere.test.\n",
}

func TestRealNSD(t *testing.T) {
	d := realpeers.NSD(t, nsdZones)
	c := mx.NewClient(d.Addr)
	c.Timeout = 2 * time.Second
	look := func(domain string) *mx.Picture {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p, err := mx.Lookup(ctx, domain, mx.Options{Resolver: c})
		if p == nil {
			t.Fatalf("Lookup(%s) error = %v", domain, err)
		}
		return p
	}

	t.Run("healthy", func(t *testing.T) {
		p := look("mail.test")
		if !p.CanReceive || len(p.MX) != 2 || p.MX[0].Host != "mx1.mail.test" || p.MX[1].Host != "mx2.mail.test" {
			t.Fatalf("picture = %+v", p)
		}
		if got := p.MX[1].Addresses; len(got) != 1 || got[0].String() != "127.0.0.2" {
			t.Errorf("mx2 addresses = %v", got)
		}
		for _, h := range p.MX {
			a := h.Addresses[0].String()
			if !h.FCrDNS[a] || !slices.Equal(h.PTR[a], []string{h.Host}) {
				t.Errorf("%s: PTR %v FCrDNS %v", h.Host, h.PTR, h.FCrDNS)
			}
		}
		if hasProblem(p.AllProblems(), "mx_loopback") {
			t.Errorf("loopback flagged in a .test domain")
		}
		spf := p.Records.SPF
		// top 5 (2 include, a, mx, ptr) + s1 4 (a, mx, exists, include) + s2 2 + s2 again 2 = 13
		if spf.Lookups != 13 || !hasProblem(spf.Problems, "spf_too_many_lookups") {
			t.Errorf("SPF = %+v", spf)
		}
		if p.Records.DMARC.Policy != "quarantine" || !strings.Contains(p.Records.DMARC.Verdict, "rua=mailto:dmarc@mail.test") {
			t.Errorf("DMARC = %+v", p.Records.DMARC)
		}
		if p.AD {
			t.Errorf("AD set by an authoritative-only server")
		}
	})
	t.Run("no MX", func(t *testing.T) {
		p := look("nomx.test")
		if !p.ImplicitMX || !p.CanReceive || p.MX[0].Addresses[0].String() != "127.0.0.3" {
			t.Errorf("picture = %+v", p)
		}
	})
	t.Run("null MX", func(t *testing.T) {
		p := look("nullmx.test")
		if !p.NullMX || p.CanReceive {
			t.Errorf("picture = %+v", p)
		}
	})
	t.Run("CNAME MX", func(t *testing.T) {
		p := look("alias.test")
		if !hasProblem(p.MX[0].Problems, "mx_cname") || p.MX[0].CNAME != "real.alias.test" {
			t.Errorf("MX[0] = %+v", p.MX[0])
		}
		if a := "127.0.0.4"; p.MX[0].FCrDNS[a] || !hasProblem(p.MX[0].Problems, "fcrdns_failed") {
			t.Errorf("FCrDNS for %s should fail: %+v", a, p.MX[0])
		}
	})
	t.Run("not served", func(t *testing.T) {
		p := look("elsewhere.example")
		if p.Error == nil || p.Error.Kind != mx.KindRefused || !p.Unreachable() {
			t.Errorf("picture error = %+v, want refused", p.Error)
		}
	})
}
