package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/mailflow/mailflow/diag/addr"
	"github.com/mailflow/mailflow/session/check"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
	"golang.org/x/term"
)

// "mailflow check --domains FILE": many domains with bounded concurrency,
// a progress line on a terminal, and a summary table or JSON lines.

// readDomains reads a --domains list: one domain per line, "#" starts a
// comment, blank lines are ignored, duplicates are checked once. Every
// line is validated before anything is checked, so that a typo is
// reported with its line number instead of as a failed domain.
func readDomains(r io.Reader, name string) ([]string, error) {
	var out, bad []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		d, err := addr.ParseDomain(line)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s:%d: %q: %v", name, n, transcript.PrintableString(line), err))
			continue
		}
		key := strings.ToLower(d.ASCII)
		if !seen[key] {
			seen[key] = true
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(bad) > 0 {
		if len(bad) > 10 {
			bad = append(bad[:10], fmt.Sprintf("... and %d more", len(bad)-10))
		}
		return nil, errors.New("bad domain names:\n  " + strings.Join(bad, "\n  "))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s lists no domain", name)
	}
	return out, nil
}

// exitRank orders exit statuses for a batch: unreachable is worst, then
// refused, then OK (usage errors are caught before anything runs).
func exitRank(code int) int {
	switch code {
	case check.ExitUnreachable:
		return 3
	case check.ExitUsage:
		return 2
	case check.ExitRefused:
		return 1
	}
	return 0
}

// checkIsTerminal reports whether w is a terminal (for the progress bar).
func checkIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// batchProgress draws a one-line progress bar on a terminal, redrawn in
// place with a carriage return (no full-screen program is needed).
type batchProgress struct {
	w     io.Writer
	total int
}

// progressBar renders done/total as a bar of width cells.
func progressBar(done, total, width int) string {
	full := 0
	if total > 0 {
		full = done * width / total
	}
	return "[" + strings.Repeat("█", full) + strings.Repeat("░", width-full) + "]"
}

func (b *batchProgress) update(done int, last string) {
	if b == nil {
		return
	}
	fmt.Fprintf(b.w, "\r%s %d/%d %s\x1b[K", progressBar(done, b.total, 30), done, b.total, checkClip(transcript.PrintableString(last), 30))
}

func (b *batchProgress) clear() {
	if b != nil {
		fmt.Fprint(b.w, "\r\x1b[K")
	}
}

