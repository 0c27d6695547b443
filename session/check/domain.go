package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/mailflow/mailflow/diag/mx"
	"github.com/mailflow/mailflow/session/transcript"
)

// RunDomain checks a mail domain the way a sending MTA reaches it (RFC
// 5321 §5.1): it asks DNS for the MX picture (diag/mx), then runs the SMTP
// procedure of RunSMTP against the MX hosts in preference order, every
// address of a host in turn, until one answers. A host that answers
// decides the result (even with a refusal: a real sender would get the
// same answer); a host that cannot be reached is recorded and the next
// one tried. The implicit MX (no MX records: the domain's own addresses)
// is followed; a null MX (RFC 7505) ends with exit 1 and its reason.
// opts.Port replaces 25 for every host; opts.Resolver names the DNS
// servers. The certificate of each host is checked against the MX name,
// not the address, unless TLSOptions.ServerName is set.
func RunDomain(ctx context.Context, domain string, opts Options) *Result {
	r := newResult("smtp", domain, opts)
	ts := r.Transcript
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
	var answered *Result
	var last *Result
	for _, t := range targets {
		pref := int(t.Preference)
		if t.Implicit {
			pref = -1
		}
		if answered != nil {
			r.Hosts = append(r.Hosts, HostResult{Host: t.Host, Preference: pref, Verdict: VerdictNotTried})
			continue
		}
		if len(t.Addresses) == 0 {
			msg := "the host has no address (A/AAAA)"
			for _, h := range pic.MX {
				if h.Host == t.Host && h.Error != nil {
					msg += ": " + h.Error.Message
				}
			}
			ts.Notef(transcript.Warning, "dns", "mx", t.Host+": "+msg+"; trying the next MX")
			r.Hosts = append(r.Hosts, HostResult{Host: t.Host, Preference: pref, Verdict: VerdictUnreachable, Err: msg})
			continue
		}
		for _, a := range t.Addresses {
			target := net.JoinHostPort(a.String(), strconv.Itoa(port))
			if answered != nil {
				r.Hosts = append(r.Hosts, HostResult{Host: t.Host, Preference: pref, Address: target, Verdict: VerdictNotTried})
				continue
			}
			o := opts
			o.Transcript = ts
			if o.TLSOptions.ServerName == "" {
				o.TLSOptions.ServerName = t.Host
			}
			ts.Notef(transcript.Info, "smtp", "connect", fmt.Sprintf("trying MX %s (preference %d) at %s", t.Host, t.Preference, target))
			hr := runSMTP(ctx, newResult("smtp", target, o), target, o)
			last = hr
			h := HostResult{Host: t.Host, Preference: pref, Address: target, Err: hr.Error}
			switch hr.Exit {
			case ExitOK:
				h.Verdict = VerdictOK
				answered = hr
			case ExitUnreachable:
				h.Verdict = VerdictUnreachable
				ts.Notef(transcript.Warning, "smtp", "connect", target+" did not answer; trying the next address or MX")
			default:
				h.Verdict = VerdictRefused
				answered = hr
			}
			r.Hosts = append(r.Hosts, h)
			if ctx.Err() != nil {
				break
			}
		}
	}
	pick := answered
	if pick == nil {
		pick = last
	}
	if pick != nil {
		r.Address, r.TLS, r.Steps = pick.Address, pick.TLS, pick.Steps
		r.CapsBefore, r.CapsAfter, r.MessageID = pick.CapsBefore, pick.CapsAfter, pick.MessageID
		r.Exit, r.Error, r.ErrorKind = pick.Exit, pick.Error, pick.ErrorKind
	}
	if answered == nil {
		hosts := make([]string, 0, len(r.Hosts))
		for _, h := range r.Hosts {
			hosts = append(hosts, h.Host)
		}
		r.Exit, r.ErrorKind = ExitUnreachable, "unreachable"
		r.Error = "no MX host of " + pic.ASCIIDomain + " answered (tried " + strings.Join(dedupe(hosts), ", ") + ")"
		if last != nil && last.Error != "" {
			r.Error += "; last error: " + last.Error
		}
	}
	return r
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
