package bench

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestZones parses every generated zone and counts its records by type.
func TestZones(t *testing.T) {
	tests := []struct {
		origin string
		want   map[uint16]int
	}{
		{ManyZone, map[uint16]int{dns.TypeSOA: 1, dns.TypeNS: 1, dns.TypeMX: 6, dns.TypeA: 1 + 6, dns.TypeAAAA: 3, dns.TypeTXT: 1 + 6}},
		{ReverseZone, map[uint16]int{dns.TypeSOA: 1, dns.TypeNS: 1, dns.TypePTR: 6}},
		{SlowZone, map[uint16]int{dns.TypeSOA: 1, dns.TypeNS: 1, dns.TypeMX: 5, dns.TypeA: 1 + 5}},
	}
	zones := Zones(3, 5)
	if len(zones) != len(tests) {
		t.Fatalf("Zones() has %d zones, want %d", len(zones), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.origin, func(t *testing.T) {
			zp := dns.NewZoneParser(strings.NewReader(zones[tc.origin]), tc.origin+".", "")
			got := map[uint16]int{}
			for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
				got[rr.Header().Rrtype]++
				if !dns.IsSubDomain(tc.origin+".", rr.Header().Name) {
					t.Errorf("%s is outside %s", rr.Header().Name, tc.origin)
				}
			}
			if err := zp.Err(); err != nil {
				t.Fatal(err)
			}
			for typ, n := range tc.want {
				if got[typ] != n {
					t.Errorf("%d %s records, want %d", got[typ], dns.TypeToString[typ], n)
				}
			}
		})
	}
	if !strings.Contains(zones[ReverseZone], "PTR mx2.d2.bench.test.") {
		t.Errorf("reverse zone lacks the PTR of mx2.d2:\n%s", zones[ReverseZone])
	}
	if !strings.Contains(zones[SlowZone], "mx5 300 IN A 127.0.0.5") {
		t.Errorf("slow zone lacks mx5:\n%s", zones[SlowZone])
	}
}
