package wire

import (
	"fmt"
	"time"
)

// Limits bounds what a server can make mailflow wait for or hold in
// memory. The zero value of each field means "use the default".
type Limits struct {
	// MaxLine is the longest line accepted, terminator included.
	// RFC 5321 §4.5.3.1.5 allows 512 octets for a reply line; real servers
	// go beyond that, so the default is 8 KiB (64 KiB for IMAP, whose
	// FETCH and CAPABILITY lines are long).
	MaxLine int
	// MaxReply is the most bytes one reply (all lines of a multi-line
	// SMTP reply, or a POP3/IMAP response without message data) may take.
	// Default 256 KiB.
	MaxReply int
	// MaxData is the most bytes of message data (POP3 RETR/TOP, IMAP
	// literals) accepted for one response. Default 32 MiB.
	MaxData int64
	// ConnectTimeout bounds the TCP connect and the TLS handshake.
	// Default 10 s.
	ConnectTimeout time.Duration
	// StepTimeout bounds one step: a command and its complete reply, or
	// the wait for a greeting. RFC 5321 §4.5.3.2 gives servers minutes;
	// an engineer at a terminal wants an answer sooner, so the default is
	// 30 s.
	StepTimeout time.Duration
	// SessionTimeout bounds the whole conversation. Default 10 minutes.
	SessionTimeout time.Duration
	// MaxRecordLines is the most server lines recorded in the transcript
	// for one step; further lines are counted and summed up in one note,
	// and the line that completes a reply is always recorded. Each entry
	// costs a few hundred bytes, so without this a server sending a 32 MiB
	// message of one-character lines would cost gigabytes. Default 2000.
	MaxRecordLines int
}

// Default limits, documented in the README.
const (
	DefaultMaxLine        = 8 << 10
	DefaultMaxLineIMAP    = 64 << 10
	DefaultMaxReply       = 256 << 10
	DefaultMaxData        = 32 << 20
	DefaultConnectTimeout = 10 * time.Second
	DefaultStepTimeout    = 30 * time.Second
	DefaultSessionTimeout = 10 * time.Minute
	DefaultMaxRecordLines = 2000
)

// withDefaults fills zero fields.
func (l Limits) withDefaults(proto string) Limits {
	if l.MaxLine <= 0 {
		l.MaxLine = DefaultMaxLine
		if proto == "imap" {
			l.MaxLine = DefaultMaxLineIMAP
		}
	}
	if l.MaxReply <= 0 {
		l.MaxReply = DefaultMaxReply
	}
	if l.MaxData <= 0 {
		l.MaxData = DefaultMaxData
	}
	if l.ConnectTimeout <= 0 {
		l.ConnectTimeout = DefaultConnectTimeout
	}
	if l.StepTimeout <= 0 {
		l.StepTimeout = DefaultStepTimeout
	}
	if l.SessionTimeout <= 0 {
		l.SessionTimeout = DefaultSessionTimeout
	}
	if l.MaxRecordLines <= 0 {
		l.MaxRecordLines = DefaultMaxRecordLines
	}
	return l
}

// LimitError reports that a server exceeded a size limit.
type LimitError struct {
	Limit string // "line length", "reply size", "message data"
	Max   int64  // the limit in bytes
	Step  string // the step during which it happened
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s limit of %d bytes exceeded during %s", e.Limit, e.Max, stepName(e.Step))
}

// TimeoutError reports that a step or the session ran out of time.
type TimeoutError struct {
	Which string        // "step", "session" or "connect"
	Limit time.Duration // the configured limit
	Step  string        // the step that was waiting
	Wait  string        // what was awaited: "greeting", "reply", "handshake", "write"
	Hint  string        // what the silence may mean, if anything is known
}

func (e *TimeoutError) Error() string {
	s := fmt.Sprintf("%s timeout (%s) while waiting for the %s during %s", e.Which, e.Limit, e.Wait, stepName(e.Step))
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// silentGreetingHint explains a plain-text connection that got no
// greeting at all: the classic mistake is a plain client on a port that
// expects TLS from the first byte (RFC 8314), where the server waits for a
// ClientHello while the client waits for a banner.
const silentGreetingHint = "the server said nothing: if this port expects TLS from the first byte (465, 993, 995), use --tls implicit; a tarpit or a greeting delay can also hold the banner back"

// Timeout reports true, so that callers using net.Error-style checks see
// a timeout.
func (e *TimeoutError) Timeout() bool { return true }

func stepName(s string) string {
	if s == "" {
		return "the session"
	}
	return s
}
