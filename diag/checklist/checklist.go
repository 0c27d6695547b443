package checklist

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"

	"github.com/mailflow/mailflow/assets"
)

// Step is a point in an SMTP, POP3 or IMAP conversation that can fail. The
// string values are stable: the wizard's step data and the TUI refer to them.
type Step string

// The steps that have a checklist, in conversation order.
const (
	StepConnect   Step = "connect"
	StepBanner    Step = "banner"
	StepEHLO      Step = "ehlo"
	StepSTARTTLS  Step = "starttls"
	StepAuth      Step = "auth"
	StepMail      Step = "mail"
	StepRcpt      Step = "rcpt"
	StepData      Step = "data"        // the DATA command itself (354 expected)
	StepEndOfData Step = "end-of-data" // the reply after the final "."
	StepQuit      Step = "quit"
	StepPOP3Login Step = "pop3-login"
	StepIMAPLogin Step = "imap-login"
)

// Steps returns every step that has a checklist, in conversation order.
func Steps() []Step {
	return []Step{
		StepConnect, StepBanner, StepEHLO, StepSTARTTLS, StepAuth, StepMail,
		StepRcpt, StepData, StepEndOfData, StepQuit, StepPOP3Login, StepIMAPLogin,
	}
}

// Status is how an item stands against the evidence.
type Status string

// Item statuses, in the order Evaluate sorts them.
const (
	Likely   Status = "likely"    // the evidence points at this reason
	Unknown  Status = "unknown"   // the evidence neither supports nor excludes it
	RuledOut Status = "ruled-out" // the evidence excludes it
)

func (s Status) rank() int {
	switch s {
	case Likely:
		return 0
	case Unknown:
		return 1
	default:
		return 2
	}
}

// Item is one possible reason for a failure at a step, with how to check
// it and, after Evaluate, where it stands.
type Item struct {
	ID    string
	Step  Step
	Title string
	// Check says how to confirm or rule out the reason by hand.
	Check string
	// Status and Why are filled in by Evaluate. Why is one sentence that
	// refers to the evidence; it never contains server-supplied text.
	Status Status
	Why    string
}

// entry is one [[item]] of the embedded TOML, with its matchers.
type entry struct {
	ID         string   `toml:"id"`
	Step       Step     `toml:"step"`
	Title      string   `toml:"title"`
	Check      string   `toml:"check"`
	Categories []string `toml:"categories"`
	Codes      []string `toml:"codes"`
	Text       []string `toml:"text"`
}

// Catalog is a validated set of checklist items. The zero value is empty;
// use Default for the embedded data or Load for another source.
type Catalog struct {
	entries []entry
	byStep  map[Step][]int
}

type file struct {
	Item []entry `toml:"item"`
}

// Categories lists the reply-code explainer's category names. They are kept
// here as strings (the same values as diag/replycode's constants) so that the
// data files can be validated without importing the explainer.
var Categories = []string{
	"ok", "mailbox-unknown", "mailbox-full", "mailbox-disabled", "mailbox-locked",
	"sender-invalid", "relay-denied", "auth-required", "auth-failed", "tls-required",
	"spf-fail", "dkim-fail", "dmarc-fail", "reverse-dns", "blocklisted", "rate-limited",
	"greylisted", "message-too-big", "content-rejected", "syntax", "bad-sequence",
	"helo-rejected", "policy", "routing", "service-unavailable", "other",
}

func validCategory(c string) bool { return slices.Contains(Categories, c) }

var (
	idRE   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	codeRE = regexp.MustCompile(`^([2-5][0-9][0-9]|[245]\.[0-9]{1,3}(\.[0-9]{1,3})?)$`)
)

// Load reads every *.toml file at the root of fsys and validates it: unique
// IDs, known steps and categories, well-formed codes, lower-case text
// matchers, and a title and a check for every item.
func Load(fsys fs.FS) (*Catalog, error) {
	names, err := fs.Glob(fsys, "*.toml")
	if err != nil {
		return nil, fmt.Errorf("checklist: list data: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("checklist: no *.toml data files")
	}
	sort.Strings(names)
	c := &Catalog{byStep: map[Step][]int{}}
	seen := map[string]string{}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("checklist: read %s: %w", name, err)
		}
		var f file
		md, err := toml.Decode(string(b), &f)
		if err != nil {
			return nil, fmt.Errorf("checklist: parse %s: %w", name, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			return nil, fmt.Errorf("checklist: %s: unknown key %s", name, und[0])
		}
		for _, e := range f.Item {
			where := path.Base(name) + ": " + e.ID
			if err := e.validate(); err != nil {
				return nil, fmt.Errorf("checklist: %s: %w", where, err)
			}
			if prev, dup := seen[e.ID]; dup {
				return nil, fmt.Errorf("checklist: %s: duplicate id (first in %s)", where, prev)
			}
			seen[e.ID] = name
			c.byStep[e.Step] = append(c.byStep[e.Step], len(c.entries))
			c.entries = append(c.entries, e)
		}
	}
	return c, nil
}

