package addr

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Length limits of RFC 1035 §2.3.4 (255 octets on the wire is 253
// characters in text form without the trailing dot).
const (
	MaxDomainLen = 253
	MaxLabelLen  = 63
)

// Domain is a checked domain name in both of its forms.
type Domain struct {
	// ASCII is the form that goes into DNS queries and SMTP commands: lower
	// case, A-labels ("xn--...") for internationalised labels, no trailing
	// dot.
	ASCII string
	// Unicode is the form to show people: U-labels where the ASCII form
	// has A-labels. It equals ASCII for a plain host name.
	Unicode string
	// Confusable is set when the name could be mistaken for another one
	// (mixed scripts in one label, or a label made only of non-Latin
	// letters that look like Latin ones). Such names are valid; the UI
	// should show the ASCII form next to the Unicode one.
	Confusable bool
	// ConfusableReason says why Confusable is set.
	ConfusableReason string
}

// String returns the ASCII form.
func (d Domain) String() string { return d.ASCII }

// FQDN returns the ASCII form with a trailing dot, as DNS queries want it.
func (d Domain) FQDN() string { return d.ASCII + "." }

// IsIDN reports whether the two forms differ, that is whether the name has
// at least one internationalised label.
func (d Domain) IsIDN() bool { return d.ASCII != d.Unicode }

// Display returns the Unicode form, followed by the ASCII form in
// parentheses when they differ, e.g. "bücher.example (xn--bcher-kva.example)".
func (d Domain) Display() string {
	if d.IsIDN() {
		return d.Unicode + " (" + d.ASCII + ")"
	}
	return d.ASCII
}

// ParseDomain checks s as a domain name of a mail system (a host name in
// the sense of RFC 1123 §2.1, possibly internationalised) and returns both
// its forms. A single trailing dot is allowed. IP addresses and address
// literals are refused with ErrIPAddress.
//
// Choice of IDNA profile: labels that are plain LDH ASCII and do not start
// with "xn--" are not IDNs (RFC 5890 §2.3.1) and are only lower-cased, so
// real host names such as "r3---sn-abc.example" stay usable. Any other name
// goes through idna.Lookup: it applies the UTS #46 mapping (case folding,
// full-width forms) that RFC 5891 §5.2 allows when looking a name up, which
// is what mailflow does with the names users type, and it checks A-labels
// read back from the input. idna.Registration would refuse names that
// resolvers handle fine (upper case, full-width dots), which is not
// helpful in a troubleshooting tool.
func ParseDomain(s string) (Domain, error) {
	if s == "" {
		return Domain{}, errf(ErrEmpty, 0, "", "empty domain")
	}
	if err := scanControls(s); err != nil {
		return Domain{}, err
	}
	if strings.HasPrefix(s, "[") {
		return Domain{}, errf(ErrIPAddress, 1, "a domain name is expected here",
			"that is an IP address literal, not a domain")
	}
	trimmed := strings.TrimSuffix(s, ".")
	if ip, err := netip.ParseAddr(trimmed); err == nil {
		return Domain{}, errf(ErrIPAddress, 0, "a domain name is expected here",
			"that is an IP address (%s), not a domain", ip)
	}
	if trimmed == "" {
		return Domain{}, errf(ErrEmptyLabel, 1, "", "domain is only a dot")
	}

	// Label by label checks on what the user typed, so the errors can
	// point at a position. Non-ASCII characters are left to IDNA.
	needIDNA := false
	pos := 0 // characters before the current label
	for _, label := range strings.Split(trimmed, ".") {
		n := utf8.RuneCountInString(label)
		if n == 0 {
			if pos == 0 {
				return Domain{}, errf(ErrEmptyLabel, 1, "", "domain starts with a dot")
			}
			return Domain{}, errf(ErrEmptyLabel, pos, "", "two dots in a row")
		}
		i := 0
		for _, r := range label {
			i++
			switch {
			case r >= utf8.RuneSelf:
				needIDNA = true
			case r == ' ':
				return Domain{}, errf(ErrBadChar, pos+i, "", "space in domain")
			case r == '@':
				return Domain{}, errf(ErrBadChar, pos+i, "a domain is expected here, not a mail address",
					"character '@' in domain")
			case !isLDH(byte(r)):
				return Domain{}, errf(ErrBadChar, pos+i, "host names allow only letters, digits and hyphens (RFC 1123 §2.1)",
					"character %s in domain", charName(r))
			}
		}
		if strings.HasPrefix(label, "-") {
			return Domain{}, errf(ErrHyphen, pos+1, "", "label %q starts with a hyphen", label)
		}
		if strings.HasSuffix(label, "-") {
			return Domain{}, errf(ErrHyphen, pos+n, "", "label %q ends with a hyphen", label)
		}
		if len(label) >= 4 && strings.EqualFold(label[:4], "xn--") {
			needIDNA = true
		}
		pos += n + 1
	}

	d := Domain{ASCII: strings.ToLower(trimmed)}
	if needIDNA {
		a, err := idna.Lookup.ToASCII(trimmed)
		if err != nil {
			return Domain{}, errf(ErrIDNA, 0, "", "not a valid internationalised domain name (%v)", cleanIDNAError(err))
		}
		u, err := idna.Lookup.ToUnicode(a)
		if err != nil {
			return Domain{}, errf(ErrIDNA, 0, "", "not a valid internationalised domain name (%v)", cleanIDNAError(err))
		}
		d.ASCII, d.Unicode = strings.TrimSuffix(a, "."), strings.TrimSuffix(u, ".")
	} else {
		d.Unicode = d.ASCII
	}

	// Lengths are counted on the ASCII form, the one on the wire.
	if len(d.ASCII) > MaxDomainLen {
		return Domain{}, errf(ErrTooLong, 0, "", "domain is %d octets long; the limit is %d (RFC 1035 §2.3.4)",
			len(d.ASCII), MaxDomainLen)
	}
	labels := strings.Split(d.ASCII, ".")
	for _, l := range labels {
		if len(l) > MaxLabelLen {
			return Domain{}, errf(ErrTooLong, 0, "", "label %q is %d octets long; the limit is %d (RFC 1035 §2.3.4)",
				shorten(l), len(l), MaxLabelLen)
		}
		if l == "" {
			return Domain{}, errf(ErrEmptyLabel, 0, "", "empty label after IDNA mapping")
		}
	}
	if tld := labels[len(labels)-1]; len(labels) > 1 && allDigits(tld) {
		return Domain{}, errf(ErrIPAddress, 0, "a domain name is expected here",
			"the last label %q is all digits: that looks like an IP address, not a domain (RFC 3696 §2)", tld)
	}
	d.Confusable, d.ConfusableReason = confusable(d.Unicode)
	return d, nil
}

func isLDH(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func shorten(s string) string {
	if len(s) > 20 {
		return s[:17] + "..."
	}
	return s
}

// cleanIDNAError strips the library prefix and escapes anything odd in the
// echoed label.
func cleanIDNAError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "idna: ")
	var b strings.Builder
	for _, r := range msg {
		if isControl(r) || r == utf8.RuneError {
			fmt.Fprintf(&b, "\\u%04x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// The scripts that matter for look-alike checks. Common and Inherited
// (digits, hyphen, combining marks) never count.
var scripts = []struct {
	name  string
	table *unicode.RangeTable
}{
	{"Latin", unicode.Latin}, {"Cyrillic", unicode.Cyrillic}, {"Greek", unicode.Greek},
	{"Armenian", unicode.Armenian}, {"Hebrew", unicode.Hebrew}, {"Arabic", unicode.Arabic},
	{"Cherokee", unicode.Cherokee}, {"Georgian", unicode.Georgian}, {"Han", unicode.Han},
	{"Hiragana", unicode.Hiragana}, {"Katakana", unicode.Katakana}, {"Hangul", unicode.Hangul},
	{"Thai", unicode.Thai}, {"Devanagari", unicode.Devanagari},
}

// latinLookalikes are Cyrillic and Greek letters that render like Latin
// letters in common fonts. A label made only of these (e.g. Cyrillic
// "аррӏе") is a whole-script confusable of a Latin name.
const latinLookalikes = "аеорсухіјѕԁԛԝӏһпьтвкмнАВЕКМНОРСТХУІЈЅαβεικνορτυχοΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"

// confusable applies two of the checks of UTS #39 §5 in a simplified form:
// mixed scripts inside one label (Han with Hiragana/Katakana, or Han with
// Hangul, is normal and allowed) and whole-label look-alikes of Latin.
func confusable(u string) (bool, string) {
	for _, label := range strings.Split(u, ".") {
		var seen []string
		ascii := true
		for _, r := range label {
			if r >= utf8.RuneSelf {
				ascii = false
			}
			for _, sc := range scripts {
				if unicode.Is(sc.table, r) {
					if !slices.Contains(seen, sc.name) {
						seen = append(seen, sc.name)
					}
					break
				}
			}
		}
		if ascii {
			continue
		}
		if len(seen) > 1 && !cjk(seen) {
			return true, fmt.Sprintf("label %q mixes %s scripts", label, strings.Join(seen, " and "))
		}
		if len(seen) == 1 && (seen[0] == "Cyrillic" || seen[0] == "Greek") {
			all := true
			for _, r := range label {
				if unicode.IsLetter(r) && !strings.ContainsRune(latinLookalikes, r) {
					all = false
					break
				}
			}
			if all {
				return true, fmt.Sprintf("label %q is written only with %s letters that look like Latin ones", label, seen[0])
			}
		}
	}
	return false, ""
}

func cjk(seen []string) bool {
	for _, s := range seen {
		switch s {
		case "Han", "Hiragana", "Katakana", "Hangul":
		default:
			return false
		}
	}
	return true
}
