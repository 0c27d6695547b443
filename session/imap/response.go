package imap

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailflow/mailflow/session/wire"
)

// Response is one parsed IMAP server response: a tagged status response,
// an untagged response ("*") or a continuation request ("+").
type Response struct {
	// Tag is the command tag of a tagged response, "*" for an untagged
	// response and "+" for a continuation request.
	Tag string
	// Status is "OK", "NO", "BAD", "BYE" or "PREAUTH" for a status
	// response (RFC 9051 section 7.1), empty for data and continuations.
	Status string
	// Code is the response code's name in upper case ("CAPABILITY",
	// "UIDVALIDITY", "AUTHENTICATIONFAILED"), empty when there is none.
	Code string
	// CodeArg is the rest of the text inside the brackets.
	CodeArg string
	// Text is the human-readable text of a status response or a
	// continuation request.
	Text string
	// Num is the number of "* 23 EXISTS" or "* 5 FETCH (...)"; HasNum
	// says whether there was one.
	Num    uint32
	HasNum bool
	// Kind is the data type of an untagged data response in upper case:
	// "CAPABILITY", "LIST", "FLAGS", "EXISTS", "FETCH", "SEARCH", ...
	Kind string
	// Data is the rest of a data response after Kind, literals included
	// as their "{n}" markers, as received.
	Data string
	// Literals holds the contents of the response's literals in order.
	Literals [][]byte
	// Lines are the response's line segments as received, without line
	// endings and without literal contents.
	Lines []string
}

// IsStatus reports whether r is a status response.
func (r *Response) IsStatus() bool { return r.Status != "" }

// Values tokenizes Data into IMAP values (atoms, strings, literals, NIL
// and parenthesized lists).
func (r *Response) Values() ([]Value, error) { return ParseValues(r.Data, r.Literals) }

// statusWords are the status conditions of RFC 9051 section 7.1.
var statusWords = map[string]bool{"OK": true, "NO": true, "BAD": true, "BYE": true, "PREAUTH": true}

// source is where responses come from: the connection, or bytes in tests.
type source interface {
	readLine() ([]byte, error)
	// readLiteral reads n bytes; total is the literal data read so far
	// in this response, for the aggregate bound.
	readLiteral(n, total int64) ([]byte, error)
	// recordSegment records a line segment that a literal follows.
	recordSegment(line []byte)
}

// readResponse reads one complete response. last is the final line
// segment (for the caller to record with its meaning), also when err is a
// protocol error about it.
func readResponse(src source, maxReply int) (r *Response, last []byte, err error) {
	line, err := src.readLine()
	if err != nil {
		return nil, nil, err
	}
	r = &Response{Lines: []string{string(line)}}
	size := len(line)
	tag, rest, _ := strings.Cut(string(line), " ")
	switch {
	case tag == "+":
		r.Tag, r.Text = "+", rest
		return r, line, nil
	case !validTag(tag) && tag != "*":
		return nil, line, perr("line %q is not an IMAP response (no valid tag, \"*\" or \"+\")", clip(string(line)))
	}
	r.Tag = tag
	word, after, _ := strings.Cut(rest, " ")
	up := strings.ToUpper(word)
	if statusWords[up] {
		if tag != "*" && up != "OK" && up != "NO" && up != "BAD" {
			return nil, line, perr("tagged response %q has status %s; only OK, NO and BAD may be tagged", clip(string(line)), up)
		}
		r.Status = up
		r.Code, r.CodeArg, r.Text = splitCode(after)
		return r, line, nil
	}
	if tag != "*" {
		return nil, line, perr("tagged response %q has no OK, NO or BAD status", clip(string(line)))
	}
	if n, err := strconv.ParseUint(word, 10, 32); err == nil {
		r.Num, r.HasNum = uint32(n), true
		word, after, _ = strings.Cut(after, " ")
		up = strings.ToUpper(word)
	}
	if up == "" || !isAtom(up) {
		return nil, line, perr("untagged response %q has no data type", clip(string(line)))
	}
	r.Kind = up
	var data strings.Builder
	data.WriteString(after)
	var total int64
	for {
		n, ok, err := literalSuffix(line)
		if err != nil {
			return nil, line, err
		}
		if !ok {
			break
		}
		src.recordSegment(line)
		lit, err := src.readLiteral(n, total)
		if err != nil {
			return nil, nil, err
		}
		total += n
		r.Literals = append(r.Literals, lit)
		if line, err = src.readLine(); err != nil {
			return nil, nil, err
		}
		size += len(line)
		if size > maxReply {
			return nil, nil, &wire.LimitError{Limit: "reply size", Max: int64(maxReply)}
		}
		r.Lines = append(r.Lines, string(line))
		data.Write(line)
	}
	r.Data = data.String()
	return r, line, nil
}

