package mx

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// SplitHorizon compares the resolver's MX answer with what each
// authoritative server of the domain says when asked directly. A
// difference means the resolver sees another view of the zone (split
// DNS, a stale cache, an out-of-sync secondary).
type SplitHorizon struct {
	// Resolver is the resolver's MX set, "PREF HOST" each, sorted.
	Resolver []string `json:"resolver"`
	// Servers are the answers of the authoritative servers.
	Servers []AuthAnswer `json:"servers"`
	// Differs is set when at least one server's set differs.
	Differs bool `json:"differs"`
	// Verdict sums it up.
	Verdict string `json:"verdict"`
}

// AuthAnswer is one authoritative server's MX set.
type AuthAnswer struct {
	NS      string     `json:"ns"`
	Server  string     `json:"server"`
	MX      []string   `json:"mx"`
	Differs bool       `json:"differs"`
	Error   *ErrorInfo `json:"error,omitempty"`
}

const maxAuthServers = 4

func mxSet(recs []Record) []string {
	out := []string{}
	for _, r := range recs {
		if r.Type == TypeMX {
			out = append(out, fmt.Sprintf("%d %s", r.Pref, strings.TrimSuffix(r.Target, ".")))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (l *lookup) direct(server string) Resolver {
	if l.opts.Direct != nil {
		return l.opts.Direct(server)
	}
	c := &Client{Servers: []string{server}, NoRecursion: true, Retries: 1}
	if rc, ok := l.opts.Resolver.(*Client); ok {
		c.Timeout, c.Retries = rc.Timeout, rc.Retries
	}
	return c
}

// splitHorizon asks the domain's NS servers directly (RD clear) for the MX
// set and compares it with recs, the resolver's answer.
func (l *lookup) splitHorizon(ctx context.Context, recs []Record) {
	if !l.opts.SplitHorizon {
		return
	}
	domain := l.p.ASCIIDomain
	sh := &SplitHorizon{Resolver: mxSet(recs), Servers: []AuthAnswer{}}
	var probs []Problem
	nsRecs, _, err := l.records(ctx, domain, TypeNS)
	var evErr *ErrorInfo
	if err != nil {
		sh.Verdict = "not checked: the NS records could not be read (" + string(KindOf(err)) + ")"
		evErr = info(err)
	} else {
		var names []string
		for _, r := range nsRecs {
			names = append(names, strings.TrimSuffix(r.Target, "."))
		}
		slices.Sort(names)
		names = slices.Compact(names)
		names = names[:min(len(names), maxAuthServers)]
		port := l.opts.AuthPort
		if port == 0 {
			port = 53
		}
		answers := make([]AuthAnswer, len(names))
		var wg sync.WaitGroup
		for i, ns := range names {
			wg.Go(func() { answers[i] = l.askAuth(ctx, ns, port, sh.Resolver) })
		}
		wg.Wait()
		asked := 0
		for _, a := range answers {
			sh.Servers = append(sh.Servers, a)
			if a.Error == nil {
				asked++
			}
			if a.Differs {
				sh.Differs = true
				probs = append(probs, Problem{Code: "split_horizon", Severity: SeverityWarning,
					Message: fmt.Sprintf("the authoritative server %s (%s) gives MX [%s], the resolver gives [%s]",
						a.NS, a.Server, strings.Join(a.MX, ", "), strings.Join(sh.Resolver, ", "))})
			}
		}
		switch {
		case sh.Differs:
			sh.Verdict = "differs: the resolver and the authoritative servers disagree"
		case asked == 0:
			sh.Verdict = "not checked: no authoritative server answered"
		default:
			sh.Verdict = fmt.Sprintf("same MX at %d authoritative server(s)", asked)
		}
	}
	l.mu.Lock()
	l.p.SplitHorizon = sh
	l.p.Problems = append(l.p.Problems, probs...)
	l.mu.Unlock()
	l.emit(Event{Kind: EventSplitHorizon, Verdict: sh.Verdict, Problems: slices.Clone(probs), Err: evErr})
}

func (l *lookup) askAuth(ctx context.Context, ns string, port int, want []string) AuthAnswer {
	a := AuthAnswer{NS: ns, MX: []string{}}
	addrs, _, err := l.records(ctx, ns, TypeA)
	if err != nil {
		addrs, _, err = l.records(ctx, ns, TypeAAAA)
	}
	if err != nil || len(addrs) == 0 {
		a.Error = info(err)
		return a
	}
	a.Server = net.JoinHostPort(addrs[0].Addr.String(), strconv.Itoa(port))
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		a.Error = info(ctxError(ctx.Err(), l.p.ASCIIDomain, TypeMX, a.Server))
		return a
	}
	ans, err := l.direct(a.Server).Query(ctx, l.p.ASCIIDomain+".", TypeMX)
	<-l.sem
	recs, err := classify(ans, err, l.p.ASCIIDomain, TypeMX)
	if err != nil && KindOf(err) != KindNoData {
		a.Error = info(err)
		return a
	}
	a.MX = mxSet(recs)
	a.Differs = !slices.Equal(a.MX, want)
	return a
}
