package mx

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mailflow/mailflow/diag/addr"
	"github.com/miekg/dns"
)

// Options tune a Lookup.
type Options struct {
	// Resolver answers the questions. Required.
	Resolver Resolver
	// Concurrency bounds the questions in flight at once. Zero means 16.
	Concurrency int
	// SplitHorizon also asks the domain's authoritative servers directly
	// for its MX and compares their answers with the resolver's.
	SplitHorizon bool
	// AuthPort is the port of the authoritative servers for the split
	// horizon check. Zero means 53.
	AuthPort int
	// Direct returns a Resolver that asks one server directly without
	// recursion. Nil means a Client with NoRecursion and the same timeout
	// as Resolver when it is a *Client.
	Direct func(server string) Resolver
	// OnEvent, when set, receives an Event as each part of the picture
	// resolves. Calls are serialised (never two at once) and happen on
	// the lookup's goroutines: a slow callback slows the lookup, so a UI
	// should hand the event over and return. Events are plain values that
	// the lookup does not touch after the call.
	OnEvent func(Event)
}

// EventKind says what an Event reports.
type EventKind string

// Event kinds, in the order they usually arrive (EventHost, EventPTR and
// EventRecord interleave as answers come).
const (
	// EventMX: the MX set is known (MX holds the hosts, without
	// addresses yet), or the MX question failed (Err).
	EventMX EventKind = "mx"
	// EventHost: one host's A/AAAA lookups are done (Host, Addresses,
	// Problems, Err).
	EventHost EventKind = "host"
	// EventPTR: one address's reverse lookup and forward confirmation are
	// done (Host, Addr, PTR, FCrDNS).
	EventPTR EventKind = "ptr"
	// EventRecord: one policy record is done (Record is "spf", "dmarc",
	// "mta_sts", "tls_rpt" or "tlsa" with Host).
	EventRecord EventKind = "record"
	// EventSplitHorizon: the comparison with the authoritative servers is
	// done (Verdict, Problems).
	EventSplitHorizon EventKind = "split_horizon"
	// EventDone: the picture is complete (Picture).
	EventDone EventKind = "done"
)

// Event is one step of a Lookup, delivered to Options.OnEvent or Stream.
type Event struct {
	Kind EventKind
	// Host is the MX host concerned, if any.
	Host string
	// Preference is the host's MX preference.
	Preference uint16
	// MX is the host list of an EventMX (copies).
	MX []MXHost
	// ImplicitMX and NullMX are set on EventMX.
	ImplicitMX, NullMX bool
	// Addresses are the host's addresses (EventHost).
	Addresses []netip.Addr
	// Addr, PTR and FCrDNS are the result of an EventPTR.
	Addr   netip.Addr
	PTR    []string
	FCrDNS bool
	// Record names the record of an EventRecord.
	Record string
	// Verdict sums up an EventRecord or EventSplitHorizon.
	Verdict string
	// Problems found by this step.
	Problems []Problem
	// Err is set when this step's lookup failed (a fresh copy).
	Err *ErrorInfo
	// Elapsed is the time since the lookup started.
	Elapsed time.Duration
	// Picture is the finished picture (EventDone only); nothing changes
	// it after it is sent.
	Picture *Picture
}

// lookup is the state of one Lookup.
type lookup struct {
	opts   Options
	sem    chan struct{}
	start  time.Time
	public bool

	mu sync.Mutex // guards p
	p  *Picture

	emitMu sync.Mutex

	mxErr error // the MX question's error, returned by Lookup

	cacheMu sync.Mutex
	cache   map[string]*call // one question is asked once per lookup
}

// call is a question in flight or answered, shared by every part of the
// lookup that needs it (e.g. the forward confirmation of a PTR name that is
// also an MX host reuses that host's address answer).
type call struct {
	done chan struct{}
	ans  *Answer
	err  error
}

