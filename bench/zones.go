package bench

import (
	"fmt"
	"strings"
)

// Zone origins served by the benchmark NSD.
const (
	// ManyZone holds the generated domains d0.bench.test, d1.bench.test...
	ManyZone = "bench.test"
	// ReverseZone holds the PTR records of the generated MX hosts.
	ReverseZone = "10.in-addr.arpa"
	// SlowZone holds SlowDomain, whose MX hosts are 127.0.0.1-127.0.0.N.
	SlowZone = "slow.test"
	// SlowDomain is the domain whose every MX answers slowly.
	SlowDomain = "slow.test"
)

// ManyDomain returns the name of generated domain i ("d7.bench.test").
func ManyDomain(i int) string { return fmt.Sprintf("d%d.%s", i, ManyZone) }

// Zones returns the zone texts (origin to text) of n generated domains and
// of SlowDomain with slowHosts MX hosts. Each generated domain has two MX
// hosts (one IPv4 only, one dual-stack) whose PTR records confirm, an SPF
// record with one include and a DMARC record: what a typical small mail
// domain publishes, and the same data diag/mx's own benchmark uses.
func Zones(n, slowHosts int) map[string]string {
	var fwd, rev strings.Builder
	soa := "@ 300 IN SOA ns.%[1]s. hostmaster.%[1]s. 1 3600 600 86400 300\n@ 300 IN NS ns.%[1]s.\n"
	fmt.Fprintf(&fwd, soa, ManyZone)
	fmt.Fprintf(&fwd, "ns 300 IN A 127.0.0.1\n_spf 300 IN TXT \"v=spf1 ip4:10.0.0.0/8 -all\"\n")
	fmt.Fprintf(&rev, soa, ManyZone)
	for i := range n {
		d := ManyDomain(i) + "."
		a, c := i/250, i%250
		fmt.Fprintf(&fwd, "%s 300 IN MX 10 mx1.%s\n%s 300 IN MX 20 mx2.%s\n", d, d, d, d)
		fmt.Fprintf(&fwd, "mx1.%s 300 IN A 10.1.%d.%d\nmx2.%s 300 IN A 10.2.%d.%d\nmx2.%s 300 IN AAAA fd00::%x\n", d, a, c, d, a, c, d, i+1)
		fmt.Fprintf(&fwd, "%s 300 IN TXT \"v=spf1 mx include:_spf.%s. -all\"\n_dmarc.%s 300 IN TXT \"v=DMARC1; p=reject\"\n", d, ManyZone, d)
		fmt.Fprintf(&rev, "%d.%d.1 300 IN PTR mx1.%s\n%d.%d.2 300 IN PTR mx2.%s\n", c, a, d, c, a, d)
	}
	var slow strings.Builder
	fmt.Fprintf(&slow, soa, SlowZone)
	fmt.Fprintf(&slow, "ns 300 IN A 127.0.0.1\n")
	for i := 1; i <= slowHosts; i++ {
		fmt.Fprintf(&slow, "@ 300 IN MX %d mx%d\nmx%d 300 IN A 127.0.0.%d\n", 10*i, i, i, i)
	}
	return map[string]string{ManyZone: fwd.String(), ReverseZone: rev.String(), SlowZone: slow.String()}
}
