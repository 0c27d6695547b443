package pop3

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// Status indicators (RFC 1939 section 3). Continue is the "+" line a
// server sends during AUTH to ask for the next SASL response (RFC 5034
// section 4).
const (
	StatusOK       = "+OK"
	StatusErr      = "-ERR"
	StatusContinue = "+"
)

// Response is a parsed POP3 response.
type Response struct {
	// Status is StatusOK, StatusErr or StatusContinue.
	Status string
	// Code is the RFC 2449 extended response code without its brackets,
	// such as "IN-USE" or "SYS/TEMP"; empty when the server sent none.
	Code string
	// Text is the rest of the status line after the status and the code.
	Text string
	// Lines holds the body of a multi-line response, dot-unstuffed and
	// without the terminating "." line. It is nil for a single-line
	// response.
	Lines []string
	// Multi reports that the response was read as a multi-line one.
	Multi bool
}

// OK reports whether the server accepted the command (+OK) or asked to
// continue (+).
func (r *Response) OK() bool { return r.Status == StatusOK || r.Status == StatusContinue }

// Reply returns the protocol-neutral form recorded in the transcript.
// lines are the raw lines to attach.
func (r *Response) Reply(lines []string) *transcript.Reply {
	return &transcript.Reply{Code: r.Status, RespCode: r.Code, Lines: lines, OK: r.OK()}
}

// Message returns the body lines joined with CRLF, as the message was
// before the server dot-stuffed it (RETR, TOP).
func (r *Response) Message() []byte {
	n := 0
	for _, l := range r.Lines {
		n += len(l) + 2
	}
	b := make([]byte, 0, n)
	for _, l := range r.Lines {
		b = append(b, l...)
		b = append(b, '\r', '\n')
	}
	return b
}

// ParseStatusLine parses the first line of a response (without its line
// ending). "+OK" and "-ERR" must be followed by a space or the end of the
// line; anything else, including "+ERR" or "+OKAY", is a protocol error.
// A bare "+" or "+ text" is accepted as a continuation; callers outside
// AUTH treat it as a protocol error.
func ParseStatusLine(line []byte) (*Response, error) {
	s := string(line)
	var r Response
	switch {
	case hasStatus(s, StatusOK):
		r.Status, s = StatusOK, s[len(StatusOK):]
	case hasStatus(s, StatusErr):
		r.Status, s = StatusErr, s[len(StatusErr):]
	case hasStatus(s, StatusContinue):
		r.Status, s = StatusContinue, s[len(StatusContinue):]
		r.Text = strings.TrimPrefix(s, " ")
		return &r, nil
	default:
		return nil, &wire.ProtocolError{Proto: "pop3", Msg: fmt.Sprintf("response %q starts with neither +OK nor -ERR", clip(s))}
	}
	s = strings.TrimPrefix(s, " ")
	r.Code, r.Text = splitCode(s)
	return &r, nil
}

// hasStatus reports whether s is status alone or status then a space.
func hasStatus(s, status string) bool {
	return s == status || strings.HasPrefix(s, status+" ")
}

// splitCode takes an RFC 2449 section 8 response code off the front of
// the text: "[" resp-level *("/" resp-level) "]", where a level is one or
// more printable characters other than "/", "[", "]" and space. Text that
// merely starts with "[" and does not match stays text.
func splitCode(s string) (code, text string) {
	if !strings.HasPrefix(s, "[") {
		return "", s
	}
	end := strings.IndexByte(s, ']')
	if end < 2 {
		return "", s
	}
	code = s[1:end]
	for _, level := range strings.Split(code, "/") {
		if level == "" {
			return "", s
		}
		for i := 0; i < len(level); i++ {
			if c := level[i]; c <= ' ' || c >= 0x7f || c == '[' {
				return "", s
			}
		}
	}
	return code, strings.TrimPrefix(s[end+1:], " ")
}

// body accumulates the lines of a multi-line response in one buffer,
// each line followed by CRLF, so that a response of many short lines (a
// hostile server's cheapest way to make the client allocate) costs its
// bytes plus one string header per line in Lines, not a string and a
// slice slot each as it arrives.
type body struct {
	buf   []byte
	n     int // lines in buf
	size  int64
	max   int64
	limit string // name of the limit for LimitError
}

