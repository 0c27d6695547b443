package check

import (
	"fmt"
	"strings"
	"time"

	"github.com/mailflow/mailflow/diag/replycode"
)

// DiffCaps compares the capabilities announced before and after STARTTLS
// (or authentication). Lines are matched by their first word, upper
// case, so "AUTH PLAIN" before and "AUTH PLAIN LOGIN" after is a change
// of AUTH rather than a removal and an addition. It returns nil when
// after is empty (the capabilities were not asked for again).
func DiffCaps(before, after []string) *CapsDiff {
	if len(after) == 0 {
		return nil
	}
	key := func(l string) string {
		f := strings.Fields(l)
		if len(f) == 0 {
			return ""
		}
		return strings.ToUpper(f[0])
	}
	index := func(list []string) map[string]string {
		m := make(map[string]string, len(list))
		for _, l := range list {
			if k := key(l); k != "" {
				if _, dup := m[k]; !dup {
					m[k] = l
				}
			}
		}
		return m
	}
	b, a := index(before), index(after)
	d := &CapsDiff{Added: []string{}, Removed: []string{}, Changed: []CapChange{}}
	seen := map[string]bool{}
	for _, l := range after {
		k := key(l)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		old, ok := b[k]
		switch {
		case !ok:
			d.Added = append(d.Added, l)
		case !sameParams(old, l):
			d.Changed = append(d.Changed, CapChange{Keyword: k, Before: old, After: l})
		}
	}
	seen = map[string]bool{}
	for _, l := range before {
		k := key(l)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		if _, ok := a[k]; !ok {
			d.Removed = append(d.Removed, l)
		}
	}
	return d
}

// sameParams compares two capability lines word by word, ignoring case
// and the order of parameters (AUTH mechanisms come in any order).
func sameParams(x, y string) bool {
	fx, fy := strings.Fields(strings.ToUpper(x)), strings.Fields(strings.ToUpper(y))
	if len(fx) != len(fy) {
		return false
	}
	count := map[string]int{}
	for _, f := range fx {
		count[f]++
	}
	for _, f := range fy {
		count[f]--
		if count[f] < 0 {
			return false
		}
	}
	return true
}

// slowBannerNote is the sentence reported for a slow banner.
func slowBannerNote(d time.Duration) string {
	return fmt.Sprintf("banner after %.1f s: likely a greet pause (postscreen) or tarpit; the server did answer, so this is not a failure, but a client with a short timeout would give up", d.Seconds())
}

// analyze fills the fields derived from the steps: the greeting delay,
// the capability diff, one answer per recipient and the explanation of
// the failing reply. It is idempotent.
// finishResult derives the fields every protocol's result shares (the
// capabilities diff, the explanation of a failure) and the time taken
// since start. Each runner calls it, so that RunPOP3 and RunIMAP called
// directly report the same as through Run.
func finishResult(r *Result, opts Options, start time.Time) {
	analyze(r, opts)
	r.ElapsedMs = ms(time.Since(start))
}

func analyze(r *Result, opts Options) {
	if len(r.CapsAfter) > 0 {
		r.CapsDiff = DiffCaps(r.CapsBefore, r.CapsAfter)
	}
	r.Greeting = nil
	for _, s := range r.Steps {
		if s.Name == "connect" && s.ReplyCode != "" && !s.Skipped {
			g := &Greeting{DelayMs: s.RTTms}
			limit := opts.SlowBanner
			if limit == 0 {
				limit = DefaultSlowBanner
			}
			if limit > 0 && s.RTT >= limit {
				g.Slow = true
				g.Note = slowBannerNote(s.RTT)
				if !containsString(r.Warnings, g.Note) {
					r.Warnings = append(r.Warnings, g.Note)
				}
			}
			r.Greeting = g
			break
		}
	}
	if r.Protocol == "smtp" && len(opts.To) > 0 {
		r.Recipients = recipients(r.Steps, opts.To)
	}
	r.Explanation = explain(r)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// recipients pairs the rcpt steps, in order, with the recipients asked
// for. Recipients without a step were not tried.
func recipients(steps []Step, to []string) []RecipientResult {
	out := make([]RecipientResult, len(to))
	i := 0
	for _, s := range steps {
		if s.Name != "rcpt" || i >= len(to) {
			continue
		}
		rr := RecipientResult{Address: to[i], ReplyCode: s.ReplyCode, EnhancedCode: s.EnhancedCode, Reply: s.Reply}
		switch {
		case s.Skipped || s.ReplyCode == "":
			rr.Verdict = VerdictNotTried
		case s.OK:
			rr.Verdict = "accepted"
		case strings.HasPrefix(s.ReplyCode, "4"):
			rr.Verdict = VerdictDeferred
		default:
			rr.Verdict = VerdictRefused
		}
		out[i] = rr
		i++
	}
	for ; i < len(to); i++ {
		out[i] = RecipientResult{Address: to[i], Verdict: VerdictNotTried}
	}
	return out
}

// failingStep returns the first step that ran and got a negative reply,
// or nil.
func failingStep(steps []Step) *Step {
	for i := range steps {
		s := &steps[i]
		if !s.Skipped && !s.OK && s.ReplyCode != "" {
			return s
		}
	}
	return nil
}

// explainCommand names a step for replycode.Input.Command.
func explainCommand(step string) string {
	switch step {
	case "connect":
		return "connect"
	case "message":
		return "."
	}
	return strings.ToUpper(step)
}

// explain asks diag/replycode about the failing reply.
func explain(r *Result) *Explanation {
	s := failingStep(r.Steps)
	if s == nil {
		return nil
	}
	x := replycode.Explain(replycode.Input{
		Protocol: replycode.Protocol(r.Protocol),
		Command:  explainCommand(s.Name),
		Lines:    s.Reply,
	})
	return &Explanation{
		Step: s.Name, Code: x.Code, EnhancedCode: x.EnhancedCode,
		Class: string(x.Class), Category: string(x.Category),
		Summary: x.Summary, Meaning: x.Meaning, Causes: x.Causes, NextSteps: x.NextSteps,
	}
}

// temporaryFailure reports whether the check ended on a 4xx reply.
func temporaryFailure(r *Result) bool {
	s := failingStep(r.Steps)
	return s != nil && strings.HasPrefix(s.ReplyCode, "4")
}

// sessionDeferred reports whether a sending MTA would give up on this
// server and try the next one (RFC 5321 §5.1: an MTA tries the next MX
// when one cannot be reached or does not accept a session): a 4xx in the
// greeting or in reply to EHLO, HELO or STARTTLS, or a 421 (service
// closing the channel) at any step. A refusal later in the transaction
// is the server's answer about the message: the MTA would keep it queued
// (4xx) or bounce it (5xx) rather than go on to a backup MX.
func sessionDeferred(r *Result) bool {
	s := failingStep(r.Steps)
	if s == nil || !strings.HasPrefix(s.ReplyCode, "4") {
		return false
	}
	switch s.Name {
	case "connect", "ehlo", "helo", "starttls":
		return true
	}
	return s.ReplyCode == "421"
}
