package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailflow/mailflow/diag/mx"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// RunDomain checks a mail domain the way a sending MTA reaches it (RFC
// 5321 §5.1): it asks DNS for the MX picture (diag/mx), then runs the SMTP
// procedure of RunSMTP against the MX hosts in preference order, every
// address of a host in turn.
//
// Like a sending MTA it goes on to the next address or MX when a server
// cannot be reached (connection refused, timeout, TLS handshake broken)
// or defers the whole session: a 4xx greeting, a 4xx reply to EHLO, HELO
// or STARTTLS, or a 421 at any step. It stops at the first server that
// completes the procedure or refuses it for good (a 5xx, a 4xx about the
// message such as greylisting at RCPT, a certificate that fails
// verification): a real sender would get the same answer there. When
// every server that answered deferred, the result is exit 1 (refused for
// now), not 3.
//
// With opts.AllMX every address of every MX is tried concurrently (at
// most opts.MXParallel at once); the verdicts are the same, and the
// result's steps are those of the server an MTA would have used. Each
// attempt records into a private transcript; they are appended to the
// result's transcript in MX order afterwards.
//
// opts.Network "tcp4" or "tcp6" restricts the addresses dialled to one
// family. The implicit MX (no MX records: the domain's own addresses) is
// followed; a null MX (RFC 7505) ends with exit 1 and its reason.
// opts.Port replaces 25 for every host; opts.Resolver names the DNS
// servers. The certificate of each host is checked against the MX name,
// not the address, unless TLSOptions.ServerName is set.
func RunDomain(ctx context.Context, domain string, opts Options) *Result {
	start := time.Now()
	r := runDomain(ctx, domain, opts)
	r.Domain = domain
	r.ElapsedMs = ms(time.Since(start))
	return r
}

// attempt is one server (an MX address, or an MX name handed to the
// proxy) to try.
type attempt struct {
	host   string
	pref   int
	target string // "ip:port" or "name:port"
	family string
	err    string // set when there is nothing to dial
	res    *Result
	ts     *transcript.Store
	took   time.Duration
}

func familyOf(a netip.Addr) string {
	if a.Is4() || a.Is4In6() {
		return "ipv4"
	}
	return "ipv6"
}