// add takes one line (without its line ending). It reports done on the
// terminating "." line and refuses a body larger than max.
func (b *body) add(line []byte) (done bool, err error) {
	if len(line) == 1 && line[0] == '.' {
		return true, nil
	}
	b.size += int64(len(line)) + 2
	if b.size > b.max {
		return false, &wire.LimitError{Limit: b.limit, Max: b.max}
	}
	// RFC 1939 section 3: a line beginning with the termination octet
	// has it doubled; take one off.
	if len(line) > 0 && line[0] == '.' {
		line = line[1:]
	}
	b.buf = append(b.buf, line...)
	b.buf = append(b.buf, '\r', '\n')
	b.n++
	return false, nil
}

// lines returns the body's lines as sub-strings of one string holding
// the whole body: one copy of the bytes and one header per line. A line
// read from the wire holds no LF, so the first LF after a line's start is
// the one add wrote, and the CR before it is add's too.
func (b *body) lines() []string {
	all := string(b.buf)
	out := make([]string, 0, b.n)
	for len(all) > 0 {
		i := strings.IndexByte(all, '\n')
		out = append(out, all[:i-1])
		all = all[i+1:]
	}
	return out
}

// ParseResponse parses one complete response held in data (lines ending
// in CRLF or LF). multi says whether the command expects a multi-line
// response on success; max bounds its body. Bytes after the end of the
// response are an error, as is a multi-line body without its "." line.
func ParseResponse(data []byte, multi bool, max int64) (*Response, error) {
	first, data, ok := nextLine(data)
	if !ok {
		return nil, &wire.ProtocolError{Proto: "pop3", Msg: "empty response"}
	}
	r, err := ParseStatusLine(first)
	if err != nil {
		return nil, err
	}
	if multi && r.Status == StatusOK {
		r.Multi = true
		b := body{max: max, limit: "reply size"}
		done := false
		for !done {
			var l []byte
			if l, data, ok = nextLine(data); !ok {
				return nil, &wire.ProtocolError{Proto: "pop3", Msg: "multi-line response ended without its terminating \".\" line"}
			}
			if done, err = b.add(l); err != nil {
				return nil, err
			}
		}
		r.Lines = b.lines()
	}
	if len(data) > 0 {
		return nil, &wire.ProtocolError{Proto: "pop3", Msg: "data after the end of the response"}
	}
	return r, nil
}

// nextLine cuts the first line off data, without its ending (CRLF or
// LF). ok is false when data holds no complete line; a last line without
// a line ending stays in rest.
func nextLine(data []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		return nil, data, false
	}
	line = data[:i]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, data[i+1:], true
}

// FormatResponse writes r in wire form, dot-stuffing its body; it is the
// inverse of ParseResponse and is used by tests and the lab.
func FormatResponse(r *Response) []byte {
	var b bytes.Buffer
	b.WriteString(r.Status)
	if r.Code != "" {
		b.WriteString(" [" + r.Code + "]")
	}
	if r.Text != "" {
		b.WriteString(" " + r.Text)
	}
	b.WriteString("\r\n")
	if r.Multi {
		for _, l := range r.Lines {
			if strings.HasPrefix(l, ".") {
				b.WriteByte('.')
			}
			b.WriteString(l + "\r\n")
		}
		b.WriteString(".\r\n")
	}
	return b.Bytes()
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// codeMeaning explains the response codes of RFC 2449 and RFC 3206 in a
// few words, for the transcript annotation.
func codeMeaning(code string) string {
	switch strings.ToUpper(code) {
	case "IN-USE":
		return "the mailbox is locked by another POP3 session (RFC 2449 8.1.1); try again later"
	case "LOGIN-DELAY":
		return "the server allows logins only so often (RFC 2449 8.1.2); try again later"
	case "SYS/TEMP":
		return "a temporary problem on the server, not with the credentials (RFC 3206 4)"
	case "SYS/PERM":
		return "a lasting problem on the server, not with the credentials (RFC 3206 4)"
	case "AUTH":
		return "the credentials were refused (RFC 3206 5)"
	}
	return ""
}
