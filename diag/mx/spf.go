package mx

import (
	"fmt"
	"net/netip"
	"strings"
)

// SPFLookupLimit is the most DNS-querying terms an SPF evaluation may use
// (RFC 7208 §4.6.4).
const SPFLookupLimit = 10

// SPFTerm is one directive or modifier of an SPF record (RFC 7208 §4.6.1).
type SPFTerm struct {
	// Qualifier is "+", "-", "~" or "?" for a mechanism ("+" when not
	// written), "" for a modifier.
	Qualifier string
	// Name is the mechanism or modifier name, lower case ("include",
	// "ip4", "redirect", ...).
	Name string
	// Value is what follows ":" or "=", including any CIDR suffix for ip4
	// and ip6; "" when absent.
	Value string
	// CIDR is the "/nn" or "/nn//nn" suffix of an a or mx mechanism.
	CIDR string
	// Modifier is set for name=value terms.
	Modifier bool
}

// SPF is a parsed SPF record.
type SPF struct {
	Terms []SPFTerm
}

// mechanisms of RFC 7208 §5; anything else is a permerror.
var spfMechanisms = map[string]bool{"all": true, "include": true, "a": true, "mx": true, "ptr": true,
	"ip4": true, "ip6": true, "exists": true}

// IsSPF reports whether a TXT string is an SPF record: "v=spf1" followed
// by a space or nothing (RFC 7208 §4.5; case-insensitive).
func IsSPF(txt string) bool {
	if len(txt) < 6 || !strings.EqualFold(txt[:6], "v=spf1") {
		return false
	}
	return len(txt) == 6 || txt[6] == ' '
}

// ParseSPF parses an SPF record. It refuses what RFC 7208 calls a
// permerror at parse time: a missing version, unknown mechanisms, missing
// or malformed arguments, a repeated redirect or exp modifier.
func ParseSPF(s string) (SPF, error) {
	if !IsSPF(s) {
		return SPF{}, fmt.Errorf("mx: spf: record does not start with \"v=spf1 \"")
	}
	var out SPF
	seen := map[string]bool{}
	for _, tok := range strings.Split(s[6:], " ") {
		if tok == "" {
			continue
		}
		t, err := parseSPFTerm(tok)
		if err != nil {
			return SPF{}, err
		}
		if t.Modifier {
			if (t.Name == "redirect" || t.Name == "exp") && seen[t.Name] {
				return SPF{}, fmt.Errorf("mx: spf: modifier %q appears twice (RFC 7208 §6)", t.Name)
			}
			seen[t.Name] = true
		}
		out.Terms = append(out.Terms, t)
	}
	return out, nil
}

func parseSPFTerm(tok string) (SPFTerm, error) {
	for _, r := range tok {
		if r < 0x21 || r > 0x7e {
			return SPFTerm{}, fmt.Errorf("mx: spf: term %q has a character outside visible ASCII", tok)
		}
	}
	// name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) (RFC 7208 §6)
	if i := strings.IndexByte(tok, '='); i > 0 && isSPFName(tok[:i]) {
		return SPFTerm{Name: strings.ToLower(tok[:i]), Value: tok[i+1:], Modifier: true}, nil
	}
	t := SPFTerm{Qualifier: "+"}
	rest := tok
	if strings.ContainsRune("+-~?", rune(rest[0])) {
		t.Qualifier, rest = rest[:1], rest[1:]
	}
	end := strings.IndexAny(rest, ":/")
	if end < 0 {
		end = len(rest)
	}
	t.Name = strings.ToLower(rest[:end])
	if !spfMechanisms[t.Name] {
		return SPFTerm{}, fmt.Errorf("mx: spf: unknown mechanism %q (RFC 7208 §5)", rest[:end])
	}
	arg := rest[end:]
	switch t.Name {
	case "all":
		if arg != "" {
			return SPFTerm{}, fmt.Errorf("mx: spf: \"all\" takes no argument, got %q", tok)
		}
	case "include", "exists":
		if !strings.HasPrefix(arg, ":") || len(arg) == 1 {
			return SPFTerm{}, fmt.Errorf("mx: spf: %q needs a domain (%s:example.com)", tok, t.Name)
		}
		t.Value = arg[1:]
	case "ip4", "ip6":
		if !strings.HasPrefix(arg, ":") {
			return SPFTerm{}, fmt.Errorf("mx: spf: %q needs an address (%s:...)", tok, t.Name)
		}
		t.Value = arg[1:]
		pfx := t.Value
		if !strings.Contains(pfx, "/") {
			pfx += map[string]string{"ip4": "/32", "ip6": "/128"}[t.Name]
		}
		p, err := netip.ParsePrefix(pfx)
		if err != nil || (t.Name == "ip4") != p.Addr().Is4() {
			return SPFTerm{}, fmt.Errorf("mx: spf: %q is not a valid %s network", t.Value, t.Name)
		}
	default: // a, mx, ptr: [":" domain-spec] [dual-cidr]
		if strings.HasPrefix(arg, ":") {
			arg = arg[1:]
			if i := strings.IndexByte(arg, '/'); i >= 0 && t.Name != "ptr" {
				t.Value, t.CIDR = arg[:i], arg[i:]
			} else {
				t.Value = arg
			}
			if t.Value == "" {
				return SPFTerm{}, fmt.Errorf("mx: spf: %q has an empty domain after ':'", tok)
			}
		} else if arg != "" {
			if t.Name == "ptr" {
				return SPFTerm{}, fmt.Errorf("mx: spf: %q: ptr takes no CIDR", tok)
			}
			t.CIDR = arg
		}
	}
	return t, nil
}

func isSPFName(s string) bool {
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// Lookups counts the terms of this record that cost DNS queries: include,
// a, mx, ptr, exists and redirect (RFC 7208 §4.6.4). Included records
// count too, which is for the caller to add up.
func (s SPF) Lookups() int {
	n := 0
	for _, t := range s.Terms {
		switch t.Name {
		case "include", "a", "mx", "ptr", "exists":
			if !t.Modifier {
				n++
			}
		case "redirect":
			if t.Modifier {
				n++
			}
		}
	}
	return n
}

// Follow returns the domains whose SPF records this one pulls in
// (include mechanisms, then the redirect modifier).
func (s SPF) Follow() []string {
	var out []string
	var redirect string
	for _, t := range s.Terms {
		switch {
		case !t.Modifier && t.Name == "include":
			out = append(out, t.Value)
		case t.Modifier && t.Name == "redirect":
			redirect = t.Value
		}
	}
	if redirect != "" {
		out = append(out, redirect)
	}
	return out
}

// All returns the qualifier of the "all" mechanism ("-", "~", "?", "+"),
// or "" when there is none.
func (s SPF) All() string {
	for _, t := range s.Terms {
		if !t.Modifier && t.Name == "all" {
			return t.Qualifier
		}
	}
	return ""
}

// Redirect returns the redirect modifier's domain, or "".
func (s SPF) Redirect() string {
	for _, t := range s.Terms {
		if t.Modifier && t.Name == "redirect" {
			return t.Value
		}
	}
	return ""
}
