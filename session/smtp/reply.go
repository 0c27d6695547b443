package smtp

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// Reply is a complete SMTP reply (RFC 5321 §4.2): one or more lines that
// share a three-digit code.
type Reply struct {
	// Code is the three-digit reply code, such as 250.
	Code int
	// Enhanced is the RFC 3463 enhanced status code of the first line
	// ("5.1.1"), or "" when the server sent none.
	Enhanced string
	// Lines are the reply's lines as received, code and separator
	// included, without line endings. From a Client, a secret registered
	// with the transcript (transcript.Store.AddSecret) is replaced by
	// "<redacted>" here and in Text, as in the transcript: a server
	// that echoes the password back does not get it into a result.
	Lines []string
	// Text are the lines' texts after the "250-"/"250 " prefix; the
	// enhanced code is left in place (see Message).
	Text []string
	// RTT is the time from the command (or, for the greeting, from the
	// connection) to the reply's last line.
	RTT time.Duration
}

// Class returns the first digit of the code: 2 success, 3 intermediate,
// 4 transient failure, 5 permanent failure.
func (r Reply) Class() int { return r.Code / 100 }

// OK reports a positive reply: 2xx completion or 3xx intermediate.
func (r Reply) OK() bool { return r.Code >= 200 && r.Code < 400 }

// Temporary reports a transient negative reply (4xx): the same command
// may succeed later (RFC 5321 §4.2.1).
func (r Reply) Temporary() bool { return r.Code >= 400 && r.Code < 500 }

// Permanent reports a permanent negative reply (5xx).
func (r Reply) Permanent() bool { return r.Code >= 500 && r.Code < 600 }

// Message returns the reply's text with the codes removed, lines joined
// by a space. It comes from the network: pass it through
// transcript.Printable before showing it.
func (r Reply) Message() string {
	parts := make([]string, 0, len(r.Text))
	for _, t := range r.Text {
		if r.Enhanced != "" && strings.HasPrefix(t, r.Enhanced) {
			t = strings.TrimLeft(t[len(r.Enhanced):], " ")
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, " ")
}

// String returns "550 5.1.1 text" on one line (multi-line texts joined).
func (r Reply) String() string {
	s := strconv.Itoa(r.Code)
	if r.Enhanced != "" {
		s += " " + r.Enhanced
	}
	if m := r.Message(); m != "" {
		s += " " + m
	}
	return s
}

// Transcript returns the protocol-neutral form recorded in the transcript.
func (r Reply) Transcript() transcript.Reply {
	return transcript.Reply{Code: strconv.Itoa(r.Code), Enhanced: r.Enhanced, Lines: append([]string(nil), r.Lines...), OK: r.OK()}
}

// replyLine is one parsed reply line.
type replyLine struct {
	code int
	last bool   // "250 " or "250" rather than "250-"
	text string // after the separator
}

// parseLine checks one line against RFC 5321 §4.2:
//
//	Reply-line = *( Reply-code "-" [ textstring ] CRLF )
//	             Reply-code [ SP textstring ] CRLF
//	Reply-code = %x32-35 %x30-35 %x30-39
//
// The second digit is accepted up to 9: real servers stray there, and a
// troubleshooting tool should show such a reply rather than refuse it.
func parseLine(line string) (replyLine, error) {
	if i := strings.IndexByte(line, '\r'); i >= 0 {
		// RFC 5321 §4.2: textstring allows HT and printable characters;
		// a bare CR inside a reply is how replies get spoofed.
		return replyLine{}, fmt.Errorf("reply line has a bare carriage return (CR) at position %d", i+1)
	}
	if len(line) < 3 {
		return replyLine{}, fmt.Errorf("reply line %q is shorter than a three-digit code", line)
	}
	for i := 0; i < 3; i++ {
		if line[i] < '0' || line[i] > '9' {
			return replyLine{}, fmt.Errorf("reply line does not start with a three-digit code: %q", clip(line))
		}
	}
	if line[0] < '2' || line[0] > '5' {
		return replyLine{}, fmt.Errorf("reply code %s has a first digit outside 2-5", line[:3])
	}
	code := int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	if len(line) == 3 {
		return replyLine{code: code, last: true}, nil
	}
	switch line[3] {
	case ' ':
		return replyLine{code: code, last: true, text: line[4:]}, nil
	case '-':
		return replyLine{code: code, text: line[4:]}, nil
	}
	return replyLine{}, fmt.Errorf("reply code %s is followed by %q instead of a space or a hyphen", line[:3], line[3:4])
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// enhancedCode returns the RFC 3463 status code at the start of text
// ("5.1.1 User unknown" -> "5.1.1") when its class matches the reply
// code's class, else "". Grammar (RFC 3463 §2): class "." subject "."
// detail with class 2, 4 or 5, subject and detail 1-3 digits, and the
// code followed by a space or the end of the line.
func enhancedCode(code int, text string) string {
	if len(text) < 5 {
		return ""
	}
	class := text[0]
	if class != '2' && class != '4' && class != '5' || int(class-'0') != code/100 || text[1] != '.' {
		return ""
	}
	i := 2
	for part := 0; part < 2; part++ {
		n := 0
		for i < len(text) && text[i] >= '0' && text[i] <= '9' {
			i++
			n++
		}
		if n < 1 || n > 3 {
			return ""
		}
		if part == 0 {
			if i >= len(text) || text[i] != '.' {
				return ""
			}
			i++
		}
	}
	if i < len(text) && text[i] != ' ' {
		return ""
	}
	return text[:i]
}

// replyBuilder collects the lines of one reply and enforces the reply
// size limit.
type replyBuilder struct {
	max   int
	size  int
	reply Reply
}

// add takes the next line and reports whether the reply is complete.
func (b *replyBuilder) add(line string) (done bool, err error) {
	b.size += len(line) + 2
	if b.max > 0 && b.size > b.max {
		return false, &wire.LimitError{Limit: "reply size", Max: int64(b.max)}
	}
	rl, err := parseLine(line)
	if err != nil {
		return false, err
	}
	if len(b.reply.Lines) == 0 {
		b.reply.Code = rl.code
		b.reply.Enhanced = enhancedCode(rl.code, rl.text)
	} else if rl.code != b.reply.Code {
		return false, fmt.Errorf("line %d of a multi-line reply has code %03d, the first line had %03d", len(b.reply.Lines)+1, rl.code, b.reply.Code)
	}
	b.reply.Lines = append(b.reply.Lines, line)
	b.reply.Text = append(b.reply.Text, rl.text)
	return rl.last, nil
}

// ParseReply parses exactly one complete reply from s, whose lines end in
// CRLF or LF (the final line ending may be missing). It is the pure form
// of what the client does on the wire, for tests and for replies pasted
// by a user. maxReply bounds the reply's size in bytes (0: no limit).
func ParseReply(s string, maxReply int) (Reply, error) {
	if strings.HasSuffix(s, "\r\n") {
		s = s[:len(s)-2]
	} else {
		s = strings.TrimSuffix(s, "\n")
	}
	if s == "" {
		return Reply{}, fmt.Errorf("smtp: empty reply")
	}
	b := replyBuilder{max: maxReply}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		done, err := b.add(l)
		if err != nil {
			return Reply{}, fmt.Errorf("smtp: %w", err)
		}
		if done {
			if i != len(lines)-1 {
				return Reply{}, fmt.Errorf("smtp: %d more lines after the last line of the reply", len(lines)-1-i)
			}
			return b.reply, nil
		}
	}
	return Reply{}, fmt.Errorf("smtp: reply ends with a continuation line (%q): the last line is missing", clip(lines[len(lines)-1]))
}
