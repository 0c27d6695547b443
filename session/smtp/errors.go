package smtp

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// Error is a negative or unexpected server reply to a command, in the
// style of go-smtp's SMTPError. Its message names the command as
// recorded (secrets redacted): "smtp: RCPT TO:<x@y>: 550 5.1.1 ...".
type Error struct {
	// Command is the command as recorded, or "greeting".
	Command string
	// Reply is the server's reply.
	Reply Reply
}

// Error returns the message, with the server's text made printable.
func (e *Error) Error() string {
	return "smtp: " + e.Command + ": " + transcript.PrintableString(e.Reply.String())
}

// Temporary reports a 4xx reply: trying again later may succeed.
func (e *Error) Temporary() bool { return e.Reply.Temporary() }

// Code returns the reply code.
func (e *Error) Code() int { return e.Reply.Code }

// NotOfferedError reports that the client did not send a command or
// parameter because the server did not announce the extension it needs
// (RFC 5321 §2.2.1: a client must not use an extension the server did not
// offer).
type NotOfferedError struct {
	// Extension is the EHLO keyword, such as "STARTTLS" or "AUTH PLAIN".
	Extension string
	// Why explains what needed it.
	Why string
	// Offered lists what the server did announce, for the message.
	Offered []string
}

// Error describes what was missing and what was offered instead.
func (e *NotOfferedError) Error() string {
	s := "smtp: the server does not offer " + e.Extension
	if e.Why != "" {
		s += " (" + e.Why + ")"
	}
	if len(e.Offered) > 0 {
		s += "; it offers: " + transcript.PrintableString(strings.Join(e.Offered, ", "))
	} else {
		s += "; it announced no extensions"
	}
	return s
}

// checkField refuses CR, LF and NUL in an argument before anything is
// sent, naming the field and the 1-based character position, because a
// line break inside an argument would end the command early and smuggle
// another one (command injection, SMTP smuggling).
func checkField(what, s string) error {
	pos := 0
	for i, r := range s {
		pos++
		var name string
		switch r {
		case '\r':
			name = "a carriage return (CR)"
		case '\n':
			name = "a line feed (LF)"
		case 0:
			name = "a NUL byte"
		default:
			if r == utf8.RuneError && i < len(s) {
				if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
					return &wire.InputError{Msg: fmt.Sprintf("smtp: %s is not valid UTF-8 at position %d", what, pos)}
				}
			}
			continue
		}
		return &wire.InputError{Msg: fmt.Sprintf("smtp: %s contains %s at position %d; refused before sending (it would split the command)", what, name, pos)}
	}
	return nil
}
