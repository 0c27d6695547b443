package replycode

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"

	"github.com/mailflow/mailflow/assets"
)

// meta describes one table file: its name and where its facts come from.
type meta struct {
	Table  string `toml:"table"`
	Title  string `toml:"title"`
	Source string `toml:"source"`
	Vendor string `toml:"vendor"`
}

// entry is one keyed row of a code table (SMTP basic codes, enhanced codes,
// POP3 and IMAP statuses and response codes).
type entry struct {
	Key     string `toml:"key"`
	Command string `toml:"command"`
	Class   Class  `toml:"class"`
	Refine  bool   `toml:"refine"`
	advice

	table string
}

// advice is the explanation a table row or a pattern gives: the same
// fields in both kinds of file, decoded in place (an embedded struct's
// fields are the outer table's keys) and checked by one rule.
type advice struct {
	Category  Category `toml:"category"`
	Summary   string   `toml:"summary"`
	Meaning   string   `toml:"meaning"`
	Causes    []string `toml:"causes"`
	NextSteps []string `toml:"next_steps"`
	Note      string   `toml:"note"`
}

// pattern is one vendor or keyword rule: code constraints plus text.
type pattern struct {
	ID        string   `toml:"id"`
	Vendor    string   `toml:"vendor"`
	Protocols []string `toml:"protocols"`
	Codes     []string `toml:"codes"`
	Enhanced  []string `toml:"enhanced"`
	Commands  []string `toml:"commands"`
	Classes   []Class  `toml:"classes"`
	Any       []string `toml:"any"`
	All       []string `toml:"all"`
	None      []string `toml:"none"`
	Regex     string   `toml:"regex"`
	Weak      bool     `toml:"weak"`
	advice

	table string
	re    *regexp.Regexp
	lits  []string // one of these must occur for re to match (prefilter)
	enh   []enhRange
}

// enhRange is an enhanced-code constraint: class may be 0 for "X" (any),
// and the detail is a range so that Microsoft's "5.7.606-649" fits.
type enhRange struct {
	class, subject, lo, hi int
}

// digit is the meaning of one digit position (RFC 5321 §4.2.1) or of an
// enhanced class or subject (RFC 3463 §2).
type digit struct {
	Key       string   `toml:"key"`
	Name      string   `toml:"name"`
	Class     Class    `toml:"class"`
	Category  Category `toml:"category"`
	Meaning   string   `toml:"meaning"`
	Causes    []string `toml:"causes"`
	NextSteps []string `toml:"next_steps"`
}

// command describes one command or step, so the explanation can say what a
// reply means at that point of the conversation.
type command struct {
	Key          string   `toml:"key"`
	Protocols    []string `toml:"protocols"`
	Aliases      []string `toml:"aliases"`
	Name         string   `toml:"name"`
	Success      string   `toml:"on_success"`
	Intermediate string   `toml:"on_intermediate"`
	Transient    string   `toml:"on_transient"`
	Permanent    string   `toml:"on_permanent"`
}

// file is the union of the shapes a table file may have.
type file struct {
	Meta     meta      `toml:"meta"`
	Entries  []entry   `toml:"entry"`
	Patterns []pattern `toml:"pattern"`
	First    []digit   `toml:"first"`
	Second   []digit   `toml:"second"`
	EClass   []digit   `toml:"enhanced_class"`
	ESubject []digit   `toml:"enhanced_subject"`
	Commands []command `toml:"command"`
}

// kb is the loaded knowledge base.
type kb struct {
	// codes maps table name → key → command ("" for any) → entry.
	smtp     map[string]*entry // key "550" or "550|RCPT"
	enhanced map[string]*entry // key "X.7.26"
	pop3     map[string]*entry // key "-ERR", "-ERR|PASS", "[IN-USE]"
	imap     map[string]*entry // key "NO", "NO|LOGIN", "[INUSE]"
	vendor   []*pattern        // file order, vendor files sorted by name
	keywords []*pattern        // strong keyword patterns, file order
	weak     []*pattern        // catch-all keyword patterns, file order
	first    map[string]*digit
	second   map[string]*digit
	eclass   map[string]*digit
	esubject map[string]*digit
	commands map[string]*command // canonical key → command
	aliases  map[string]string   // upper-case alias → canonical key
	sources  map[string]string   // table → source
}

var (
	kbOnce sync.Once
	kbData *kb
	kbErr  error
)

