package transcript

import (
	"fmt"
	"time"
)

// Dir says who produced an entry.
type Dir uint8

// Directions. Note entries are produced by mailflow itself (TLS upgrade,
// errors, limits, annotations) and never travel on the wire.
const (
	Client Dir = iota + 1
	Server
	Note
)

// String returns "client", "server" or "note".
func (d Dir) String() string {
	switch d {
	case Client:
		return "client"
	case Server:
		return "server"
	case Note:
		return "note"
	}
	return fmt.Sprintf("dir(%d)", uint8(d))
}

// MarshalText implements encoding.TextMarshaler.
func (d Dir) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Dir) UnmarshalText(b []byte) error {
	switch string(b) {
	case "client":
		*d = Client
	case "server":
		*d = Server
	case "note":
		*d = Note
	default:
		return fmt.Errorf("transcript: unknown direction %q", b)
	}
	return nil
}

// Level grades a note entry.
type Level uint8

// Note levels. Info is the zero value.
const (
	Info Level = iota
	Warning
	Error
)

// String returns "info", "warning" or "error".
func (l Level) String() string {
	switch l {
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return "info"
}

// MarshalText implements encoding.TextMarshaler.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (l *Level) UnmarshalText(b []byte) error {
	switch string(b) {
	case "info", "":
		*l = Info
	case "warning":
		*l = Warning
	case "error":
		*l = Error
	default:
		return fmt.Errorf("transcript: unknown level %q", b)
	}
	return nil
}

// Reply is the parsed form of a complete server reply, attached to the
// entry of the reply's last line. It is protocol-neutral so that the
// explainer, the checklist and the exports can read any protocol.
type Reply struct {
	// Code is "250" for SMTP, "+OK", "-ERR" or "+" for POP3, and "OK",
	// "NO", "BAD", "BYE", "PREAUTH" or "+" for IMAP.
	Code string `json:"code"`
	// Enhanced is the RFC 3463 enhanced status code ("5.1.1"), if any.
	Enhanced string `json:"enhanced_code,omitempty"`
	// RespCode is a bracketed POP3 (RFC 2449) or IMAP (RFC 5530)
	// response code without brackets, such as "IN-USE" or
	// "AUTHENTICATIONFAILED [details]".
	RespCode string `json:"resp_code,omitempty"`
	// Lines holds the reply's lines as received, without line endings.
	Lines []string `json:"lines,omitempty"`
	// OK reports whether the protocol counts the reply as a success or a
	// request to continue (2xx/3xx, +OK, OK, +).
	OK bool `json:"ok"`
}

// Entry is one event of a conversation. Entries are values: once
// appended they never change.
type Entry struct {
	// Seq numbers entries from 1 in the order they were appended.
	Seq int `json:"seq"`
	// At is the wall-clock time the entry was recorded.
	At time.Time `json:"at"`
	// Elapsed is the time since the store was created.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Dir says who produced the entry.
	Dir Dir `json:"dir"`
	// Proto is the protocol: "smtp", "pop3", "imap", or "tcp", "tls",
	// "dns" for notes about the transport.
	Proto string `json:"proto,omitempty"`
	// Step names the procedure step the entry belongs to ("connect",
	// "ehlo", "mail", "rcpt", "data", ...).
	Step string `json:"step,omitempty"`
	// Raw is the line as it went over the wire, without its line ending,
	// with secrets already replaced. For notes it is the note's text.
	Raw []byte `json:"-"`
	// Secure reports that the line travelled inside TLS.
	Secure bool `json:"tls,omitempty"`
	// Redacted reports that Raw had a secret replaced.
	Redacted bool `json:"redacted,omitempty"`
	// Level grades a note.
	Level Level `json:"level,omitempty"`
	// Annotation explains the line, such as the decoded text of a base64
	// AUTH challenge ("Username:").
	Annotation string `json:"annotation,omitempty"`
	// Reply is set on the last line of a complete server reply.
	Reply *Reply `json:"reply,omitempty"`
	// RTT is set with Reply: the time from the command that the reply
	// answers (or from the connection, for a greeting) to its last line.
	RTT time.Duration `json:"rtt_ns,omitempty"`
	// Partial reports a line that ended without its line terminator (the
	// connection dropped or a limit was hit mid-line).
	Partial bool `json:"partial,omitempty"`
}

// Text returns the entry's line made safe for a terminal or text file.
func (e Entry) Text() string { return Printable(e.Raw) }

// Marker returns the direction marker used on screen and in text exports,
// in the style of swaks: "->" client, "<-" server, "~>" and "<~" inside
// TLS, "==" note, "!!" warning or error note.
func (e Entry) Marker() string {
	switch e.Dir {
	case Client:
		if e.Secure {
			return "~>"
		}
		return "->"
	case Server:
		if e.Secure {
			return "<~"
		}
		return "<-"
	}
	if e.Level > Info {
		return "!!"
	}
	return "=="
}