// runBatch checks every domain of --domains, --parallel at a time, then
// prints a summary table (or one JSON object per line, in input order, as
// soon as each is known) and exits with the worst status.
func runBatch(ctx context.Context, stdout, stderr io.Writer, o *checkOptions, opts check.Options, format transcript.Format) error {
	var in io.Reader
	name := o.domainsFile
	if name == "-" {
		in, name = o.stdin, "standard input"
		if in == nil {
			in = os.Stdin
		}
	} else {
		f, err := os.Open(o.domainsFile)
		if err != nil {
			return usageErr("--domains: %v", err)
		}
		defer f.Close()
		in = f
	}
	domains, err := readDomains(in, name)
	if err != nil {
		return usageErr("--domains: %v", err)
	}
	probe := opts
	probe.From = strings.ReplaceAll(opts.From, domainPlaceholder, "example.com")
	probe.To = nil
	for _, t := range opts.To {
		probe.To = append(probe.To, strings.ReplaceAll(t, domainPlaceholder, "example.com"))
	}
	if err := check.ValidateSMTP(probe); err != nil {
		return usageErr("%v", err)
	}
	var bar *batchProgress
	if checkIsTerminal(stderr) {
		bar = &batchProgress{w: stderr, total: len(domains)}
		bar.update(0, "")
	}
	results := make([]*check.Result, len(domains))
	var (
		mu   sync.Mutex
		done int
		next int // the first result not yet printed as JSON
	)
	enc := json.NewEncoder(stdout)
	sem := make(chan struct{}, o.parallel)
	var wg sync.WaitGroup
	for i, d := range domains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			var r *check.Result
			if ctx.Err() != nil {
				r = &check.Result{Protocol: "smtp", Server: d, Domain: d, Exit: check.ExitUnreachable, ErrorKind: string(wire.KindCanceled), Error: "not checked: " + ctx.Err().Error()}
			} else {
				o := opts
				o.Transcript = nil
				o.From = strings.ReplaceAll(o.From, domainPlaceholder, d)
				o.To = make([]string, len(opts.To))
				for j, t := range opts.To {
					o.To[j] = strings.ReplaceAll(t, domainPlaceholder, d)
				}
				r = check.RunDomain(ctx, d, o)
				<-sem
			}
			r.Domain = d
			mu.Lock()
			defer mu.Unlock()
			results[i] = r
			done++
			bar.update(done, d)
			if o.json {
				for next < len(results) && results[next] != nil {
					if err := enc.Encode(results[next]); err != nil {
						fmt.Fprintf(stderr, "mailflow: write JSON: %v\n", err)
					}
					next++
				}
			}
		}()
	}
	wg.Wait()
	bar.clear()
	worst := check.ExitOK
	for _, r := range results {
		if exitRank(r.Exit) > exitRank(worst) {
			worst = r.Exit
		}
	}
	if !o.json {
		printBatch(stdout, results, worst)
	}
	if o.transcript != "" {
		ts := transcript.NewStore()
		if opts.Password != "" {
			ts.AddSecret(opts.Password)
		}
		for _, r := range results {
			ts.Notef(transcript.Info, "dns", "mx", "mailflow check of "+r.Domain)
			if r.Transcript == nil {
				continue
			}
			for _, e := range r.Transcript.Entries() {
				e.Seq, e.Elapsed = 0, 0
				ts.Append(e)
			}
		}
		meta := transcript.Meta{Title: fmt.Sprintf("SMTP check of %d domains", len(results)), Target: o.domainsFile}
		if err := transcript.WriteFileAtomic(o.transcript, format, meta, ts.Entries(), true); err != nil {
			fmt.Fprintf(stderr, "mailflow: %v\n", err)
			if worst == check.ExitOK {
				return withCode(exitUsage, nil)
			}
		}
	}
	if worst != check.ExitOK {
		return withCode(worst, nil)
	}
	return nil
}

// batchVerdict is a domain's verdict in one word.
func batchVerdict(r *check.Result) string {
	switch {
	case r.Exit == check.ExitOK:
		return "✓ ok"
	case r.Exit == check.ExitUnreachable:
		return "✗ unreachable"
	case r.Exit == check.ExitUsage:
		return "✗ bad input"
	case r.ErrorKind == "deferred" || r.Explanation != nil && strings.HasPrefix(r.Explanation.Code, "4"):
		return "✗ deferred"
	}
	return "✗ refused"
}

// bestHost names the MX host the result comes from.
func bestHost(r *check.Result) string {
	for _, h := range r.Hosts {
		if h.Address != "" && h.Address == r.Address {
			return h.Host
		}
	}
	if r.Address != "" {
		return r.Address
	}
	return "-"
}

// deciding returns the reply that decided the result: the failing one,
// or the last reply before RSET/QUIT on success.
func deciding(r *check.Result) string {
	var last string
	for _, s := range r.Steps {
		if s.Skipped {
			continue
		}
		if !s.OK {
			if len(s.Reply) > 0 {
				return s.Reply[0]
			}
			return s.Err
		}
		if len(s.Reply) > 0 && s.Name != "quit" && s.Name != "rset" {
			last = s.Reply[0]
		}
	}
	if last == "" && r.Error != "" {
		return r.Error
	}
	return last
}

func printBatch(w io.Writer, results []*check.Result, worst int) {
	p := transcript.PrintableString
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DOMAIN\tVERDICT\tBEST HOST\tREPLY\tTIME")
	count := map[string]int{}
	for _, r := range results {
		v := batchVerdict(r)
		count[strings.TrimLeft(v, "✓✗ ")]++
		t := checkRTT(time.Duration(r.ElapsedMs * float64(time.Millisecond)))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p(r.Domain), v, p(bestHost(r)), checkClip(p(deciding(r)), 60), t)
	}
	tw.Flush()
	var parts []string
	for _, k := range []string{"ok", "refused", "deferred", "unreachable", "bad input"} {
		if count[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[k], k))
		}
	}
	fmt.Fprintf(w, "\n%d domains: %s (exit %d)\n", len(results), strings.Join(parts, ", "), worst)
}
