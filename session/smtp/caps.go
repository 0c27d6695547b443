package smtp

import (
	"strconv"
	"strings"
)

// Capability is one EHLO keyword line (RFC 5321 §4.1.1.1: ehlo-line =
// ehlo-keyword *( SP ehlo-param )).
type Capability struct {
	// Keyword is the keyword in upper case ("SIZE", "AUTH").
	Keyword string
	// Params are the parameters as sent ("10240000"; "PLAIN", "LOGIN").
	Params []string
	// Line is the line's text as received, for display.
	Line string
}

// Caps is the set of extensions a server announced in its EHLO reply.
// The zero value is an empty set (a server that answered HELO, or none
// yet).
type Caps struct {
	// Domain is the first word of the EHLO reply's first line, the name
	// the server gives itself.
	Domain string
	list   []Capability
	byKey  map[string]int
}

// ParseCaps reads the extensions from an EHLO reply: the first line is
// the server's name and greeting, every later line one extension. Unknown
// keywords are kept verbatim. The old "AUTH=LOGIN PLAIN" form (sent by
// servers for clients that predate RFC 2554's final text) is folded into
// AUTH.
func ParseCaps(r Reply) Caps {
	c := Caps{byKey: map[string]int{}}
	if len(r.Text) == 0 {
		return c
	}
	if f := strings.Fields(r.Text[0]); len(f) > 0 {
		c.Domain = f[0]
	}
	for _, t := range r.Text[1:] {
		f := strings.Fields(t)
		if len(f) == 0 {
			continue
		}
		kw := asciiUpper(f[0])
		params := f[1:]
		if strings.HasPrefix(kw, "AUTH=") {
			params = append([]string{f[0][5:]}, params...)
			kw = "AUTH"
		}
		if i, ok := c.byKey[kw]; ok {
			// Merge repeated keywords (AUTH and AUTH= both present).
			for _, p := range params {
				if !containsFold(c.list[i].Params, p) {
					c.list[i].Params = append(c.list[i].Params, p)
				}
			}
			c.list[i].Line += " / " + t
			continue
		}
		c.byKey[kw] = len(c.list)
		c.list = append(c.list, Capability{Keyword: kw, Params: params, Line: t})
	}
	return c
}

// asciiUpper upper-cases ASCII letters only. EHLO keywords are ASCII
// (RFC 5321 §4.1.1.1: ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")),
// and Unicode case mapping is not a round trip ("İ" lower-cases to "i"
// plus a combining dot, which upper-cases to two runes), so a keyword a
// hostile server invents must still be found under the name it is listed.
func asciiUpper(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'a' && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// Has reports whether the keyword (any case) was announced.
func (c Caps) Has(keyword string) bool {
	_, ok := c.byKey[asciiUpper(keyword)]
	return ok
}

// Get returns the capability for keyword.
func (c Caps) Get(keyword string) (Capability, bool) {
	i, ok := c.byKey[asciiUpper(keyword)]
	if !ok {
		return Capability{}, false
	}
	return c.list[i], true
}

// List returns the capabilities in the order announced.
func (c Caps) List() []Capability { return append([]Capability(nil), c.list...) }

// Strings returns the extension lines as received, for reports.
func (c Caps) Strings() []string {
	out := make([]string, len(c.list))
	for i, k := range c.list {
		out[i] = k.Line
	}
	return out
}

// Size returns the SIZE limit in bytes (RFC 1870). ok is false when SIZE
// was not announced. A SIZE without a number, or 0, means no fixed limit
// and returns 0, true. RFC 1870 §4 allows digits only (size-param ::=
// [1*DIGIT]): a parameter with anything else ("-1", "+5", "10MB") or too
// large for int64 announces no usable limit and also returns 0, true;
// Get("SIZE") keeps the value as sent, for display.
func (c Caps) Size() (n int64, ok bool) {
	k, ok := c.Get("SIZE")
	if !ok {
		return 0, false
	}
	if len(k.Params) == 0 {
		return 0, true
	}
	p := k.Params[0]
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return 0, true
		}
	}
	n, err := strconv.ParseInt(p, 10, 64)
	if err != nil {
		return 0, true
	}
	return n, true
}

// AuthMechanisms returns the SASL mechanisms offered, upper case.
func (c Caps) AuthMechanisms() []string {
	k, ok := c.Get("AUTH")
	if !ok {
		return nil
	}
	out := make([]string, 0, len(k.Params))
	for _, p := range k.Params {
		out = append(out, strings.ToUpper(p))
	}
	return out
}

// HasAuth reports whether the SASL mechanism is offered.
func (c Caps) HasAuth(mech string) bool { return containsFold(c.AuthMechanisms(), mech) }

// Extension keywords the client acts on.
const (
	ExtPipelining          = "PIPELINING"
	ExtStartTLS            = "STARTTLS"
	ExtAuth                = "AUTH"
	ExtSize                = "SIZE"
	ExtDSN                 = "DSN"
	Ext8BitMIME            = "8BITMIME"
	ExtSMTPUTF8            = "SMTPUTF8"
	ExtChunking            = "CHUNKING"
	ExtEnhancedStatusCodes = "ENHANCEDSTATUSCODES"
	ExtBinaryMIME          = "BINARYMIME"
)