// load returns the knowledge base, reading it from the embedded assets the
// first time. A broken embedded file is a build defect, so callers panic.
func load() *kb {
	kbOnce.Do(func() {
		kbData, kbErr = loadFS(assets.ReplyCodes())
	})
	if kbErr != nil {
		panic(kbErr)
	}
	return kbData
}

// Check loads the knowledge base and reports the first problem found in it.
// Tests and the explain command call it so that a bad data file fails
// loudly instead of at the first Explain call.
func Check() error {
	kbOnce.Do(func() {
		kbData, kbErr = loadFS(assets.ReplyCodes())
	})
	return kbErr
}

var (
	reBasic       = regexp.MustCompile(`^[1-5][0-9][0-9]$`)
	reEnhancedKey = regexp.MustCompile(`^X\.[0-9]{1,3}\.[0-9]{1,3}$`)
	reEnhancedPat = regexp.MustCompile(`^([245X])\.([0-9]{1,3})\.([0-9]{1,3})(?:-([0-9]{1,3}))?$`)
	reCodePat     = regexp.MustCompile(`^[2-5][0-9]{0,2}$`)
	reID          = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`)
)

// loadFS parses and validates every *.toml file of fsys.
func loadFS(fsys fs.FS) (*kb, error) {
	names, err := fs.Glob(fsys, "*.toml")
	if err != nil {
		return nil, fmt.Errorf("replycode: list tables: %w", err)
	}
	if len(names) == 0 {
		return nil, errors.New("replycode: no tables found")
	}
	sort.Strings(names)
	k := &kb{
		smtp: map[string]*entry{}, enhanced: map[string]*entry{},
		pop3: map[string]*entry{}, imap: map[string]*entry{},
		first: map[string]*digit{}, second: map[string]*digit{},
		eclass: map[string]*digit{}, esubject: map[string]*digit{},
		commands: map[string]*command{}, aliases: map[string]string{},
		sources: map[string]string{},
	}
	files := make([]file, 0, len(names))
	// Commands first: other tables refer to them.
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("replycode: read %s: %w", name, err)
		}
		var f file
		md, err := toml.Decode(string(b), &f)
		if err != nil {
			return nil, fmt.Errorf("replycode: parse %s: %w", name, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			return nil, fmt.Errorf("replycode: %s: unknown field %s", name, und[0])
		}
		want := strings.TrimSuffix(path.Base(name), ".toml")
		if f.Meta.Table != want {
			return nil, fmt.Errorf("replycode: %s: meta.table is %q, want %q", name, f.Meta.Table, want)
		}
		if strings.TrimSpace(f.Meta.Source) == "" {
			return nil, fmt.Errorf("replycode: %s: meta.source is empty", name)
		}
		k.sources[want] = f.Meta.Source
		files = append(files, f)
		for i := range f.Commands {
			c := &f.Commands[i]
			if c.Key == "" || c.Name == "" || c.Permanent == "" || c.Success == "" {
				return nil, fmt.Errorf("replycode: %s: command %q lacks key, name or text", name, c.Key)
			}
			if _, dup := k.commands[c.Key]; dup {
				return nil, fmt.Errorf("replycode: %s: duplicate command %q", name, c.Key)
			}
			k.commands[c.Key] = c
			for _, a := range append([]string{c.Key}, c.Aliases...) {
				a = strings.ToUpper(a)
				if prev, dup := k.aliases[a]; dup {
					return nil, fmt.Errorf("replycode: %s: alias %q used by %s and %s", name, a, prev, c.Key)
				}
				k.aliases[a] = c.Key
			}
		}
	}
	for i, f := range files {
		name := names[i]
		t := f.Meta.Table
		if err := k.addDigits(name, f); err != nil {
			return nil, err
		}
		var dst map[string]*entry
		switch {
		case t == "smtp-codes":
			dst = k.smtp
		case t == "enhanced-codes":
			dst = k.enhanced
		case t == "pop3":
			dst = k.pop3
		case t == "imap":
			dst = k.imap
		case len(f.Entries) > 0:
			return nil, fmt.Errorf("replycode: %s: entries are only allowed in the code tables", name)
		}
		for j := range f.Entries {
			e := &f.Entries[j]
			e.table = t
			if err := k.checkEntry(t, e); err != nil {
				return nil, fmt.Errorf("replycode: %s: %w", name, err)
			}
			key := e.Key
			if e.Command != "" {
				key += "|" + e.Command
			}
			if _, dup := dst[key]; dup {
				return nil, fmt.Errorf("replycode: %s: duplicate key %q", name, key)
			}
			dst[key] = e
		}
		for j := range f.Patterns {
			p := &f.Patterns[j]
			p.table = t
			if p.Vendor == "" {
				p.Vendor = f.Meta.Vendor
			}
			if err := k.checkPattern(p); err != nil {
				return nil, fmt.Errorf("replycode: %s: pattern %q: %w", name, p.ID, err)
			}
			if t == "keywords" && p.Weak {
				k.weak = append(k.weak, p)
			} else if t == "keywords" {
				k.keywords = append(k.keywords, p)
			} else if strings.HasPrefix(t, "vendor-") || strings.HasPrefix(t, "dnsbl") {
				if p.Vendor == "" {
					return nil, fmt.Errorf("replycode: %s: pattern %q has no vendor", name, p.ID)
				}
				k.vendor = append(k.vendor, p)
			} else {
				return nil, fmt.Errorf("replycode: %s: patterns belong in keywords or vendor-* tables", name)
			}
		}
	}
	ids := map[string]bool{}
	for _, list := range [][]*pattern{k.vendor, k.keywords, k.weak} {
		for _, p := range list {
			id := p.table + ":" + p.ID
			if ids[id] {
				return nil, fmt.Errorf("replycode: duplicate pattern id %q", id)
			}
			ids[id] = true
		}
	}
	for _, req := range []struct {
		what string
		n    int
	}{
		{"smtp-codes entries", len(k.smtp)}, {"enhanced-codes entries", len(k.enhanced)},
		{"pop3 entries", len(k.pop3)}, {"imap entries", len(k.imap)},
		{"first-digit meanings", len(k.first)}, {"second-digit meanings", len(k.second)},
		{"commands", len(k.commands)}, {"keyword patterns", len(k.keywords)},
	} {
		if req.n == 0 {
			return nil, fmt.Errorf("replycode: no %s", req.what)
		}
	}
	return k, nil
}

func (k *kb) addDigits(name string, f file) error {
	for _, set := range []struct {
		dst  map[string]*digit
		list []digit
	}{{k.first, f.First}, {k.second, f.Second}, {k.eclass, f.EClass}, {k.esubject, f.ESubject}} {
		for i := range set.list {
			d := &set.list[i]
			if d.Key == "" || d.Name == "" || d.Meaning == "" {
				return fmt.Errorf("replycode: %s: digit %q lacks key, name or meaning", name, d.Key)
			}
			if d.Category != "" && !d.Category.Valid() {
				return fmt.Errorf("replycode: %s: digit %q: invalid category %q", name, d.Key, d.Category)
			}
			if _, dup := set.dst[d.Key]; dup {
				return fmt.Errorf("replycode: %s: duplicate digit %q", name, d.Key)
			}
			set.dst[d.Key] = d
		}
	}
	return nil
}

func validClass(c Class) bool {
	switch c {
	case ClassSuccess, ClassIntermediate, ClassTransient, ClassPermanent:
		return true
	}
	return false
}

func (k *kb) checkEntry(table string, e *entry) error {
	switch table {
	case "smtp-codes":
		if !reBasic.MatchString(e.Key) {
			return fmt.Errorf("malformed SMTP code %q", e.Key)
		}
	case "enhanced-codes":
		if !reEnhancedKey.MatchString(e.Key) {
			return fmt.Errorf("malformed enhanced code %q (want X.subject.detail)", e.Key)
		}
	case "pop3":
		if !isStatusKey(e.Key, "+OK", "-ERR", "+") {
			return fmt.Errorf("malformed POP3 key %q", e.Key)
		}
	case "imap":
		if !isStatusKey(e.Key, "OK", "NO", "BAD", "BYE", "PREAUTH", "+") {
			return fmt.Errorf("malformed IMAP key %q", e.Key)
		}
	}
	if e.Command != "" {
		if _, ok := k.commands[e.Command]; !ok {
			return fmt.Errorf("key %q: unknown command %q", e.Key, e.Command)
		}
	}
	if e.Class != "" && !validClass(e.Class) {
		return fmt.Errorf("key %q: invalid class %q", e.Key, e.Class)
	}
	if (table == "pop3" || table == "imap") && strings.HasPrefix(e.Key, "[") && e.Class == "" {
		return fmt.Errorf("key %q: response codes need a class", e.Key)
	}
	return e.check(e.Key)
}

// isStatusKey accepts a status word or a bracketed response code.
func isStatusKey(key string, words ...string) bool {
	if strings.HasPrefix(key, "[") && strings.HasSuffix(key, "]") && len(key) > 2 {
		in := key[1 : len(key)-1]
		return in == strings.ToUpper(in) && !strings.ContainsAny(in, " []")
	}
	for _, w := range words {
		if key == w {
			return true
		}
	}
	return false
}

// check applies the rules every row and pattern share: a known category,
// a one-line summary, a meaning, and at least one cause and one step,
// none of them blank. key names the row in the error.
func (a *advice) check(key string) error {
	if !a.Category.Valid() {
		return fmt.Errorf("%q: invalid category %q", key, a.Category)
	}
	if strings.TrimSpace(a.Summary) == "" || strings.Contains(a.Summary, "\n") {
		return fmt.Errorf("%q: summary must be one non-empty line", key)
	}
	if strings.TrimSpace(a.Meaning) == "" {
		return fmt.Errorf("%q: empty meaning", key)
	}
	if len(a.Causes) == 0 || len(a.NextSteps) == 0 {
		return fmt.Errorf("%q: needs causes and next_steps", key)
	}
	for _, s := range append(append([]string{}, a.Causes...), a.NextSteps...) {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("%q: empty cause or step", key)
		}
	}
	return nil
}

func (k *kb) checkPattern(p *pattern) error {
	if !reID.MatchString(p.ID) {
		return fmt.Errorf("malformed id")
	}
	for _, pr := range p.Protocols {
		switch Protocol(pr) {
		case ProtocolSMTP, ProtocolPOP3, ProtocolIMAP:
		default:
			return fmt.Errorf("unknown protocol %q", pr)
		}
	}
	for _, c := range p.Codes {
		if !reCodePat.MatchString(c) && !isStatusKey(c, "+OK", "-ERR", "+ERR", "OK", "NO", "BAD", "BYE", "PREAUTH", "+") {
			return fmt.Errorf("malformed code %q", c)
		}
	}
	for _, e := range p.Enhanced {
		m := reEnhancedPat.FindStringSubmatch(e)
		if m == nil {
			return fmt.Errorf("malformed enhanced code %q", e)
		}
		r := enhRange{}
		if m[1] != "X" {
			r.class, _ = strconv.Atoi(m[1])
		}
		r.subject, _ = strconv.Atoi(m[2])
		r.lo, _ = strconv.Atoi(m[3])
		r.hi = r.lo
		if m[4] != "" {
			r.hi, _ = strconv.Atoi(m[4])
			if r.hi < r.lo {
				return fmt.Errorf("empty range %q", e)
			}
		}
		p.enh = append(p.enh, r)
	}
	for _, c := range p.Commands {
		if _, ok := k.commands[c]; !ok {
			return fmt.Errorf("unknown command %q", c)
		}
	}
	for _, c := range p.Classes {
		if !validClass(c) {
			return fmt.Errorf("invalid class %q", c)
		}
	}
	for _, list := range [][]string{p.Any, p.All, p.None} {
		for _, s := range list {
			if s == "" || s != strings.ToLower(s) {
				return fmt.Errorf("text %q must be non-empty lower case", s)
			}
		}
	}
	if p.Regex != "" {
		// Patterns match the lower-cased text: a case-sensitive regexp
		// over lower case is several times faster than (?i).
		if p.Regex != strings.ToLower(p.Regex) {
			return fmt.Errorf("regex must be lower case")
		}
		re, err := regexp.Compile(p.Regex)
		if err != nil {
			return fmt.Errorf("regex: %w", err)
		}
		p.re = re
		p.lits, _ = literalsFor(p.Regex)
	}
	if len(p.Any) == 0 && len(p.All) == 0 && p.re == nil && len(p.enh) == 0 {
		return fmt.Errorf("needs text (any, all, regex) or an enhanced code")
	}
	if p.Category == CategoryOK && !onlySuccess(p.Classes) {
		return fmt.Errorf("category ok needs classes = [\"success\"] or [\"intermediate\"]")
	}
	return p.check(p.ID)
}

func onlySuccess(cs []Class) bool {
	if len(cs) == 0 {
		return false
	}
	for _, c := range cs {
		if c != ClassSuccess && c != ClassIntermediate {
			return false
		}
	}
	return true
}