// Lookup draws the picture of domain. The domain is checked with
// addr.ParseDomain first; a malformed one gives an *Error of kind
// bad_input and no picture. Otherwise the picture is always returned; the
// error is non-nil (and equal to the picture's Error) only when the MX
// question itself failed. The context bounds the whole lookup.
func Lookup(ctx context.Context, domain string, opts Options) (*Picture, error) {
	d, err := addr.ParseDomain(domain)
	if err != nil {
		return nil, &Error{Kind: KindBadInput, Message: strings.TrimPrefix(err.Error(), "addr: "), Err: err}
	}
	if opts.Resolver == nil {
		return nil, &Error{Kind: KindNoResolver, Message: "no resolver given"}
	}
	n := opts.Concurrency
	if n <= 0 {
		n = 16
	}
	l := &lookup{
		opts: opts, sem: make(chan struct{}, n), start: time.Now(), public: IsPublic(d.ASCII),
		p: &Picture{Domain: d.Unicode, ASCIIDomain: d.ASCII, Confusable: d.Confusable,
			Records: Records{TLSA: map[string]TLSAResult{}}},
	}
	if d.Confusable {
		l.p.addProblem(Problem{Code: "confusable", Severity: SeverityWarning,
			Message: fmt.Sprintf("the name may be a look-alike: %s; its ASCII form is %s", d.ConfusableReason, d.ASCII)})
	}

	var wg sync.WaitGroup
	wg.Go(func() { l.mx(ctx) })
	wg.Go(func() { l.spf(ctx) })
	wg.Go(func() { l.dmarc(ctx) })
	wg.Go(func() { l.mtaSTS(ctx) })
	wg.Go(func() { l.tlsRPT(ctx) })
	wg.Wait()

	p := l.p
	p.Elapsed = time.Since(l.start)
	p.finish()
	l.emit(Event{Kind: EventDone, Picture: p})
	if p.Error != nil {
		return p, l.mxErr
	}
	return p, nil
}

// Stream runs Lookup in a goroutine and returns its events on a channel
// that is closed after EventDone (or after a bad-input error, which comes
// as a single EventDone with Err set and no Picture). Cancel ctx to stop
// it early; the channel is then still closed.
func Stream(ctx context.Context, domain string, opts Options) <-chan Event {
	ch := make(chan Event, 64)
	opts.OnEvent = func(ev Event) {
		select {
		case ch <- ev:
		case <-ctx.Done():
		}
	}
	go func() {
		defer close(ch)
		if p, err := Lookup(ctx, domain, opts); p == nil && err != nil {
			select {
			case ch <- Event{Kind: EventDone, Err: info(err)}:
			case <-ctx.Done():
			}
		}
	}()
	return ch
}

func (l *lookup) emit(ev Event) {
	if l.opts.OnEvent == nil {
		return
	}
	ev.Elapsed = time.Since(l.start)
	l.emitMu.Lock()
	defer l.emitMu.Unlock()
	l.opts.OnEvent(ev)
}

// query asks one question under the concurrency bound, once per lookup.
func (l *lookup) query(ctx context.Context, name string, t Type) (*Answer, error) {
	k := strings.ToLower(dns.Fqdn(name)) + " " + t.String()
	l.cacheMu.Lock()
	if l.cache == nil {
		l.cache = map[string]*call{}
	}
	if c, ok := l.cache[k]; ok {
		l.cacheMu.Unlock()
		select {
		case <-c.done:
			return c.ans, c.err
		case <-ctx.Done():
			return nil, ctxError(ctx.Err(), name, t, "")
		}
	}
	c := &call{done: make(chan struct{})}
	l.cache[k] = c
	l.cacheMu.Unlock()
	defer close(c.done)

	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		c.err = ctxError(ctx.Err(), name, t, "")
		return nil, c.err
	}
	defer func() { <-l.sem }()
	c.ans, c.err = l.opts.Resolver.Query(ctx, dns.Fqdn(name), t)
	return c.ans, c.err
}

// records asks and classifies.
func (l *lookup) records(ctx context.Context, name string, t Type) ([]Record, *Answer, error) {
	ans, err := l.query(ctx, name, t)
	recs, err := classify(ans, err, strings.TrimSuffix(name, "."), t)
	return recs, ans, err
}

