package mx

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Records are the mail policy records of a domain and its MX hosts.
type Records struct {
	SPF    SPFResult             `json:"spf"`
	DMARC  DMARCResult           `json:"dmarc"`
	MTASTS TXTResult             `json:"mta_sts"`
	TLSRPT TXTResult             `json:"tls_rpt"`
	TLSA   map[string]TLSAResult `json:"tlsa"` // by MX host
}

// TXTResult is a TXT-based record: where it was looked for, what was
// found, and a short verdict.
type TXTResult struct {
	// Name is the owner name that was asked.
	Name string `json:"name"`
	// Found is set when a record of this kind exists.
	Found bool `json:"found"`
	// Records are the matching TXT records.
	Records []string `json:"records"`
	// Tags are the tag=value pairs of the record (DMARC, MTA-STS, TLS-RPT).
	Tags map[string]string `json:"tags,omitempty"`
	// Verdict sums it up in a few words.
	Verdict string `json:"verdict"`
	// Problems found in it.
	Problems []Problem `json:"problems"`
	// Error is set when the lookup failed (not for "no such record").
	Error *ErrorInfo `json:"error,omitempty"`
}

// SPFResult is the SPF record of the domain (RFC 7208).
type SPFResult struct {
	TXTResult
	// Lookups is the number of DNS-querying terms of a full evaluation,
	// through includes and redirects.
	Lookups int `json:"lookups"`
	// Limit is SPFLookupLimit.
	Limit int `json:"limit"`
	// Followed are the domains whose records were read for the count.
	Followed []string `json:"followed,omitempty"`
	// All is the qualifier of the top record's "all" mechanism.
	All string `json:"all,omitempty"`
}

// DMARCResult is the DMARC record of the domain (RFC 7489).
type DMARCResult struct {
	TXTResult
	Policy          string   `json:"policy,omitempty"`
	SubdomainPolicy string   `json:"subdomain_policy,omitempty"`
	RUA             []string `json:"rua,omitempty"`
}

// TLSAResult is the DANE TLSA record set of one MX host (RFC 7672 §2.2).
type TLSAResult struct {
	Name    string     `json:"name"`
	Found   bool       `json:"found"`
	Records []string   `json:"records"`
	AD      bool       `json:"ad"`
	Verdict string     `json:"verdict"`
	Error   *ErrorInfo `json:"error,omitempty"`
}

// txt returns the TXT strings at name; "does not exist" and "no TXT" give
// no strings and no error.
func (l *lookup) txt(ctx context.Context, name string) ([]string, error) {
	recs, _, err := l.records(ctx, name, TypeTXT)
	if k := KindOf(err); k == KindNXDomain || k == KindNoData {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.Text)
	}
	return out, nil
}

