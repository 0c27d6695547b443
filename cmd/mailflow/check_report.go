package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mailflow/mailflow/session/check"
	"github.com/mailflow/mailflow/session/transcript"
)

// The human-readable report of "mailflow check": the step table, the
// capabilities before and after STARTTLS, and the explanation of a failure.

// printCheck writes the human report: warnings, the MX verdicts, one line
// per step with a verdict that reads without colour, the recipients, the
// capabilities before and after STARTTLS, TLS facts, the explanation of a
// failure and the overall result. Every server text passes through
// transcript.Printable.
func printCheck(w io.Writer, r *check.Result) {
	p := transcript.PrintableString
	head := strings.ToUpper(r.Protocol) + " check of " + p(r.Server)
	if r.Address != "" && r.Address != r.Server {
		head += " (" + p(r.Address) + ")"
	}
	fmt.Fprintln(w, head)
	for _, warn := range r.Warnings {
		fmt.Fprint(w, wrapText("Note: "+p(warn), 80, "      "))
	}
	if len(r.Hosts) > 0 {
		fmt.Fprintln(w, "\nMX hosts:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  PREF\tHOST\tADDRESS\tVERDICT\tBANNER\tREPLY OR ERROR")
		for _, h := range r.Hosts {
			pref := strconv.Itoa(h.Preference)
			if h.Preference < 0 {
				pref = "implicit"
			}
			banner := ""
			if h.GreetingMs > 0 {
				banner = checkRTT(time.Duration(h.GreetingMs * float64(time.Millisecond)))
			}
			detail := h.Reply
			if detail == "" || h.Verdict == check.VerdictUnreachable {
				detail = h.Err
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", pref, p(h.Host), p(h.Address), hostVerdict(h.Verdict), banner, checkClip(p(detail), 60))
		}
		tw.Flush()
		if len(r.Families) > 1 || len(r.MXHosts) > 0 && hasBothFamilies(r.MXHosts) {
			fmt.Fprintln(w, "\nPer address family:")
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  HOST\tVERDICT\tIPV4\tIPV6")
			for _, m := range r.MXHosts {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p(m.Host), hostVerdict(m.Verdict), familyVerdict(m.IPv4), familyVerdict(m.IPv6))
			}
			if len(r.Families) > 0 {
				fmt.Fprintf(tw, "  (domain)\t\t%s\t%s\n", familyVerdict(r.Families["ipv4"]), familyVerdict(r.Families["ipv6"]))
			}
			tw.Flush()
		}
	}
	if len(r.Steps) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  STEP\tCOMMAND\tREPLY\tRTT\tVERDICT")
		for _, s := range r.Steps {
			reply := ""
			if len(s.Reply) > 0 {
				reply = s.Reply[0]
				if len(s.Reply) > 1 {
					reply += fmt.Sprintf(" (+%d lines)", len(s.Reply)-1)
				}
			} else if s.Err != "" {
				reply = s.Err
			}
			rtt := ""
			if s.ReplyCode != "" || (s.Name == "connect" && s.OK) {
				rtt = checkRTT(s.RTT)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", s.Name, checkClip(p(s.Command), 40), checkClip(p(reply), 70), rtt, stepVerdict(s))
		}
		tw.Flush()
	}
	if len(r.Recipients) > 1 {
		fmt.Fprintln(w, "\nRecipients:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, rc := range r.Recipients {
			reply := ""
			if len(rc.Reply) > 0 {
				reply = rc.Reply[0]
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", p(rc.Address), recipientVerdict(rc.Verdict), checkClip(p(reply), 60))
		}
		tw.Flush()
	}
	printCaps(w, r)
	if r.TLS != nil && r.TLS.Version != "" {
		fmt.Fprintln(w, "\n"+p(r.TLS.Summary()))
	} else if r.TLS != nil && r.TLS.VerifyReason != "" {
		fmt.Fprintln(w, "\nTLS: certificate verification failed ("+r.TLS.VerifyReason+"): "+p(r.TLS.VerifyError))
	}
	if r.MessageID != "" {
		fmt.Fprintln(w, "Message-ID: "+p(r.MessageID))
	}
	if x := r.Explanation; x != nil && r.Exit != check.ExitOK {
		fmt.Fprintln(w)
		code := x.Code
		if x.EnhancedCode != "" {
			code += " " + x.EnhancedCode
		}
		fmt.Fprint(w, wrapText("Why: "+p(code)+" at "+p(x.Step)+": "+p(x.Summary), 80, "     "))
		if len(x.Causes) > 0 {
			fmt.Fprintln(w, "Likely causes:")
			for _, c := range x.Causes[:min(3, len(x.Causes))] {
				fmt.Fprint(w, wrapText("  - "+p(c), 80, "    "))
			}
		}
		if len(x.NextSteps) > 0 {
			fmt.Fprintln(w, "Next steps:")
			for _, c := range x.NextSteps[:min(3, len(x.NextSteps))] {
				fmt.Fprint(w, wrapText("  - "+p(c), 80, "    "))
			}
		}
	}
	fmt.Fprintln(w)
	if r.Exit == check.ExitOK {
		fmt.Fprintln(w, "Result: ✓ OK: every step succeeded (exit 0)")
		return
	}
	word := map[int]string{check.ExitRefused: "REFUSED", check.ExitUsage: "USAGE ERROR", check.ExitUnreachable: "UNREACHABLE"}[r.Exit]
	fmt.Fprintf(w, "Result: ✗ %s: %s (exit %d)\n", word, p(r.Error), r.Exit)
}

func hasBothFamilies(ms []check.MXSummary) bool {
	v4, v6 := false, false
	for _, m := range ms {
		v4 = v4 || m.IPv4 != ""
		v6 = v6 || m.IPv6 != ""
	}
	return v4 && v6
}

func familyVerdict(v string) string {
	if v == "" {
		return "-"
	}
	return hostVerdict(v)
}

func recipientVerdict(v string) string {
	switch v {
	case "accepted":
		return "✓ accepted"
	case check.VerdictNotTried:
		return "- not tried"
	case check.VerdictDeferred:
		return "✗ deferred (temporary)"
	}
	return "✗ " + v
}

// printCaps shows the capabilities before and after STARTTLS side by
// side, with a marker for what changed: "+" only after, "-" only before,
// "~" different parameters.
func printCaps(w io.Writer, r *check.Result) {
	if len(r.CapsAfter) == 0 {
		return
	}
	p := transcript.PrintableString
	d := r.CapsDiff
	if d == nil {
		d = check.DiffCaps(r.CapsBefore, r.CapsAfter)
	}
	mark := map[string]string{}
	for _, l := range d.Added {
		mark[capKey(l)] = "+"
	}
	for _, l := range d.Removed {
		mark[capKey(l)] = "-"
	}
	for _, c := range d.Changed {
		mark[c.Keyword] = "~"
	}
	before := map[string]string{}
	for _, l := range r.CapsBefore {
		if _, ok := before[capKey(l)]; !ok {
			before[capKey(l)] = l
		}
	}
	after := map[string]string{}
	for _, l := range r.CapsAfter {
		if _, ok := after[capKey(l)]; !ok {
			after[capKey(l)] = l
		}
	}
	var keys []string
	seen := map[string]bool{}
	for _, l := range append(append([]string(nil), r.CapsBefore...), r.CapsAfter...) {
		if k := capKey(l); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	fmt.Fprintln(w, "\nCapabilities:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  \tBEFORE STARTTLS\tAFTER STARTTLS")
	for _, k := range keys {
		m := mark[k]
		if m == "" {
			m = " "
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", m, checkClip(p(orDash(before[k])), 36), checkClip(p(orDash(after[k])), 36))
	}
	tw.Flush()
	if d.Empty() {
		fmt.Fprintln(w, "  (no change)")
		return
	}
	var parts []string
	for _, l := range d.Added {
		parts = append(parts, "+"+p(l))
	}
	for _, l := range d.Removed {
		parts = append(parts, "-"+p(l))
	}
	for _, c := range d.Changed {
		parts = append(parts, "~"+p(c.Before)+" → "+p(c.After))
	}
	fmt.Fprint(w, wrapText("  Changed: "+strings.Join(parts, "; "), 80, "    "))
}

func capKey(l string) string {
	f := strings.Fields(l)
	if len(f) == 0 {
		return ""
	}
	return strings.ToUpper(f[0])
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// wrapText wraps s at width columns (counted in runes), indenting the
// continuation lines, and ends it with a newline.
func wrapText(s string, width int, indent string) string {
	var b strings.Builder
	lead := s[:len(s)-len(strings.TrimLeft(s, " "))]
	b.WriteString(lead)
	line := len(lead)
	for i, word := range strings.Fields(s) {
		n := len([]rune(word))
		if i > 0 {
			if line+1+n > width {
				b.WriteString("\n" + indent)
				line = len([]rune(indent))
			} else {
				b.WriteByte(' ')
				line++
			}
		}
		b.WriteString(word)
		line += n
	}
	b.WriteByte('\n')
	return b.String()
}

func stepVerdict(s check.Step) string {
	switch {
	case s.Skipped:
		return "- skipped"
	case s.OK:
		return "✓ ok"
	case s.ErrKind == check.KindServerRefused && s.ReplyCode != "" && s.ReplyCode[0] == '4':
		return "✗ refused (temporary)"
	case s.ErrKind == check.KindServerRefused:
		return "✗ refused"
	case s.ErrKind == check.KindNotOffered:
		return "✗ not offered by the server"
	case s.ErrKind != "":
		return "✗ failed (" + s.ErrKind + ")"
	}
	return "✗ failed"
}

func hostVerdict(v string) string {
	switch v {
	case check.VerdictOK:
		return "✓ ok"
	case check.VerdictNotTried:
		return "- not tried"
	case check.VerdictDeferred:
		return "✗ deferred (temporary)"
	}
	return "✗ " + v
}

func checkRTT(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
	return d.Round(time.Millisecond).String()
}

func checkClip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// domainPlaceholder in --to and --from is replaced by each domain of a
// batch, so that "postmaster@{domain}" probes every domain's postmaster.
const domainPlaceholder = "{domain}"
