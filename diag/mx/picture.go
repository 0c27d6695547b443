package mx

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Severity ranks a Problem.
type Severity string

// Severities, from worst to mildest.
const (
	SeverityError   Severity = "error"   // mail will not flow, or will fail for some senders
	SeverityWarning Severity = "warning" // works but is fragile or against a standard
	SeverityInfo    Severity = "info"    // worth knowing
)

// Problem is one finding about the domain or one of its hosts.
type Problem struct {
	// Code is a stable identifier such as "mx_cname" or "spf_too_many_lookups".
	Code string `json:"code"`
	// Severity ranks it.
	Severity Severity `json:"severity"`
	// Host is the MX host it concerns, or "" for the domain.
	Host string `json:"host,omitempty"`
	// Message explains it in a sentence.
	Message string `json:"message"`
}

// MXHost is one mail exchanger of the domain and what DNS says about it.
type MXHost struct {
	// Preference is the MX preference; lower is tried first.
	Preference uint16 `json:"preference"`
	// Host is the exchange in ASCII, without the trailing dot.
	Host string `json:"host"`
	// HostUnicode is Host with U-labels, when it differs.
	HostUnicode string `json:"host_unicode,omitempty"`
	// Implicit is set for the implicit MX (the domain itself, RFC 5321 §5.1).
	Implicit bool `json:"implicit,omitempty"`
	// CNAME is the alias target when the exchange is a CNAME.
	CNAME string `json:"cname,omitempty"`
	// IPLiteral is set when the MX target is written as an IP address.
	IPLiteral bool `json:"ip_literal,omitempty"`
	// Addresses are the A and AAAA addresses, IPv4 first.
	Addresses []netip.Addr `json:"addresses"`
	// PTR maps each address to its reverse names.
	PTR map[string][]string `json:"ptr"`
	// FCrDNS maps each address to whether one of its PTR names resolves
	// back to it (forward-confirmed reverse DNS).
	FCrDNS map[string]bool `json:"fcrdns"`
	// AD is set when both address answers carried the AD flag.
	AD bool `json:"ad"`
	// Error is set when the host's addresses could not be looked up.
	Error *ErrorInfo `json:"error,omitempty"`
	// Problems are the findings about this host.
	Problems []Problem `json:"problems"`
}

func (h MXHost) clone() MXHost {
	c := h
	c.Addresses = slices.Clone(h.Addresses)
	c.Problems = slices.Clone(h.Problems)
	c.PTR = make(map[string][]string, len(h.PTR))
	for k, v := range h.PTR {
		c.PTR[k] = slices.Clone(v)
	}
	c.FCrDNS = make(map[string]bool, len(h.FCrDNS))
	for k, v := range h.FCrDNS {
		c.FCrDNS[k] = v
	}
	if h.Error != nil {
		e := *h.Error
		c.Error = &e
	}
	return c
}

// Picture is everything DNS says about where a domain's mail goes.
type Picture struct {
	// Domain is the domain in Unicode (U-labels).
	Domain string `json:"domain"`
	// ASCIIDomain is the domain in ASCII (A-labels), as queried.
	ASCIIDomain string `json:"ascii_domain"`
	// Confusable is set when the domain could be mistaken for another
	// (see addr.Domain.Confusable).
	Confusable bool `json:"confusable,omitempty"`
	// MX are the mail exchangers sorted by preference then name; for an
	// implicit MX the one entry is the domain itself.
	MX []MXHost `json:"mx"`
	// ImplicitMX is set when the domain has no MX and mail goes to its
	// own addresses (RFC 5321 §5.1).
	ImplicitMX bool `json:"implicit_mx"`
	// NullMX is set when the domain publishes "MX 0 ." (RFC 7505).
	NullMX bool `json:"null_mx"`
	// Records are the policy records.
	Records Records `json:"records"`
	// SplitHorizon is the comparison with the authoritative servers, when
	// asked for.
	SplitHorizon *SplitHorizon `json:"split_horizon,omitempty"`
	// Problems are the domain-level findings (host findings are in MX).
	Problems []Problem `json:"problems"`
	// Error is set when the MX question itself failed.
	Error *ErrorInfo `json:"error"`
	// Server answered the MX question.
	Server string `json:"server,omitempty"`
	// AD is the AD flag of the MX answer.
	AD bool `json:"ad"`
	// RTT is the round-trip time of the MX answer.
	RTT time.Duration `json:"rtt_ns"`
	// Elapsed is how long the whole picture took.
	Elapsed time.Duration `json:"elapsed_ns"`
	// CanReceive is the overall verdict: DNS says mail can be delivered.
	CanReceive bool `json:"can_receive"`
	// Verdict says the overall result in words.
	Verdict string `json:"verdict"`
}