func (e entry) validate() error {
	if !idRE.MatchString(e.ID) {
		return fmt.Errorf("id %q is not lower-case-with-dashes", e.ID)
	}
	if !slices.Contains(Steps(), e.Step) {
		return fmt.Errorf("unknown step %q", e.Step)
	}
	if strings.TrimSpace(e.Title) == "" || strings.TrimSpace(e.Check) == "" {
		return fmt.Errorf("title and check are required")
	}
	for _, cat := range e.Categories {
		if !validCategory(cat) {
			return fmt.Errorf("unknown category %q", cat)
		}
	}
	for _, code := range e.Codes {
		if !codeRE.MatchString(code) {
			return fmt.Errorf("malformed code %q (want 550, 5.7 or 5.1.1)", code)
		}
	}
	for _, t := range e.Text {
		if t == "" || t != strings.ToLower(t) {
			return fmt.Errorf("text matcher %q must be non-empty lower case", t)
		}
	}
	return nil
}

var defaultCatalog = sync.OnceValues(func() (*Catalog, error) {
	return Load(assets.ChecklistFiles())
})

// Default returns the catalog built from the embedded data files. The data
// is fixed at build time and validated by this package's tests, so a
// failure here is a build defect and panics.
func Default() *Catalog {
	c, err := defaultCatalog()
	if err != nil {
		panic(err)
	}
	return c
}

// Evaluate rates the embedded checklist for step against ev. See
// (*Catalog).Evaluate.
func Evaluate(step Step, ev Evidence) []Item { return Default().Evaluate(step, ev) }

// Items returns the items of step in data order, not yet evaluated
// (Status Unknown, empty Why).
func (c *Catalog) Items(step Step) []Item {
	out := make([]Item, 0, len(c.byStep[step]))
	for _, i := range c.byStep[step] {
		e := c.entries[i]
		out = append(out, Item{ID: e.ID, Step: e.Step, Title: e.Title, Check: e.Check, Status: Unknown})
	}
	return out
}

// All returns every item of every step, not yet evaluated.
func (c *Catalog) All() []Item {
	var out []Item
	for _, s := range Steps() {
		out = append(out, c.Items(s)...)
	}
	return out
}

// Evaluate rates every item of step against the evidence and returns them
// likely first, then unknown, then ruled out; within a status the data
// order is kept. It is pure: the same step and evidence give the same
// result.
//
// Each item is first offered to its specific rule (connect outcome,
// timings, TLS errors, capabilities); when the rule has no opinion, the
// reply decides: a success rules the item out, and a failure makes the
// best-matching items likely (category beats text beats code).
func (c *Catalog) Evaluate(step Step, ev Evidence) []Item {
	idx := c.byStep[step]
	scores := make([]int, len(idx))
	best, bestAt := 0, -1
	for k, i := range idx {
		scores[k] = c.entries[i].score(ev.Reply)
		if scores[k] > best {
			best, bestAt = scores[k], i
		}
	}
	out := make([]Item, 0, len(idx))
	for k, i := range idx {
		e := c.entries[i]
		it := Item{ID: e.ID, Step: e.Step, Title: e.Title, Check: e.Check}
		if r, ok := rules[e.ID]; ok {
			it.Status, it.Why = r(ev)
		}
		if it.Status == "" {
			it.Status, it.Why = generic(ev, scores[k], best, bestAt, c)
		}
		out = append(out, it)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Status.rank() < out[b].Status.rank() })
	return out
}

// Scores for how well a reply fits an item. The explainer's category is the
// strongest signal because it already weighs code, enhanced code and text.
const (
	scoreCategory = 8
	scoreText     = 4
	scoreEnhanced = 3 // exact enhanced code
	scorePrefix   = 2 // enhanced-code class/subject prefix such as "5.7"
	scoreBasic    = 1 // three-digit basic code
)

func (e entry) score(r Reply) int {
	if !r.Failed() {
		return 0
	}
	s := 0
	if r.Category != "" && slices.Contains(e.Categories, r.Category) {
		s += scoreCategory
	}
	low := strings.ToLower(r.Text)
	for _, t := range e.Text {
		if strings.Contains(low, t) {
			s += scoreText
			break
		}
	}
	codeScore := 0
	for _, code := range e.Codes {
		var cs int
		switch {
		case !strings.Contains(code, "."):
			if fmt.Sprint(r.Code) == code {
				cs = scoreBasic
			}
		case r.Enhanced == code:
			cs = scoreEnhanced
		case strings.HasPrefix(r.Enhanced, code+"."):
			cs = scorePrefix
		}
		codeScore = max(codeScore, cs)
	}
	return s + codeScore
}

func generic(ev Evidence, score, best, bestAt int, c *Catalog) (Status, string) {
	r := ev.Reply
	switch {
	case !r.Present() && ev.Closed:
		return Unknown, "The server closed the connection without answering this step, so there is no reply to judge."
	case !r.Present():
		return Unknown, "No reply for this step has been recorded yet."
	case r.Succeeded():
		return RuledOut, fmt.Sprintf("The server accepted this step with %s.", r.label())
	case !r.Failed():
		return Unknown, fmt.Sprintf("The reply %s is neither a success nor a failure.", r.label())
	case best == 0:
		return Unknown, fmt.Sprintf("The reply %s does not point at a specific reason; check this one by hand.", r.label())
	case score == best:
		return Likely, fmt.Sprintf("The reply %s matches this reason.", r.label())
	case score > 0:
		return Unknown, fmt.Sprintf("The reply %s fits this partly, but fits %q better.", r.label(), c.entries[bestAt].Title)
	default:
		return RuledOut, fmt.Sprintf("The reply %s points at another reason: %s.", r.label(), c.entries[bestAt].Title)
	}
}
