package addr

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Error kinds. Every error returned by this package wraps exactly one of
// them, so callers can branch with errors.Is while showing Error() to users.
var (
	// ErrEmpty means the input was empty.
	ErrEmpty = errors.New("empty")
	// ErrTooLong means a length limit was exceeded (domain, label, local
	// part or whole address).
	ErrTooLong = errors.New("too long")
	// ErrControl means a control character (CR, LF, NUL, TAB, DEL, C1, ...)
	// was found.
	ErrControl = errors.New("control character")
	// ErrBadChar means a character that is not allowed at that place.
	ErrBadChar = errors.New("character not allowed")
	// ErrHyphen means a label starts or ends with a hyphen.
	ErrHyphen = errors.New("misplaced hyphen")
	// ErrEmptyLabel means two dots in a row, or a leading dot.
	ErrEmptyLabel = errors.New("empty label")
	// ErrIPAddress means an IP address was given where a domain is expected.
	ErrIPAddress = errors.New("IP address instead of a domain")
	// ErrIDNA means the internationalised domain name was refused by IDNA2008.
	ErrIDNA = errors.New("invalid internationalised domain name")
	// ErrMissingAt means a mailbox without an "@".
	ErrMissingAt = errors.New("missing @")
	// ErrLocalPart means a malformed local part (the text before "@").
	ErrLocalPart = errors.New("invalid local part")
	// ErrLiteral means a malformed address literal such as "[300.1.1.1]".
	ErrLiteral = errors.New("invalid address literal")
	// ErrBrackets means unbalanced angle or square brackets.
	ErrBrackets = errors.New("unbalanced brackets")
	// ErrNullPath means "<>" was given where a real mailbox is required.
	ErrNullPath = errors.New("null reverse-path")
	// ErrPort means a missing, non-numeric or out-of-range port.
	ErrPort = errors.New("invalid port")
)

// SyntaxError describes what is wrong with an input and where.
type SyntaxError struct {
	// Kind is one of the Err* values of this package.
	Kind error
	// What says what is wrong, e.g. "space in local part".
	What string
	// Pos is the 1-based character (not byte) position of the offending
	// character in the input given to the parser, or 0 when the error is
	// not about one place.
	Pos int
	// Hint says how to fix it, or is empty.
	Hint string
}

// Error returns "addr: WHAT [at position N][: HINT]".
func (e *SyntaxError) Error() string {
	s := "addr: " + e.What
	if e.Pos > 0 {
		s += " at position " + strconv.Itoa(e.Pos)
	}
	if e.Hint != "" {
		s += ": " + e.Hint
	}
	return s
}

// Unwrap returns the error kind.
func (e *SyntaxError) Unwrap() error { return e.Kind }

func errf(kind error, pos int, hint string, format string, args ...any) *SyntaxError {
	return &SyntaxError{Kind: kind, What: fmt.Sprintf(format, args...), Pos: pos, Hint: hint}
}

// shift moves the position of a SyntaxError found in a sub-string that
// starts delta characters into the caller's input, and prefixes where.
func shift(err error, delta int, where string) error {
	var se *SyntaxError
	if !errors.As(err, &se) {
		return err
	}
	c := *se
	if c.Pos > 0 {
		c.Pos += delta
	}
	if where != "" {
		c.What = where + ": " + c.What
	}
	return &c
}

// charName names a rune for an error message without ever echoing a raw
// control byte.
func charName(r rune) string {
	switch r {
	case 0:
		return "NUL"
	case '\r':
		return "CR"
	case '\n':
		return "LF"
	case '\t':
		return "TAB"
	case 0x7f:
		return "DEL"
	case ' ':
		return "space"
	case utf8.RuneError:
		return "invalid UTF-8"
	}
	if isControl(r) {
		return fmt.Sprintf("U+%04X", r)
	}
	return strconv.QuoteRune(r)
}

// isControl reports C0, DEL and C1 controls. Unicode format characters
// (bidi overrides and the like) are not controls here: IDNA refuses them in
// domains and they are legal in a quoted SMTPUTF8 local part.
func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f)
}

// scanControls returns an error for the first control character or invalid
// UTF-8 sequence in s.
func scanControls(s string) error {
	pos := 0
	for i, r := range s {
		pos++
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				return errf(ErrBadChar, pos, "", "invalid UTF-8 byte 0x%02X", s[i])
			}
		}
		if isControl(r) {
			return errf(ErrControl, pos, "", "control character %s", charName(r))
		}
	}
	return nil
}

// CheckArg refuses CR, LF and NUL anywhere in a protocol argument (an
// address, a host name, an EHLO name, a user name, a mailbox name, ...).
// A CR or LF ends a command line in SMTP, POP3 and IMAP (RFC 5321 §2.3.8,
// RFC 1939 §3, RFC 9051 §2.2), so a value carrying one would smuggle a
// second command; NUL is refused by most servers and truncates C strings.
// Call it before anything is written to the wire.
func CheckArg(s string) error {
	pos := 0
	for _, r := range s {
		pos++
		switch r {
		case '\r', '\n', 0:
			return errf(ErrControl, pos, "it would end or corrupt the command line (command injection)",
				"%s in protocol argument", charName(r))
		}
	}
	return nil
}
