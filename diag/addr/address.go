package addr

import (
	"net/netip"
	"strings"
	"unicode/utf8"
)

// Limits of RFC 5321 §4.5.3.1.
const (
	// MaxLocalLen is the longest local part, in octets (§4.5.3.1.1).
	MaxLocalLen = 64
	// MaxAddressLen is the longest mailbox: a path is at most 256 octets
	// including its angle brackets (§4.5.3.1.3).
	MaxAddressLen = 254
)

// Address is a checked mailbox (RFC 5321 §4.1.2 Mailbox) or, from
// ParseReversePath only, the null reverse-path.
type Address struct {
	// Local is the local part exactly as written, with its quotes if it
	// was a quoted string.
	Local string
	// Domain is the domain part. It is the zero Domain when the address
	// has an address literal or is null.
	Domain Domain
	// Literal is the address of an address literal such as [192.0.2.1];
	// it is the zero netip.Addr otherwise.
	Literal netip.Addr
	// NeedsSMTPUTF8 is set when the local part has non-ASCII characters,
	// which may only be sent to a server that offers SMTPUTF8 (RFC 6531
	// §3.3). An internationalised domain alone does not need it: its
	// A-label form is plain ASCII.
	NeedsSMTPUTF8 bool
	// Null is set for the null reverse-path "<>" (RFC 5321 §4.5.5).
	Null bool
}

// DomainPart returns what follows the "@": the ASCII domain, or the
// address literal in brackets ("[192.0.2.1]", "[IPv6:2001:db8::1]").
func (a Address) DomainPart() string {
	switch {
	case a.Literal.Is4():
		return "[" + a.Literal.String() + "]"
	case a.Literal.IsValid():
		return "[IPv6:" + a.Literal.String() + "]"
	}
	return a.Domain.ASCII
}

// String returns the mailbox as it goes into an SMTP command, without the
// angle brackets; the null path is the empty string.
func (a Address) String() string {
	if a.Null {
		return ""
	}
	return a.Local + "@" + a.DomainPart()
}

// Unicode returns the mailbox for display, with the U-label form of the
// domain.
func (a Address) Unicode() string {
	if a.Null || a.Literal.IsValid() {
		return a.String()
	}
	return a.Local + "@" + a.Domain.Unicode
}

// Path returns the mailbox in angle brackets, as in "MAIL FROM:<...>".
func (a Address) Path() string { return "<" + a.String() + ">" }

// ParseReversePath is ParseAddress that also accepts the null
// reverse-path "<>" (an empty string counts too), which is valid only as
// the argument of MAIL FROM (RFC 5321 §4.1.1.2, §4.5.5).
func ParseReversePath(s string) (Address, error) {
	if s == "<>" || s == "" {
		return Address{Null: true}, nil
	}
	return ParseAddress(s)
}

// ParseAddress checks s as a mailbox "local@domain", optionally in angle
// brackets. The local part is a dot-string or a quoted string (RFC 5321
// §4.1.2), possibly with UTF-8 (RFC 6531); the domain is a domain name
// (see ParseDomain) or an address literal (§4.1.3). Source routes
// ("<@a,@b:user@c>") are refused: they are obsolete (§4.1.1.3, Appendix C)
// and nobody types them on purpose.
func ParseAddress(s string) (Address, error) {
	if s == "" {
		return Address{}, errf(ErrEmpty, 0, "", "empty address")
	}
	if err := scanControls(s); err != nil {
		return Address{}, err
	}
	body, off := s, 0
	switch {
	case strings.HasPrefix(s, "<"):
		if !strings.HasSuffix(s, ">") || len(s) == 1 {
			return Address{}, errf(ErrBrackets, utf8.RuneCountInString(s), "", "missing closing '>'")
		}
		body, off = s[1:len(s)-1], 1
		if body == "" {
			return Address{}, errf(ErrNullPath, 0, "a mailbox is required here",
				"<> is the null reverse-path, valid only as MAIL FROM")
		}
		if strings.HasPrefix(body, "@") {
			return Address{}, errf(ErrLocalPart, 2, "write only the final mailbox", "source route (obsolete)")
		}
	case strings.HasSuffix(s, ">"):
		return Address{}, errf(ErrBrackets, utf8.RuneCountInString(s), "", "'>' without an opening '<'")
	}

	local, rest, err := splitLocal(body)
	if err != nil {
		return Address{}, shift(err, off, "")
	}
	a := Address{Local: local}
	for _, r := range local {
		if r >= utf8.RuneSelf {
			a.NeedsSMTPUTF8 = true
			break
		}
	}
	if len(local) > MaxLocalLen {
		return Address{}, errf(ErrTooLong, 0, "", "local part longer than %d octets (%d)", MaxLocalLen, len(local))
	}
	domPos := off + utf8.RuneCountInString(local) + 1 // characters before the domain
	if rest == "" {
		return Address{}, errf(ErrEmpty, domPos, "", "nothing after @")
	}
	if strings.HasPrefix(rest, "[") {
		ip, err := parseLiteral(rest)
		if err != nil {
			return Address{}, shift(err, domPos, "")
		}
		a.Literal = ip
	} else {
		d, err := ParseDomain(rest)
		if err != nil {
			return Address{}, shift(err, domPos, "domain")
		}
		a.Domain = d
	}
	if n := len(a.String()); n > MaxAddressLen {
		return Address{}, errf(ErrTooLong, 0, "", "address longer than %d octets (%d)", MaxAddressLen, n)
	}
	return a, nil
}