// tags parses "k=v; k=v" (RFC 7489 §6.4, RFC 8461 §3.1, RFC 8460 §3).
func tags(s string) map[string]string {
	m := map[string]string{}
	for _, part := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if _, dup := m[k]; !dup && k != "" {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// versioned returns a test for TXT strings that start with the version
// tag prefix ("v=DMARC1"), case-insensitively, followed by the end or by
// ";" after optional blanks.
func versioned(prefix string) func(string) bool {
	return func(t string) bool {
		if len(t) < len(prefix) || !strings.EqualFold(t[:len(prefix)], prefix) {
			return false
		}
		rest := strings.TrimLeft(t[len(prefix):], " \t")
		return rest == "" || rest[0] == ';'
	}
}

// txtRecord starts the result for the TXT strings at name that keep
// accepts. A failed lookup sets Error and a "lookup failed" verdict, and
// no record at all the verdict "none"; the caller judges the rest.
func (l *lookup) txtRecord(ctx context.Context, name string, keep func(string) bool) (TXTResult, error) {
	res := TXTResult{Name: name, Records: []string{}, Problems: []Problem{}}
	txts, err := l.txt(ctx, name)
	for _, t := range txts {
		if keep(t) {
			res.Records = append(res.Records, t)
		}
	}
	res.Found = len(res.Records) > 0
	switch {
	case err != nil:
		res.Error = info(err)
		res.Verdict = "lookup failed: " + string(KindOf(err))
	case !res.Found:
		res.Verdict = "none"
	}
	return res, err
}

// problem adds a problem to the record's list.
func (r *TXTResult) problem(code string, sev Severity, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Code: code, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

// publish stores a record's result (store runs under the lock), adds its
// problems to the picture's and reports the record as an event.
func (l *lookup) publish(record string, r *TXTResult, store func()) {
	l.mu.Lock()
	store()
	l.p.Problems = append(l.p.Problems, r.Problems...)
	l.mu.Unlock()
	l.emit(Event{Kind: EventRecord, Record: record, Verdict: r.Verdict, Problems: slices.Clone(r.Problems), Err: cloneInfo(r.Error)})
}

func (l *lookup) spf(ctx context.Context) {
	domain := l.p.ASCIIDomain
	txt, err := l.txtRecord(ctx, domain, IsSPF)
	res := SPFResult{TXTResult: txt, Limit: SPFLookupLimit}
	add := res.problem
	switch {
	case err != nil:
		// txtRecord has set the error and the verdict.
	case len(res.Records) == 0:
		add("spf_missing", SeverityWarning, "no SPF record at %s: receivers cannot tell which servers may send its mail", domain)
	case len(res.Records) > 1:
		res.Verdict = "permerror: more than one SPF record"
		add("spf_multiple", SeverityError, "%d SPF records at %s; RFC 7208 §4.5 makes that a permerror, so SPF fails everywhere", len(res.Records), domain)
	default:
		rec, perr := ParseSPF(res.Records[0])
		if perr != nil {
			res.Verdict = "permerror: syntax"
			add("spf_syntax", SeverityError, "the SPF record of %s is invalid: %s", domain, strings.TrimPrefix(perr.Error(), "mx: spf: "))
			break
		}
		res.All = rec.All()
		w := &spfWalk{l: l}
		res.Lookups = w.walk(ctx, rec, []string{domain})
		res.Followed = w.followed
		res.Problems = append(res.Problems, w.probs...)
		if res.Lookups > SPFLookupLimit {
			res.Verdict = fmt.Sprintf("permerror: %d DNS lookups, limit %d", res.Lookups, SPFLookupLimit)
			add("spf_too_many_lookups", SeverityError, "evaluating the SPF record takes %d DNS lookups; RFC 7208 §4.6.4 allows %d, so receivers return permerror", res.Lookups, SPFLookupLimit)
		} else if i := slices.IndexFunc(w.probs, func(p Problem) bool { return p.Severity == SeverityError }); i >= 0 {
			res.Verdict = "permerror: " + w.probs[i].Code
		} else {
			res.Verdict = fmt.Sprintf("ok: %d of %d DNS lookups", res.Lookups, SPFLookupLimit)
		}
		switch res.All {
		case "+":
			add("spf_plus_all", SeverityWarning, "the SPF record ends in +all: every server on the Internet may send as %s", domain)
		case "":
			if rec.Redirect() == "" {
				add("spf_no_all", SeverityInfo, "the SPF record has no \"all\": mail from unlisted servers gets neutral")
			}
		}
	}
	l.publish("spf", &res.TXTResult, func() { l.p.Records.SPF = res })
}

// spfWalk follows includes and redirects, counting lookups, with loop
// protection (the path of domains being evaluated) and a cap on fetches.
type spfWalk struct {
	l        *lookup
	followed []string
	probs    []Problem
	fetches  int
}

const maxSPFFetches = 30

func (w *spfWalk) walk(ctx context.Context, rec SPF, path []string) int {
	n := rec.Lookups()
	for _, target := range rec.Follow() {
		tgt := strings.ToLower(strings.TrimSuffix(target, "."))
		if strings.Contains(tgt, "%") {
			w.probs = append(w.probs, Problem{Code: "spf_macro", Severity: SeverityInfo,
				Message: fmt.Sprintf("%q uses macros and depends on the message; not followed", target)})
			continue
		}
		if slices.Contains(path, tgt) {
			w.probs = append(w.probs, Problem{Code: "spf_loop", Severity: SeverityError,
				Message: fmt.Sprintf("SPF include loop: %s -> %s", strings.Join(path, " -> "), tgt)})
			continue
		}
		if w.fetches >= maxSPFFetches || ctx.Err() != nil {
			return n
		}
		w.fetches++
		w.followed = append(w.followed, tgt)
		txts, err := w.l.txt(ctx, tgt)
		if err != nil {
			w.probs = append(w.probs, Problem{Code: "spf_include_failed", Severity: SeverityWarning,
				Message: fmt.Sprintf("the SPF record of %s could not be read (%s): receivers get temperror", tgt, KindOf(err))})
			continue
		}
		var spfs []string
		for _, t := range txts {
			if IsSPF(t) {
				spfs = append(spfs, t)
			}
		}
		if len(spfs) != 1 {
			what := "has no SPF record"
			if len(spfs) > 1 {
				what = "has more than one SPF record"
			}
			w.probs = append(w.probs, Problem{Code: "spf_include_invalid", Severity: SeverityError,
				Message: fmt.Sprintf("%s, included from %s, %s: permerror (RFC 7208 §5.2)", tgt, path[len(path)-1], what)})
			continue
		}
		sub, err := ParseSPF(spfs[0])
		if err != nil {
			w.probs = append(w.probs, Problem{Code: "spf_include_syntax", Severity: SeverityError,
				Message: fmt.Sprintf("the SPF record of %s is invalid: %s", tgt, strings.TrimPrefix(err.Error(), "mx: spf: "))})
			continue
		}
		n += w.walk(ctx, sub, append(slices.Clone(path), tgt))
	}
	return n
}

func (l *lookup) dmarc(ctx context.Context) {
	name := "_dmarc." + l.p.ASCIIDomain
	txt, err := l.txtRecord(ctx, name, versioned("v=DMARC1"))
	res := DMARCResult{TXTResult: txt}
	add := res.problem
	switch {
	case err != nil:
		// txtRecord has set the error and the verdict.
	case len(res.Records) == 0:
		add("dmarc_missing", SeverityInfo, "no DMARC record at %s (the organisational domain was not checked)", name)
	case len(res.Records) > 1:
		res.Verdict = "invalid: more than one DMARC record"
		add("dmarc_multiple", SeverityError, "%d DMARC records at %s; RFC 7489 §6.6.3 says to ignore them all", len(res.Records), name)
	default:
		res.Tags = tags(res.Records[0])
		res.Policy = strings.ToLower(res.Tags["p"])
		res.SubdomainPolicy = strings.ToLower(res.Tags["sp"])
		for _, u := range strings.Split(res.Tags["rua"], ",") {
			if u = strings.TrimSpace(u); u != "" {
				res.RUA = append(res.RUA, u)
			}
		}
		switch res.Policy {
		case "none":
			res.Verdict = "p=none: monitoring only"
		case "quarantine", "reject":
			res.Verdict = "p=" + res.Policy
		case "":
			res.Verdict = "invalid: no p= tag"
			add("dmarc_no_policy", SeverityError, "the DMARC record has no p= tag (RFC 7489 §6.3)")
		default:
			res.Verdict = "invalid: unknown policy"
			add("dmarc_bad_policy", SeverityError, "unknown DMARC policy p=%s (none, quarantine or reject)", res.Policy)
		}
		if res.SubdomainPolicy != "" {
			res.Verdict += ", sp=" + res.SubdomainPolicy
		}
		if len(res.RUA) == 0 {
			res.Verdict += ", no rua"
		} else {
			res.Verdict += ", rua=" + strings.Join(res.RUA, ",")
		}
	}
	l.publish("dmarc", &res.TXTResult, func() { l.p.Records.DMARC = res })
}

// tagRecord reads a "v=..." TXT record with tags at name.
func (l *lookup) tagRecord(ctx context.Context, record, name, version, required string) TXTResult {
	res, err := l.txtRecord(ctx, name, versioned(version))
	switch {
	case err != nil, len(res.Records) == 0:
		// txtRecord has set the verdict.
	case len(res.Records) > 1:
		res.Verdict = "invalid: more than one record"
		res.problem(record+"_multiple", SeverityError, "%d %s records at %s: receivers ignore them all", len(res.Records), version, name)
	default:
		res.Tags = tags(res.Records[0])
		if v := res.Tags[required]; v == "" {
			res.Verdict = "invalid: no " + required + "="
			res.problem(record+"_no_"+required, SeverityError, "the %s record at %s has no %s= tag", version, name, required)
		} else {
			res.Verdict = required + "=" + v
		}
	}
	return res
}

func (l *lookup) mtaSTS(ctx context.Context) {
	// RFC 8461 §3.1: the TXT record only announces a policy; the policy
	// itself is fetched over HTTPS, which this package does not do.
	res := l.tagRecord(ctx, "mta_sts", "_mta-sts."+l.p.ASCIIDomain, "v=STSv1", "id")
	if res.Found && res.Error == nil && len(res.Records) == 1 && res.Tags["id"] != "" {
		res.Verdict += " (policy at https://mta-sts." + l.p.ASCIIDomain + "/.well-known/mta-sts.txt not fetched)"
	}
	l.publish("mta_sts", &res, func() { l.p.Records.MTASTS = res })
}

func (l *lookup) tlsRPT(ctx context.Context) {
	res := l.tagRecord(ctx, "tls_rpt", "_smtp._tls."+l.p.ASCIIDomain, "v=TLSRPTv1", "rua")
	l.publish("tls_rpt", &res, func() { l.p.Records.TLSRPT = res })
}

func cloneInfo(e *ErrorInfo) *ErrorInfo {
	if e == nil {
		return nil
	}
	c := *e
	return &c
}

// tlsa looks up the DANE TLSA records of one MX host: _25._tcp.HOST
// (RFC 7672 §2.2.3). They only count when DNSSEC-validated (RFC 7672 §2.2).
func (l *lookup) tlsa(ctx context.Context, host string) {
	name := "_25._tcp." + host
	res := TLSAResult{Name: name, Records: []string{}}
	recs, ans, err := l.records(ctx, name, TypeTLSA)
	if k := KindOf(err); k == KindNXDomain || k == KindNoData {
		err = nil
	}
	for _, r := range recs {
		res.Records = append(res.Records, strings.TrimSpace(r.Data))
	}
	res.Found = len(res.Records) > 0
	if ans != nil {
		res.AD = ans.AD
	}
	switch {
	case err != nil:
		res.Error = info(err)
		res.Verdict = "lookup failed: " + string(KindOf(err))
	case !res.Found:
		res.Verdict = "none (no DANE)"
	case res.AD:
		res.Verdict = fmt.Sprintf("DANE: %d TLSA record(s), DNSSEC-validated", len(res.Records))
	default:
		res.Verdict = fmt.Sprintf("%d TLSA record(s) but not DNSSEC-validated (AD clear): senders will not use DANE", len(res.Records))
	}
	l.mu.Lock()
	l.p.Records.TLSA[host] = res
	l.mu.Unlock()
	l.emit(Event{Kind: EventRecord, Record: "tlsa", Host: host, Verdict: res.Verdict, Err: cloneInfo(res.Error)})
}
