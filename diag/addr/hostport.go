package addr

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseHostPort splits and checks a server given as "host", "host:port",
// "[v6]:port", "[v6]" or a bare IPv6 address (which is taken as a host
// without a port, since its colons make any other reading ambiguous). The
// host is returned in the form to dial: the canonical text of an IP
// address, or the ASCII form of a domain. When no port is given, the
// result is defaultPort.
func ParseHostPort(s string, defaultPort int) (host string, port int, err error) {
	if s == "" {
		return "", 0, errf(ErrEmpty, 0, "", "empty host")
	}
	if err := scanControls(s); err != nil {
		return "", 0, err
	}
	hostPart, portPart, hasPort := s, "", false
	portPos := 0
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, errf(ErrBrackets, 1, "", "'[' without a closing ']'")
		}
		hostPart = s[1:end]
		after := s[end+1:]
		switch {
		case after == "":
		case strings.HasPrefix(after, ":"):
			portPart, hasPort = after[1:], true
			portPos = utf8.RuneCountInString(s[:end+2]) + 1
		default:
			return "", 0, errf(ErrBadChar, utf8.RuneCountInString(s[:end+1])+1, "write [host]:port",
				"%s after ']'", charName(firstRune(after)))
		}
		ip, perr := netip.ParseAddr(hostPart)
		if perr != nil {
			return "", 0, errf(ErrLiteral, 2, "brackets are only for IPv6 addresses", "%q is not an IP address", hostPart)
		}
		if err := checkZone(hostPart, 1); err != nil {
			return "", 0, err
		}
		host = ip.String()
	case strings.Count(s, ":") > 1:
		ip, perr := netip.ParseAddr(s)
		if perr != nil || !ip.Is6() {
			return "", 0, errf(ErrLiteral, 0, "to give a port with IPv6, write [2001:db8::1]:25", "%q is not an IPv6 address", s)
		}
		if err := checkZone(s, 0); err != nil {
			return "", 0, err
		}
		host = ip.String()
	default:
		if i := strings.IndexByte(s, ':'); i >= 0 {
			hostPart, portPart, hasPort = s[:i], s[i+1:], true
			portPos = utf8.RuneCountInString(s[:i]) + 2
		}
		if hostPart == "" {
			return "", 0, errf(ErrEmpty, 1, "", "empty host before ':'")
		}
		if ip, perr := netip.ParseAddr(hostPart); perr == nil {
			host = ip.String()
		} else {
			d, derr := ParseDomain(hostPart)
			if derr != nil {
				return "", 0, shift(derr, 0, "host")
			}
			host = d.ASCII
		}
	}
	if !hasPort {
		return host, defaultPort, nil
	}
	if portPart == "" {
		return "", 0, errf(ErrPort, portPos, "", "empty port after ':'")
	}
	for i, r := range portPart {
		if r < '0' || r > '9' {
			return "", 0, errf(ErrPort, portPos+utf8.RuneCountInString(portPart[:i]), "", "port %q is not a number", portPart)
		}
	}
	p, perr := strconv.Atoi(portPart)
	if perr != nil || p < 1 || p > 65535 {
		return "", 0, errf(ErrPort, portPos, "", "port %s is out of range 1-65535", portPart)
	}
	return host, p, nil
}

// checkZone refuses an IPv6 zone (the part after "%", RFC 4007 §11,
// RFC 6874) with characters other than ASCII letters, digits, "-", "_"
// and ".": interface names and numbers are made of these, and anything
// else (a "]", a ":", a space) makes the address unreadable once it is
// written back as "[addr%zone]:port". offset is the number of characters
// before ip in the caller's input, for the error's position.
func checkZone(ip string, offset int) error {
	i := strings.IndexByte(ip, '%')
	if i < 0 {
		return nil
	}
	pos := offset + i + 1 // the '%'; the address before it is ASCII
	for _, r := range ip[i+1:] {
		pos++
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			continue
		}
		return errf(ErrBadChar, pos, "an IPv6 zone is an interface name or number (letters, digits, '-', '_', '.')",
			"zone character %s", charName(r))
	}
	return nil
}