func runDomain(ctx context.Context, domain string, opts Options) *Result {
	r := newResult("smtp", domain, opts)
	ts := r.Transcript
	if opts.Password != "" {
		ts.AddSecret(opts.Password)
	}
	if err := validateSMTP(opts); err != nil {
		return usage(r, err.Error())
	}
	var res mx.Resolver
	if len(opts.Resolver) > 0 {
		res = mx.NewClient(opts.Resolver...)
	} else {
		c, err := mx.NewSystemClient("")
		if err != nil {
			r.Fail(ExitUnreachable, "dns", err.Error())
			ts.Notef(transcript.Error, "dns", "mx", err.Error())
			return r
		}
		res = c
	}
	ts.Notef(transcript.Info, "dns", "mx", "looking up the MX records of "+domain)
	pic, err := mx.Lookup(ctx, domain, mx.Options{Resolver: res})
	if err != nil {
		var me *mx.Error
		if errors.As(err, &me) && me.Kind == mx.KindBadInput {
			return usage(r, "domain "+strconvQuote(domain)+": "+me.Message)
		}
		r.Fail(ExitUnreachable, "dns", err.Error())
		ts.Notef(transcript.Error, "dns", "mx", err.Error())
		return r
	}
	switch {
	case pic.NullMX:
		msg := fmt.Sprintf("%s publishes a null MX (MX 0 \".\", RFC 7505): it accepts no mail at all", pic.Domain)
		ts.Notef(transcript.Error, "dns", "mx", msg)
		r.Fail(ExitRefused, "null-mx", msg)
		return r
	case pic.Error != nil:
		msg := fmt.Sprintf("MX lookup for %s failed (%s): %s", pic.ASCIIDomain, pic.Error.Kind, pic.Error.Message)
		ts.Notef(transcript.Error, "dns", "mx", msg)
		exit := ExitRefused
		if pic.Unreachable() {
			exit = ExitUnreachable
		}
		r.Fail(exit, "dns-"+string(pic.Error.Kind), msg)
		return r
	}
	targets := pic.Targets()
	if len(targets) == 0 {
		msg := "DNS names no host to deliver to for " + pic.ASCIIDomain
		ts.Notef(transcript.Error, "dns", "mx", msg)
		r.Fail(ExitRefused, "no-mx", msg)
		return r
	}
	if pic.ImplicitMX {
		ts.Notef(transcript.Info, "dns", "mx", pic.ASCIIDomain+" has no MX record: using its own addresses (implicit MX, RFC 5321 §5.1)")
	}
	port := PortSMTP
	if opts.Port > 0 {
		port = opts.Port
	}
	want := ""
	switch opts.Network {
	case "tcp4":
		want = "ipv4"
	case "tcp6":
		want = "ipv6"
	}
	var atts []*attempt
	for _, t := range targets {
		pref := int(t.Preference)
		if t.Implicit {
			pref = -1
		}
		if len(t.Addresses) == 0 {
			if opts.DialNames && opts.Dialer != nil {
				// A SOCKS5 proxy resolves the name itself (RFC 1928
				// §5, address type DOMAINNAME).
				atts = append(atts, &attempt{host: t.Host, pref: pref, target: net.JoinHostPort(t.Host, strconv.Itoa(port))})
				continue
			}
			msg := "the host has no address (A/AAAA)"
			for _, h := range pic.MX {
				if h.Host == t.Host && h.Error != nil {
					msg += ": " + h.Error.Message
				}
			}
			atts = append(atts, &attempt{host: t.Host, pref: pref, err: msg})
			continue
		}
		n := 0
		for _, a := range t.Addresses {
			if want != "" && familyOf(a) != want {
				continue
			}
			n++
			atts = append(atts, &attempt{host: t.Host, pref: pref, family: familyOf(a),
				target: net.JoinHostPort(a.String(), strconv.Itoa(port))})
		}
		if n == 0 {
			kind := map[string]string{"ipv4": "IPv4 address (A)", "ipv6": "IPv6 address (AAAA)"}[want]
			atts = append(atts, &attempt{host: t.Host, pref: pref, family: want, err: "the host has no " + kind})
		}
	}

	// run tries one attempt; transcript is where it records.
	run := func(a *attempt, store *transcript.Store) {
		o := opts
		o.Transcript = store
		if o.TLSOptions.ServerName == "" {
			o.TLSOptions.ServerName = a.host
		}
		prefText := strconv.Itoa(a.pref)
		if a.pref < 0 {
			prefText = "implicit"
		}
		store.Notef(transcript.Info, "smtp", "connect", fmt.Sprintf("trying MX %s (preference %s) at %s", a.host, prefText, a.target))
		t0 := time.Now()
		a.res = runSMTP(ctx, newResult("smtp", a.target, o), a.target, o)
		a.took = time.Since(t0)
		a.ts = store
	}
	decides := func(a *attempt) bool {
		return a.res != nil && (a.res.Exit == ExitOK || a.res.Exit != ExitUnreachable && !sessionDeferred(a.res))
	}

	if opts.AllMX {
		n := 0
		for _, a := range atts {
			if a.err == "" {
				n++
			}
		}
		sem := make(chan struct{}, mxParallel(opts.MXParallel, n))
		var wg sync.WaitGroup
		for _, a := range atts {
			if a.err != "" {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					a.res = newResult("smtp", a.target, opts)
					a.res.Fail(ExitUnreachable, string(wire.Classify(ctx.Err())), "smtp: "+a.target+": "+ctx.Err().Error())
					a.res.AddStep(Step{Name: "connect", Err: ctx.Err().Error(), ErrKind: string(wire.Classify(ctx.Err()))})
					return
				}
				defer func() { <-sem }()
				store := transcript.NewStore()
				if opts.Password != "" {
					store.AddSecret(opts.Password)
				}
				run(a, store)
			}()
		}
		wg.Wait()
		// Copy each attempt's transcript in MX order, so that the file
		// reads one conversation after another.
		for _, a := range atts {
			if a.ts == nil {
				continue
			}
			for _, e := range a.ts.Entries() {
				e.Seq, e.Elapsed = 0, 0
				ts.Append(e)
			}
		}
	} else {
		decided := false
		for _, a := range atts {
			if decided || a.err != "" || ctx.Err() != nil {
				continue
			}
			run(a, ts)
			if decides(a) {
				decided = true
			} else if a.res.Exit == ExitUnreachable {
				ts.Notef(transcript.Warning, "smtp", "connect", a.target+" did not answer; trying the next address or MX, as a sending MTA would")
			} else {
				ts.Notef(transcript.Warning, "smtp", "connect", a.target+" deferred the session (4xx); trying the next address or MX, as a sending MTA would")
			}
		}
	}

	var pick, last, deferred *attempt
	for _, a := range atts {
		h := HostResult{Host: a.host, Preference: a.pref, Address: a.target, Family: a.family}
		switch {
		case a.err != "":
			h.Verdict, h.Err, h.Exit = VerdictUnreachable, a.err, ExitUnreachable
			ts.Notef(transcript.Warning, "dns", "mx", a.host+": "+a.err)
		case a.res == nil:
			h.Verdict = VerdictNotTried
		default:
			hr := a.res
			last = a
			h.Err, h.Exit, h.Steps, h.Warnings = hr.Error, hr.Exit, hr.Steps, hr.Warnings
			h.ElapsedMs = ms(a.took)
			if hr.Greeting != nil {
				h.GreetingMs = hr.Greeting.DelayMs
			}
			if s := failingStep(hr.Steps); s != nil {
				h.ReplyCode = s.ReplyCode
				if len(s.Reply) > 0 {
					h.Reply = s.Reply[0]
				}
			} else if n := len(hr.Steps); n > 0 && hr.Exit == ExitOK {
				for i := n - 1; i >= 0; i-- {
					if s := hr.Steps[i]; s.ReplyCode != "" {
						h.ReplyCode = s.ReplyCode
						if len(s.Reply) > 0 {
							h.Reply = s.Reply[0]
						}
						break
					}
				}
			}
			switch {
			case hr.Exit == ExitOK:
				h.Verdict = VerdictOK
			case hr.Exit == ExitUnreachable:
				h.Verdict = VerdictUnreachable
			case temporaryFailure(hr):
				h.Verdict = VerdictDeferred
			default:
				h.Verdict = VerdictRefused
			}
			if pick == nil && decides(a) {
				pick = a
			}
			if deferred == nil && h.Verdict == VerdictDeferred {
				deferred = a
			}
		}
		r.Hosts = append(r.Hosts, h)
	}
	r.MXHosts, r.Families = summarise(r.Hosts)

	from := pick
	if from == nil {
		from = deferred
	}
	if from == nil {
		from = last
	}
	if from != nil {
		p := from.res
		r.Address, r.TLS, r.Steps = p.Address, p.TLS, p.Steps
		r.CapsBefore, r.CapsAfter, r.MessageID = p.CapsBefore, p.CapsAfter, p.MessageID
		r.Exit, r.Error, r.ErrorKind = p.Exit, p.Error, p.ErrorKind
		r.QuitAfter, r.CapsDiff, r.Greeting, r.Recipients, r.Explanation = p.QuitAfter, p.CapsDiff, p.Greeting, p.Recipients, p.Explanation
		r.Warnings = append(r.Warnings, p.Warnings...)
	}
	if pick == nil {
		hosts := make([]string, 0, len(r.Hosts))
		for _, h := range r.Hosts {
			hosts = append(hosts, h.Host)
		}
		tried := strings.Join(dedupe(hosts), ", ")
		if deferred != nil {
			r.Exit, r.ErrorKind = ExitRefused, "deferred"
			r.Error = "every MX host of " + pic.ASCIIDomain + " that answered deferred the session (tried " + tried + "); a sending MTA would keep the mail queued and retry; " + deferred.res.Error
		} else {
			r.Exit, r.ErrorKind = ExitUnreachable, "unreachable"
			r.Error = "no MX host of " + pic.ASCIIDomain + " answered (tried " + tried + ")"
			if last != nil && last.res.Error != "" {
				r.Error += "; last error: " + last.res.Error
			}
		}
	}
	return r
}