// Target is one place to deliver to, in the order a sender tries them.
type Target struct {
	Preference uint16
	Host       string
	Addresses  []netip.Addr
	Implicit   bool
}

// Targets returns where a sender would try to deliver, in order: by
// preference, and by name among equal preferences (RFC 5321 §5.1 says a
// sender should pick randomly among those; callers that want that can
// shuffle each group). The implicit MX is the domain itself; a null MX or a
// failed MX question gives none. Hosts without addresses are included so
// that the caller can report them.
func (p *Picture) Targets() []Target {
	if p.NullMX || p.Error != nil {
		return nil
	}
	var out []Target
	for _, h := range p.MX {
		out = append(out, Target{Preference: h.Preference, Host: h.Host, Addresses: slices.Clone(h.Addresses), Implicit: h.Implicit})
	}
	return out
}

// Unreachable reports whether DNS could not be asked: the MX question
// failed with a timeout, network error, REFUSED or no resolver, or every
// host's address lookup did.
func (p *Picture) Unreachable() bool {
	if p.Error != nil {
		return p.Error.Kind.Unreachable()
	}
	if p.CanReceive || p.NullMX || len(p.MX) == 0 {
		return false
	}
	for _, h := range p.MX {
		if h.Error == nil || !h.Error.Kind.Unreachable() {
			return false
		}
	}
	return true
}

// AllProblems returns the domain's problems followed by each host's.
func (p *Picture) AllProblems() []Problem {
	out := slices.Clone(p.Problems)
	for _, h := range p.MX {
		out = append(out, h.Problems...)
	}
	return out
}

// finish computes the verdict and sorts the problems.
func (p *Picture) finish() {
	for i := range p.MX {
		h := &p.MX[i]
		if h.Addresses == nil {
			h.Addresses = []netip.Addr{}
		}
		if h.Problems == nil {
			h.Problems = []Problem{}
		}
		if h.PTR == nil {
			h.PTR = map[string][]string{}
		}
		if h.FCrDNS == nil {
			h.FCrDNS = map[string]bool{}
		}
	}
	usable := 0
	for _, h := range p.MX {
		if len(h.Addresses) > 0 {
			usable++
		}
	}
	switch {
	case p.Error != nil:
		p.Verdict = fmt.Sprintf("cannot tell where mail goes: %s", p.Error.Kind)
		if p.Error.Kind == KindNXDomain {
			p.Verdict = "the domain does not exist (NXDOMAIN): it cannot receive mail"
		}
	case p.NullMX:
		p.Verdict = "the domain accepts no mail (null MX, RFC 7505)"
	case usable == 0 && p.ImplicitMX:
		p.Verdict = "no MX and no address for the domain: it cannot receive mail"
		p.addProblem(Problem{Code: "no_mail_host", Severity: SeverityError, Message: "the domain has no MX record and no A/AAAA record, so nothing can receive its mail"})
	case usable == 0:
		p.Verdict = "no MX host resolves to an address: mail cannot be delivered"
		p.addProblem(Problem{Code: "no_mail_host", Severity: SeverityError, Message: "none of the MX hosts has an address"})
	default:
		p.CanReceive = true
		p.Verdict = fmt.Sprintf("mail can be delivered: %d of %d host(s) resolve", usable, len(p.MX))
	}
	if p.Error != nil && p.Error.Kind == KindNXDomain {
		// A domain that does not exist has no records either; saying so
		// record by record is noise.
		p.Problems = slices.DeleteFunc(p.Problems, func(pr Problem) bool {
			return pr.Code == "spf_missing" || pr.Code == "dmarc_missing"
		})
	}
	if p.Problems == nil {
		p.Problems = []Problem{}
	}
	slices.SortStableFunc(p.Problems, func(a, b Problem) int { return cmp.Compare(sevRank(a.Severity), sevRank(b.Severity)) })
}