func (l *lookup) mx(ctx context.Context) {
	domain := l.p.ASCIIDomain
	recs, ans, err := l.records(ctx, domain, TypeMX)
	var hosts []MXHost
	l.mu.Lock()
	p := l.p
	if ans != nil {
		p.Server, p.AD, p.RTT = ans.Server, ans.AD, ans.RTT
		if c := ans.CNAME(); c != "" {
			p.addProblem(Problem{Code: "domain_cname", Severity: SeverityInfo,
				Message: fmt.Sprintf("%s is an alias (CNAME) of %s; its MX comes from there", domain, strings.TrimSuffix(c, "."))})
		}
	}
	switch {
	case KindOf(err) == KindNoData:
		p.ImplicitMX = true
		hosts = []MXHost{{Preference: 0, Host: domain, HostUnicode: unicodeOf(domain), Implicit: true}}
		p.addProblem(Problem{Code: "implicit_mx", Severity: SeverityWarning,
			Message: "no MX record: senders deliver to the domain's own A/AAAA addresses (implicit MX, RFC 5321 §5.1)"})
	case err != nil:
		p.Error = info(err)
		l.mxErr = err
		if KindOf(err) == KindServFail {
			p.addProblem(Problem{Code: "servfail", Severity: SeverityError,
				Message: "the resolver answered SERVFAIL for the MX question: check DNSSEC (expired signatures, DS mismatch) and that the authoritative servers answer"})
		}
		l.mu.Unlock()
		l.emit(Event{Kind: EventMX, Err: info(err)})
		return
	default:
		var null bool
		for _, r := range recs {
			if r.Target == "." {
				null = true
				continue
			}
			h := strings.TrimSuffix(r.Target, ".")
			hosts = append(hosts, MXHost{Preference: r.Pref, Host: h, HostUnicode: unicodeOf(h)})
		}
		if null && len(hosts) == 0 {
			p.NullMX = true
			if recs[0].Pref != 0 {
				p.addProblem(Problem{Code: "null_mx_preference", Severity: SeverityWarning,
					Message: fmt.Sprintf("the null MX has preference %d; RFC 7505 §3 says 0", recs[0].Pref)})
			}
			l.mu.Unlock()
			l.emit(Event{Kind: EventMX, NullMX: true, MX: []MXHost{}})
			l.splitHorizon(ctx, recs)
			return
		}
		if null {
			p.addProblem(Problem{Code: "null_mx_mixed", Severity: SeverityError,
				Message: "a null MX (\"MX 0 .\") is published next to other MX records; RFC 7505 §3 forbids this and senders may treat the domain as accepting no mail"})
		}
	}
	slices.SortStableFunc(hosts, func(a, b MXHost) int {
		if a.Preference != b.Preference {
			return int(a.Preference) - int(b.Preference)
		}
		return strings.Compare(a.Host, b.Host)
	})
	hosts = slices.CompactFunc(hosts, func(a, b MXHost) bool { return a.Preference == b.Preference && a.Host == b.Host })
	p.MX = hosts
	p.noteEqualPreferences()
	ev := Event{Kind: EventMX, ImplicitMX: p.ImplicitMX, MX: make([]MXHost, len(hosts))}
	for i := range hosts {
		ev.MX[i] = hosts[i].clone()
	}
	l.mu.Unlock()
	l.emit(ev)

	var wg sync.WaitGroup
	for i := range hosts {
		wg.Go(func() { l.host(ctx, i) })
	}
	if l.opts.SplitHorizon {
		wg.Go(func() { l.splitHorizon(ctx, recs) })
	}
	wg.Wait()
}

func unicodeOf(ascii string) string {
	d, err := addr.ParseDomain(ascii)
	if err != nil || d.Unicode == ascii {
		return ""
	}
	return d.Unicode
}