// literalSuffix reports a literal announced at the end of line: "{n}",
// "{n+}" (RFC 7888) or "~{n}" (literal8, RFC 3516).
func literalSuffix(line []byte) (int64, bool, error) {
	if len(line) < 3 || line[len(line)-1] != '}' {
		return 0, false, nil
	}
	open := bytes.LastIndexByte(line, '{')
	if open < 0 {
		return 0, false, nil
	}
	digits := line[open+1 : len(line)-1]
	digits = bytes.TrimSuffix(digits, []byte("+"))
	if len(digits) == 0 {
		return 0, false, nil
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false, nil
		}
	}
	n, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil {
		return 0, false, &wire.LimitError{Limit: "message data", Max: 1<<63 - 1}
	}
	return n, true, nil
}

// splitCode takes a response code "[CODE args]" off the front of a
// status response's text (RFC 9051 section 7.1). Text that starts with
// "[" without a closing bracket stays text.
func splitCode(s string) (code, arg, text string) {
	if !strings.HasPrefix(s, "[") {
		return "", "", s
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return "", "", s
	}
	inner := s[1:end]
	name, arg, _ := strings.Cut(inner, " ")
	if name == "" || !isAtom(name) {
		return "", "", s
	}
	return strings.ToUpper(name), arg, strings.TrimPrefix(s[end+1:], " ")
}

// validTag reports whether s is a tag: one or more ASTRING-CHARs other
// than "+" (RFC 9051 section 9).
func validTag(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\+`, c) >= 0 {
			return false
		}
	}
	return true
}

// isAtom reports whether s consists of ATOM-CHARs.
func isAtom(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return false
		}
	}
	return true
}

func perr(format string, args ...any) error {
	return &wire.ProtocolError{Proto: "imap", Msg: fmt.Sprintf(format, args...)}
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// bytesSource reads responses from a byte slice.
type bytesSource struct {
	data    []byte
	maxData int64
}

var errIncomplete = errors.New("incomplete response")

func (b *bytesSource) readLine() ([]byte, error) {
	i := bytes.IndexByte(b.data, '\n')
	if i < 0 {
		return nil, perr("%v: line without line ending", errIncomplete)
	}
	l := b.data[:i]
	b.data = b.data[i+1:]
	if n := len(l); n > 0 && l[n-1] == '\r' {
		l = l[:n-1]
	}
	return l, nil
}

func (b *bytesSource) readLiteral(n, total int64) ([]byte, error) {
	if n > b.maxData-total {
		return nil, &wire.LimitError{Limit: "message data", Max: b.maxData}
	}
	if int64(len(b.data)) < n {
		return nil, perr("%v: literal of %d bytes holds only %d", errIncomplete, n, len(b.data))
	}
	lit := b.data[:n]
	b.data = b.data[n:]
	return lit, nil
}

func (b *bytesSource) recordSegment([]byte) {}

// ParseResponse parses exactly one complete response held in data,
// literals included. maxReply bounds the line segments and maxData the
// literal contents. Bytes after the response are an error.
func ParseResponse(data []byte, maxReply int, maxData int64) (*Response, error) {
	src := &bytesSource{data: data, maxData: maxData}
	r, _, err := readResponse(src, maxReply)
	if err != nil {
		return nil, err
	}
	if len(src.data) > 0 {
		return nil, perr("%d bytes after the end of the response", len(src.data))
	}
	return r, nil
}