func sevRank(s Severity) int {
	switch s {
	case SeverityError:
		return 0
	case SeverityWarning:
		return 1
	}
	return 2
}

func (p *Picture) addProblem(pr Problem) { p.Problems = append(p.Problems, pr) }

// noteEqualPreferences records load balancing among equal preferences.
func (p *Picture) noteEqualPreferences() {
	groups := map[uint16][]string{}
	for _, h := range p.MX {
		groups[h.Preference] = append(groups[h.Preference], h.Host)
	}
	prefs := make([]uint16, 0, len(groups))
	for pref := range groups {
		prefs = append(prefs, pref)
	}
	slices.Sort(prefs)
	for _, pref := range prefs {
		if hs := groups[pref]; len(hs) > 1 {
			p.addProblem(Problem{Code: "equal_preference", Severity: SeverityInfo,
				Message: fmt.Sprintf("preference %d is shared by %s: senders spread mail over them (load balancing, RFC 5321 §5.1)", pref, strings.Join(hs, ", "))})
		}
	}
}

// nonPublicSuffixes are special-use and documentation names (RFC 2606,
// RFC 6761, RFC 6762, RFC 8375) and the private-use .internal TLD. A domain
// under one of them is a lab or private setup, where loopback and private
// addresses are expected.
var nonPublicSuffixes = []string{"test", "example", "invalid", "localhost", "local", "internal", "home.arpa",
	"example.com", "example.net", "example.org"}

// IsPublic reports whether an ASCII domain is meant to be reachable from the
// Internet, that is not under a special-use or documentation name and not
// a single label.
func IsPublic(domain string) bool {
	d := strings.TrimSuffix(strings.ToLower(domain), ".")
	if !strings.Contains(d, ".") {
		return false
	}
	for _, s := range nonPublicSuffixes {
		if d == s || strings.HasSuffix(d, "."+s) {
			return false
		}
	}
	return true
}

// addressProblems flags addresses that cannot work from the Internet.
func addressProblems(host string, ip netip.Addr, public bool) []Problem {
	if !public {
		return nil
	}
	switch {
	case ip.IsLoopback():
		return []Problem{{Code: "mx_loopback", Severity: SeverityError, Host: host,
			Message: fmt.Sprintf("%s resolves to the loopback address %s: other servers would deliver to themselves", host, ip)}}
	case ip.IsUnspecified():
		return []Problem{{Code: "mx_unspecified", Severity: SeverityError, Host: host,
			Message: fmt.Sprintf("%s resolves to the unspecified address %s", host, ip)}}
	case ip.IsPrivate():
		return []Problem{{Code: "mx_private", Severity: SeverityWarning, Host: host,
			Message: fmt.Sprintf("%s resolves to the private address %s, unreachable from the Internet (split DNS?)", host, ip)}}
	case ip.IsLinkLocalUnicast(), ip.IsMulticast():
		return []Problem{{Code: "mx_unroutable", Severity: SeverityError, Host: host,
			Message: fmt.Sprintf("%s resolves to %s, which is not routable", host, ip)}}
	}
	return nil
}