// verdictRank orders verdicts from best to worst, for summaries.
var verdictRank = map[string]int{VerdictOK: 0, VerdictRefused: 1, VerdictDeferred: 2, VerdictUnreachable: 3, VerdictNotTried: 4}

func better(a, b string) string {
	if b == "" {
		return a
	}
	if a == "" {
		return b
	}
	if verdictRank[a] <= verdictRank[b] {
		return a
	}
	return b
}

// summarise folds the per-address verdicts into one per MX host (with a
// verdict per address family) and one per family over the whole domain.
// Hosts that were not tried do not count in the family verdicts.
func summarise(hosts []HostResult) ([]MXSummary, map[string]string) {
	var out []MXSummary
	idx := map[string]int{}
	fam := map[string]string{}
	for _, h := range hosts {
		i, ok := idx[h.Host]
		if !ok {
			i = len(out)
			idx[h.Host] = i
			out = append(out, MXSummary{Host: h.Host, Preference: h.Preference})
		}
		m := &out[i]
		m.Verdict = better(h.Verdict, m.Verdict)
		switch h.Family {
		case "ipv4":
			m.IPv4 = better(h.Verdict, m.IPv4)
		case "ipv6":
			m.IPv6 = better(h.Verdict, m.IPv6)
		}
		if h.Family != "" && h.Verdict != VerdictNotTried && h.Address != "" {
			fam[h.Family] = better(h.Verdict, fam[h.Family])
		}
	}
	if len(fam) == 0 {
		fam = nil
	}
	return out, fam
}

func strconvQuote(s string) string { return strconv.Quote(s) }

func dedupe(list []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// MaxMXParallel bounds the concurrent attempts of Options.AllMX, whatever
// MXParallel says: a domain may publish dozens of MX addresses, and each
// attempt holds a connection and a transcript.
const MaxMXParallel = 16

// mxParallel returns how many --all-mx attempts run at once: opt when
// positive, else every one of the n addresses to try (so that n slow
// servers take one delay, not several), never more than MaxMXParallel
// and at least 1.
func mxParallel(opt, n int) int {
	limit := n
	if opt > 0 {
		limit = opt
	}
	return max(1, min(limit, MaxMXParallel))
}