// host looks up one MX host's addresses, then its PTRs and TLSA.
func (l *lookup) host(ctx context.Context, i int) {
	l.mu.Lock()
	h := l.p.MX[i]
	l.mu.Unlock()
	name := h.Host
	var probs []Problem
	if _, err := netip.ParseAddr(name); err == nil {
		h.IPLiteral = true
		probs = append(probs, Problem{Code: "mx_ip_literal", Severity: SeverityError, Host: name,
			Message: fmt.Sprintf("the MX target %s is an IP address; an MX must name a host (RFC 5321 §5.1), and senders look it up as a name and fail", name)})
	}

	var (
		wg         sync.WaitGroup
		a4, a6     []Record
		ans4, ans6 *Answer
		err4, err6 error
	)
	wg.Go(func() { a4, ans4, err4 = l.records(ctx, name, TypeA) })
	wg.Go(func() { a6, ans6, err6 = l.records(ctx, name, TypeAAAA) })
	wg.Wait()

	var addrs []netip.Addr
	for _, r := range slices.Concat(a4, a6) {
		if r.Addr.IsValid() && !slices.Contains(addrs, r.Addr) {
			addrs = append(addrs, r.Addr)
		}
	}
	for _, a := range []*Answer{ans4, ans6} {
		if a != nil && a.CNAME() != "" && h.CNAME == "" && !h.Implicit {
			h.CNAME = strings.TrimSuffix(a.CNAME(), ".")
			probs = append(probs, Problem{Code: "mx_cname", Severity: SeverityWarning, Host: name,
				Message: fmt.Sprintf("the MX target %s is an alias (CNAME to %s); RFC 2181 §10.3 and RFC 5321 §5.1 forbid it and some senders refuse it", name, h.CNAME)})
		}
	}
	h.AD = ans4 != nil && ans6 != nil && ans4.AD && ans6.AD
	var herr error
	if len(addrs) == 0 {
		k4, k6 := KindOf(err4), KindOf(err6)
		switch {
		case (k4 == KindNXDomain || k4 == KindNoData) && (k6 == KindNXDomain || k6 == KindNoData):
			what := "has no A or AAAA record"
			if k4 == KindNXDomain {
				what = "does not exist (NXDOMAIN)"
			}
			herr = &Error{Kind: k4, Name: name, Type: "A/AAAA", Message: fmt.Sprintf("%s %s", name, what)}
			code := "host_unresolvable"
			if h.Implicit {
				code = "implicit_mx_no_address"
			}
			probs = append(probs, Problem{Code: code, Severity: SeverityError, Host: name,
				Message: fmt.Sprintf("%s %s: mail cannot be delivered to it", name, what)})
		default:
			herr = err4
			if k4 == KindNXDomain || k4 == KindNoData {
				herr = err6
			}
			probs = append(probs, Problem{Code: "host_lookup_failed", Severity: SeverityError, Host: name,
				Message: fmt.Sprintf("the addresses of %s could not be looked up (%s)", name, KindOf(herr))})
		}
	} else {
		for _, e := range []error{err4, err6} {
			if k := KindOf(e); k != "" && k != KindNoData && k != KindNXDomain {
				probs = append(probs, Problem{Code: "host_lookup_partial", Severity: SeverityWarning, Host: name,
					Message: fmt.Sprintf("one address lookup for %s failed (%s); only part of its addresses are known", name, k)})
			}
		}
	}
	for _, a := range addrs {
		probs = append(probs, addressProblems(name, a, l.public)...)
	}
	slices.SortFunc(addrs, func(a, b netip.Addr) int {
		if a.Is4() != b.Is4() {
			if a.Is4() {
				return -1
			}
			return 1
		}
		return a.Compare(b)
	})

	l.mu.Lock()
	ph := &l.p.MX[i]
	ph.IPLiteral, ph.CNAME, ph.AD = h.IPLiteral, h.CNAME, h.AD
	ph.Addresses = addrs
	ph.Error = info(herr)
	ph.Problems = append(ph.Problems, probs...)
	l.mu.Unlock()
	l.emit(Event{Kind: EventHost, Host: name, Preference: h.Preference, Addresses: slices.Clone(addrs),
		Problems: slices.Clone(probs), Err: info(herr)})

	var wg2 sync.WaitGroup
	for _, a := range addrs {
		wg2.Go(func() { l.ptr(ctx, i, name, a) })
	}
	if !h.IPLiteral && len(addrs) > 0 {
		wg2.Go(func() { l.tlsa(ctx, name) })
	}
	wg2.Wait()
}

// ptr looks up the reverse names of one address and checks that one of
// them resolves back to it (forward-confirmed reverse DNS).
func (l *lookup) ptr(ctx context.Context, i int, host string, ip netip.Addr) {
	rev, err := dns.ReverseAddr(ip.String())
	var names []string
	var probs []Problem
	var perr error
	confirmed := false
	if err == nil {
		var recs []Record
		recs, _, perr = l.records(ctx, rev, TypePTR)
		for _, r := range recs {
			names = append(names, strings.TrimSuffix(r.Target, "."))
		}
	}
	t := TypeA
	if !ip.Is4() {
		t = TypeAAAA
	}
	// Check up to three names, concurrently: a chain is as slow as its
	// slowest member, not the sum.
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range names[:min(len(names), 3)] {
		wg.Go(func() {
			recs, _, err := l.records(ctx, n, t)
			if err != nil {
				return
			}
			for _, r := range recs {
				if r.Addr == ip {
					mu.Lock()
					confirmed = true
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	switch {
	case len(names) == 0:
		k := KindOf(perr)
		probs = append(probs, Problem{Code: "no_ptr", Severity: SeverityWarning, Host: host,
			Message: fmt.Sprintf("%s (%s) has no reverse DNS (%s); many receivers distrust mail from such addresses", ip, host, k)})
	case !confirmed:
		probs = append(probs, Problem{Code: "fcrdns_failed", Severity: SeverityWarning, Host: host,
			Message: fmt.Sprintf("the reverse name of %s (%s) does not resolve back to it (no forward-confirmed reverse DNS)", ip, strings.Join(names, ", "))})
	}
	l.mu.Lock()
	ph := &l.p.MX[i]
	if ph.PTR == nil {
		ph.PTR, ph.FCrDNS = map[string][]string{}, map[string]bool{}
	}
	ph.PTR[ip.String()] = names
	if names == nil {
		ph.PTR[ip.String()] = []string{}
	}
	ph.FCrDNS[ip.String()] = confirmed
	ph.Problems = append(ph.Problems, probs...)
	l.mu.Unlock()
	l.emit(Event{Kind: EventPTR, Host: host, Addr: ip, PTR: slices.Clone(names), FCrDNS: confirmed, Problems: slices.Clone(probs), Err: info(perr)})
}
