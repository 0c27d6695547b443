package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"

	"github.com/mailflow/mailflow/diag/addr"
	"github.com/mailflow/mailflow/diag/mx"
	"github.com/mailflow/mailflow/session/transcript"
)

func init() { register(newMxCmd) }

// mxOptions are the flags of "mailflow mx".
type mxOptions struct {
	resolvers    []string
	json         bool
	timeout      time.Duration
	splitHorizon bool
	resolvConf   string // tests point this at a missing file
}

func newMxCmd() *cobra.Command {
	o := &mxOptions{}
	cmd := &cobra.Command{
		Use:   "mx DOMAIN",
		Short: "Show where a domain's mail goes: MX hosts, addresses, reverse DNS, SPF/DMARC/MTA-STS/TLS-RPT/DANE",
		Long: `Ask DNS where mail for DOMAIN goes and what could stop it.

Shows the MX hosts by preference (or the implicit MX when there is none, or
the null MX "MX 0 ."), each host's addresses, reverse DNS and whether it is
forward-confirmed, and the SPF, DMARC, MTA-STS, TLS-RPT and DANE TLSA
records, with the problems found. Unicode domains are accepted and shown in
both forms.

Exit status: 0 DNS says the domain can receive mail; 1 it cannot (null MX,
nothing resolvable, the domain does not exist, SERVFAIL); 2 bad input;
3 DNS could not be asked (timeout, no resolver, refused everywhere).`,
		Example: `  mailflow mx example.com
  mailflow mx bücher.example --json
  mailflow mx example.com --resolver 127.0.0.1:5353 --resolver 192.0.2.53
  mailflow mx example.com --split-horizon --timeout 5s`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMx(cmd.Context(), cmd.OutOrStdout(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.resolvers, "resolver", nil, "name server to ask, HOST[:PORT] (repeatable; default: /etc/resolv.conf)")
	f.BoolVar(&o.json, "json", false, "print the picture as JSON")
	f.DurationVar(&o.timeout, "timeout", 10*time.Second, "give up on the whole lookup after this long")
	f.BoolVar(&o.splitHorizon, "split-horizon", false, "also ask the domain's authoritative servers and compare their MX")
	return cmd
}

func runMx(ctx context.Context, w io.Writer, domain string, o *mxOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.timeout <= 0 {
		return usageErr("mx: --timeout must be positive, got %v", o.timeout)
	}
	d, err := addr.ParseDomain(strings.TrimSpace(domain))
	if err != nil {
		return usageErr("mx: %q is not a domain: %v", transcript.PrintableString(domain), strings.TrimPrefix(err.Error(), "addr: "))
	}
	// Each attempt gets a share of the whole budget so that a retry or a
	// second server still fits in it.
	perQuery := min(2*time.Second, o.timeout/3)
	var client *mx.Client
	if len(o.resolvers) > 0 {
		client = &mx.Client{Retries: 1}
		for _, r := range o.resolvers {
			host, port, err := addr.ParseHostPort(r, 53)
			if err != nil {
				return usageErr("mx: --resolver %q: %v", transcript.PrintableString(r), strings.TrimPrefix(err.Error(), "addr: "))
			}
			client.Servers = append(client.Servers, mxJoinHostPort(host, port))
		}
	} else {
		client, err = mx.NewSystemClient(o.resolvConf)
		if err != nil {
			if o.json {
				mxWriteJSON(w, &mx.Picture{Domain: d.Unicode, ASCIIDomain: d.ASCII, MX: []mx.MXHost{}, Problems: []mx.Problem{},
					Error: &mx.ErrorInfo{Kind: mx.KindOf(err), Message: err.Error()}})
			}
			return withCode(exitUnreachable, err)
		}
	}
	client.Timeout = perQuery

	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	p, err := mx.Lookup(ctx, d.ASCII, mx.Options{Resolver: client, SplitHorizon: o.splitHorizon})
	if p == nil {
		if mx.KindOf(err) == mx.KindBadInput {
			return withCode(exitUsage, err)
		}
		return withCode(exitUnreachable, err)
	}
	if o.json {
		if err := mxWriteJSON(w, p); err != nil {
			return withCode(exitUnreachable, err)
		}
	} else {
		writeMxTable(w, p)
	}
	switch {
	case p.CanReceive:
		return nil
	case p.Unreachable():
		return withCode(exitUnreachable, nil)
	default:
		return withCode(exitRefused, nil)
	}
}

func mxJoinHostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		return fmt.Sprintf("[%s]:%d", host, port)
	}
	return fmt.Sprintf("%s:%d", host, port)
}

func mxWriteJSON(w io.Writer, p *mx.Picture) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