// splitLocal reads the local part at the start of s and returns it with
// what follows the "@".
func splitLocal(s string) (local, rest string, err error) {
	if strings.HasPrefix(s, `"`) {
		return splitQuoted(s)
	}
	at := strings.IndexByte(s, '@')
	if at < 0 {
		return "", "", errf(ErrMissingAt, 0, "a mailbox looks like user@example.com", "missing @")
	}
	local = s[:at]
	if local == "" {
		return "", "", errf(ErrLocalPart, 1, "", "empty local part before @")
	}
	pos := 0
	prevDot := true // a leading dot is an empty atom
	for _, r := range local {
		pos++
		switch {
		case r == '.':
			if prevDot {
				if pos == 1 {
					return "", "", errf(ErrLocalPart, pos, `quote it ("...")`, "local part starts with a dot")
				}
				return "", "", errf(ErrLocalPart, pos, `quote it ("...")`, "two dots in a row in local part")
			}
			prevDot = true
			continue
		case r == ' ':
			return "", "", errf(ErrLocalPart, pos, `quote it ("john doe"@example.com)`, "space in local part")
		case r >= utf8.RuneSelf:
			// UTF-8 atext, RFC 6531 §3.3.
		case !isAtext(byte(r)):
			return "", "", errf(ErrLocalPart, pos, `quote it ("...") or remove it`,
				"character %s not allowed in an unquoted local part", charName(r))
		}
		prevDot = false
	}
	if prevDot {
		return "", "", errf(ErrLocalPart, pos, `quote it ("...")`, "local part ends with a dot")
	}
	return local, s[at+1:], nil
}

// splitQuoted reads a Quoted-string (RFC 5321 §4.1.2: qtextSMTP and
// quoted-pairSMTP, plus UTF-8 from RFC 6531).
func splitQuoted(s string) (local, rest string, err error) {
	pos := 1
	escaped := false
	for i, r := range s[1:] {
		pos++
		switch {
		case escaped:
			if r >= utf8.RuneSelf {
				return "", "", errf(ErrLocalPart, pos, "", "backslash before a non-ASCII character in quoted local part")
			}
			escaped = false
		case r == '\\':
			escaped = true
		case r == '"':
			end := 1 + i + 1
			local, after := s[:end], s[end:]
			if !strings.HasPrefix(after, "@") {
				if after == "" {
					return "", "", errf(ErrMissingAt, 0, "", "missing @ after quoted local part")
				}
				return "", "", errf(ErrLocalPart, pos+1, "", "%s after quoted local part, expected @", charName(firstRune(after)))
			}
			if local == `""` {
				return "", "", errf(ErrLocalPart, 1, "", "empty quoted local part")
			}
			return local, after[1:], nil
		}
	}
	return "", "", errf(ErrLocalPart, 1, `close it with "`, "unterminated quoted local part")
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// isAtext reports the ASCII atext characters of RFC 5322 §3.2.3, which
// RFC 5321 §4.1.2 uses for Atom.
func isAtext(c byte) bool {
	if isLDH(c) && c != '-' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// parseLiteral reads an address literal (RFC 5321 §4.1.3).
func parseLiteral(s string) (netip.Addr, error) {
	if !strings.HasSuffix(s, "]") {
		return netip.Addr{}, errf(ErrBrackets, utf8.RuneCountInString(s), "", "address literal without closing ']'")
	}
	inner := s[1 : len(s)-1]
	if len(inner) >= 5 && strings.EqualFold(inner[:5], "IPv6:") {
		ip, err := netip.ParseAddr(inner[5:])
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return netip.Addr{}, errf(ErrLiteral, 7, "", "%q is not an IPv6 address", inner[5:])
		}
		return ip, nil
	}
	if i := strings.IndexByte(inner, ':'); i > 0 {
		if _, err := netip.ParseAddr(inner); err == nil {
			return netip.Addr{}, errf(ErrLiteral, 2, "write [IPv6:"+inner+"]", "IPv6 literal without the IPv6: tag")
		}
		return netip.Addr{}, errf(ErrLiteral, 2, "only IPv4 and IPv6: literals are supported", "unknown address literal tag %q", inner[:i])
	}
	ip, err := netip.ParseAddr(inner)
	if err != nil || !ip.Is4() {
		return netip.Addr{}, errf(ErrLiteral, 2, "", "%q is not an IPv4 address", inner)
	}
	return ip, nil
}