// mxWidth is the width the table is laid out for.
const mxWidth = 80

// safe makes a DNS-supplied string harmless on a terminal and keeps it on
// one line.
func mxSafe(s string) string {
	return strings.ReplaceAll(transcript.PrintableString(s), "\t", " ")
}

// line writes one table line, cut to mxWidth columns.
func mxLine(w io.Writer, format string, args ...any) {
	fmt.Fprintln(w, ansi.Truncate(fmt.Sprintf(format, args...), mxWidth, "…"))
}

// wrapped writes text word-wrapped to mxWidth, every line after the first
// indented like the first line's text.
func mxWrapped(w io.Writer, prefix, text string) {
	indent := strings.Repeat(" ", ansi.StringWidth(prefix))
	cur := prefix
	curWidth := ansi.StringWidth(prefix)
	empty := true
	for _, word := range strings.Fields(text) {
		ww := ansi.StringWidth(word)
		if !empty && curWidth+1+ww > mxWidth {
			mxLine(w, "%s", cur)
			cur, curWidth, empty = indent, len(indent), true
		}
		if !empty {
			cur += " "
			curWidth++
		}
		cur += word
		curWidth += ww
		empty = false
	}
	mxLine(w, "%s", cur)
}

func mxYesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func writeMxTable(w io.Writer, p *mx.Picture) {
	dom := mxSafe(p.Domain)
	if p.Domain != p.ASCIIDomain {
		dom += " (" + mxSafe(p.ASCIIDomain) + ")"
	}
	mxLine(w, "Domain   %s", dom)
	mxWrapped(w, "Verdict  ", mxSafe(p.Verdict))
	if p.Server != "" {
		mxLine(w, "Server   %s  AD %s  RTT %v  total %v", mxSafe(p.Server), mxYesNo(p.AD),
			p.RTT.Round(time.Millisecond), p.Elapsed.Round(time.Millisecond))
	}
	if p.Error != nil {
		mxWrapped(w, "Error    ", mxSafe(strings.TrimPrefix(p.Error.Message, "mx: ")))
	}
	switch {
	case p.NullMX:
		mxLine(w, "")
		mxLine(w, "MX 0 .   null MX: this domain accepts no mail (RFC 7505)")
	case len(p.MX) > 0:
		mxLine(w, "")
		mxLine(w, "%-5s %-40s %s", "PREF", "HOST / ADDRESS", "REVERSE DNS")
		for _, h := range p.MX {
			name := mxSafe(h.Host)
			if h.HostUnicode != "" {
				name = mxSafe(h.HostUnicode) + " (" + name + ")"
			}
			pref := fmt.Sprint(h.Preference)
			if h.Implicit {
				pref = "impl"
				name += "  (implicit MX: the domain itself)"
			}
			if h.CNAME != "" {
				name += "  -> CNAME " + mxSafe(h.CNAME)
			}
			mxLine(w, "%5s %s", pref, name)
			for _, a := range h.Addresses {
				k := a.String()
				rev := "(no PTR)"
				if names := h.PTR[k]; len(names) > 0 {
					rev = mxSafe(strings.Join(names, ","))
					if h.FCrDNS[k] {
						rev += " ✓ confirmed"
					} else {
						rev += " ✗ not confirmed"
					}
				}
				mxLine(w, "%5s   %-38s %s", "", k, rev)
			}
			if len(h.Addresses) == 0 {
				reason := "no address"
				if h.Error != nil {
					reason += " (" + string(h.Error.Kind) + ")"
				}
				mxLine(w, "%5s   %s", "", reason)
			}
		}
	}
	r := p.Records
	mxLine(w, "")
	mxLine(w, "Records")
	mxWrapped(w, "  SPF      ", mxSafe(r.SPF.Verdict))
	mxWrapped(w, "  DMARC    ", mxSafe(r.DMARC.Verdict))
	mxWrapped(w, "  MTA-STS  ", mxSafe(r.MTASTS.Verdict))
	mxWrapped(w, "  TLS-RPT  ", mxSafe(r.TLSRPT.Verdict))
	for _, h := range p.MX {
		if t, ok := r.TLSA[h.Host]; ok {
			mxWrapped(w, "  TLSA     ", mxSafe(h.Host+": "+t.Verdict))
		}
	}
	if sh := p.SplitHorizon; sh != nil {
		mxWrapped(w, "  Split    ", mxSafe(sh.Verdict))
	}
	if probs := p.AllProblems(); len(probs) > 0 {
		mxLine(w, "")
		mxLine(w, "Problems")
		for _, pr := range probs {
			mxWrapped(w, fmt.Sprintf("  %-8s ", pr.Severity), mxSafe(pr.Message))
		}
	}
}
