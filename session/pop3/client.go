package pop3

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// Error is a -ERR response to a command.
type Error struct {
	// Command is the command's verb ("PASS", "RETR"); "greeting" for a
	// server that refuses the connection.
	Command string
	// Step is the transcript step the response belongs to.
	Step string
	// Code is the RFC 2449 response code without brackets, if any.
	Code string
	// Text is the rest of the response line.
	Text string
}

// Error returns the refusal with the server's text made printable.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pop3: %s refused: -ERR", e.Command)
	if e.Code != "" {
		b.WriteString(" [" + transcript.PrintableString(e.Code) + "]")
	}
	if e.Text != "" {
		b.WriteString(" " + transcript.PrintableString(e.Text))
	}
	return b.String()
}

// Temporary reports whether trying again later may succeed: the server
// said so with [SYS/TEMP] (RFC 3206), [IN-USE] or [LOGIN-DELAY]
// (RFC 2449).
func (e *Error) Temporary() bool {
	switch strings.ToUpper(e.Code) {
	case "SYS/TEMP", "IN-USE", "LOGIN-DELAY":
		return true
	}
	return false
}

// Caps holds the capabilities listed by CAPA (RFC 2449 section 5), keyed
// by upper-case capability name, each with its arguments.
type Caps map[string][]string

// Has reports whether the capability name is listed.
func (c Caps) Has(name string) bool {
	_, ok := c[strings.ToUpper(name)]
	return ok
}

// Names returns the capability names in sorted order.
func (c Caps) Names() []string {
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ParseCaps reads the lines of a CAPA response.
func ParseCaps(lines []string) Caps {
	caps := Caps{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		caps[strings.ToUpper(f[0])] = f[1:]
	}
	return caps
}

// ListEntry is one line of a LIST response (RFC 1939 section 5).
type ListEntry struct {
	Num  int
	Size int64
}

// UIDEntry is one line of a UIDL response (RFC 1939 section 7).
type UIDEntry struct {
	Num int
	UID string
}

// Client is a POP3 connection. It is driven by one goroutine at a time;
// Close may be called from any.
type Client struct {
	conn      *wire.Conn
	greeting  *Response
	timestamp string
	caps      Caps
	// inAuth is set after a "+" continuation: the next raw line is a SASL
	// response, not a command, and is recorded redacted.
	inAuth bool
}

// timestampRE finds the APOP timestamp of RFC 1939 section 7, a msg-id
// such as <1896.697170952@dbc.mtview.ca.us>.
var timestampRE = regexp.MustCompile(`<[^<>\s]*@[^<>\s]*>`)

// Dial connects to addr, reads the greeting and returns a client in the
// AUTHORIZATION state. opts.Proto is set to "pop3"; use TLSImplicit for
// port 995 (RFC 8314). A -ERR greeting is returned as an *Error.
func Dial(ctx context.Context, addr string, opts wire.Options) (*Client, error) {
	return wire.DialClient(ctx, addr, opts, "pop3", NewClient)
}

// NewClient reads the greeting on a connection that wire.Dial opened
// (with Proto "pop3") and returns a client.
func NewClient(ctx context.Context, conn *wire.Conn) (*Client, error) {
	c := &Client{conn: conn}
	conn.BeginStep("connect")
	r, err := c.read(ctx, readSpec{wait: "greeting"})
	if err != nil {
		return nil, err
	}
	c.greeting = r
	if r.Status != StatusOK {
		return nil, c.refusal("greeting", r)
	}
	if ts := timestampRE.FindString(r.Text); ts != "" {
		c.timestamp = ts
		conn.Note(transcript.Info, "the greeting carries the APOP timestamp "+transcript.PrintableString(ts)+" (RFC 1939 section 7)")
	}
	return c, nil
}

// Conn returns the underlying connection.
func (c *Client) Conn() *wire.Conn { return c.conn }

// Transcript returns the store the conversation is recorded in.
func (c *Client) Transcript() *transcript.Store { return c.conn.Transcript() }

// Greeting returns the parsed greeting.
func (c *Client) Greeting() *Response { return c.greeting }

// Timestamp returns the APOP timestamp of the greeting, or "".
func (c *Client) Timestamp() string { return c.timestamp }

// Caps returns the capabilities from the last CAPA, or nil when CAPA was
// not sent since the connection or the last STLS.
func (c *Client) Caps() Caps { return c.caps }

// Close closes the connection without QUIT (RFC 1939 section 6: the
// server then deletes nothing).
func (c *Client) Close() error { return c.conn.Close() }

// readSpec says how to read one response.
type readSpec struct {
	wait  string // what is awaited, for errors: "greeting", "reply"
	multi bool   // a +OK response has a body
	data  bool   // the body is message text (RETR, TOP): MaxData, not MaxReply
	cont  bool   // a "+" continuation is allowed (AUTH)
}

// read reads one response, records every line and attaches the parsed
// reply to the last one.
func (c *Client) read(ctx context.Context, s readSpec) (*Response, error) {
	if s.wait == "" {
		s.wait = "reply"
	}
	line, err := c.conn.ReadLine(ctx, s.wait)
	if err != nil {
		return nil, err
	}
	r, err := ParseStatusLine(line)
	if err == nil && r.Status == StatusContinue && !s.cont {
		err = &wire.ProtocolError{Proto: "pop3", Msg: "unexpected \"+\" continuation outside AUTH"}
	}
	if err != nil {
		pe := err.(*wire.ProtocolError)
		pe.Step = c.conn.Step()
		c.conn.RecordServer(line, &transcript.Reply{Code: "", Lines: []string{string(line)}}, "not a POP3 status line: "+pe.Msg)
		c.conn.Note(transcript.Error, pe.Error())
		return nil, pe
	}
	if !s.multi || r.Status != StatusOK {
		c.conn.RecordServer(line, r.Reply([]string{string(line)}), c.annotate(r))
		return r, nil
	}
	r.Multi = true
	c.conn.RecordServer(line, nil, c.annotate(r))
	lim := c.conn.Limits()
	b := body{max: int64(lim.MaxReply), limit: "reply size"}
	if s.data {
		b.max, b.limit = lim.MaxData, "message data"
	}
	raw := []string{string(line)}
	for {
		l, err := c.conn.ReadLine(ctx, "rest of the multi-line response")
		if err != nil {
			return nil, err
		}
		done, err := b.add(l)
		if err != nil {
			le := err.(*wire.LimitError)
			le.Step = c.conn.Step()
			c.conn.RecordServer(l, nil, "")
			c.conn.Note(transcript.Error, le.Error()+"; closing the connection")
			c.conn.Close()
			return nil, fmt.Errorf("pop3: %w", le)
		}
		if !s.data {
			raw = append(raw, string(l))
		}
		if done {
			r.Lines = b.lines()
			if s.data {
				raw = append(raw, string(l))
			}
			c.conn.RecordServer(l, r.Reply(raw), fmt.Sprintf("end of the multi-line response: %d lines", len(r.Lines)))
			return r, nil
		}
		c.conn.RecordServer(l, nil, "")
	}
}

// annotate explains a status line: a response code, or the decoded text
// of an AUTH challenge.
func (c *Client) annotate(r *Response) string {
	if r.Status == StatusContinue {
		return decodeChallenge(r.Text)
	}
	return codeMeaning(r.Code)
}

// decodeChallenge decodes a base64 SASL challenge for the annotation when
// it is printable text.
func decodeChallenge(text string) string {
	if text == "" {
		return "empty challenge: the server waits for the SASL response"
	}
	return wire.Base64Annotation(text)
}

// refusal builds the *Error for a -ERR response.
func (c *Client) refusal(verb string, r *Response) *Error {
	return &Error{Command: verb, Step: c.conn.Step(), Code: r.Code, Text: r.Text}
}

// cmd sends one command line and reads its response; a -ERR response is
// returned with an *Error.
func (c *Client) cmd(ctx context.Context, step, verb string, l wire.Line, s readSpec) (*Response, error) {
	c.conn.BeginStep(step)
	if err := c.conn.WriteLine(ctx, l); err != nil {
		return nil, err
	}
	r, err := c.read(ctx, s)
	if err != nil {
		return nil, err
	}
	if r.Status == StatusErr {
		return r, c.refusal(verb, r)
	}
	return r, nil
}

// Do sends a line the user typed and reads the response, choosing a
// multi-line read for the commands that have one (CAPA, LIST and UIDL
// without argument, RETR, TOP, and AUTH without argument). Secrets are
// recorded redacted: the PASS argument, the APOP digest, an AUTH initial
// response and every line sent after a "+" continuation. STLS answered
// with +OK upgrades the connection at once. A -ERR response is returned
// together with an *Error.
func (c *Client) Do(ctx context.Context, line string) (*Response, error) {
	if c.inAuth {
		c.inAuth = false
		l := wire.Line{Text: line, Record: "<redacted>", Annotation: "SASL response (not recorded)"}
		c.addRawSecret(line)
		if line == "*" {
			l = wire.Line{Text: line, Annotation: "cancels the authentication exchange (RFC 5034 section 4)"}
		}
		r, err := c.cmd(ctx, c.conn.Step(), "AUTH", l, readSpec{cont: true})
		if r != nil && r.Status == StatusContinue {
			c.inAuth = true
		}
		return r, err
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil, &wire.InputError{Msg: "pop3: empty command"}
	}
	verb := strings.ToUpper(f[0])
	l := wire.Line{Text: line}
	s := readSpec{}
	switch verb {
	case "CAPA":
		s.multi = true
	case "LIST", "UIDL":
		s.multi = len(f) == 1
	case "RETR", "TOP":
		s.multi, s.data = true, true
	case "AUTH":
		s.multi = len(f) == 1
		s.cont = len(f) > 1
		if len(f) > 2 {
			l.Record = f[0] + " " + f[1] + " <redacted>"
			c.addRawSecret(f[2])
		}
	case "PASS":
		l.Record = f[0] + " <redacted>"
		// RFC 1939 section 7: the password is the rest of the line.
		c.addRawSecret(strings.TrimLeft(strings.TrimSpace(line)[len(f[0]):], " "))
	case "APOP":
		if len(f) > 2 {
			l.Record = f[0] + " " + f[1] + " <redacted>"
			c.addRawSecret(f[2])
		}
	}
	r, err := c.cmd(ctx, strings.ToLower(verb), verb, l, s)
	if err != nil {
		return r, err
	}
	switch {
	case r.Status == StatusContinue:
		c.inAuth = true
	case verb == "CAPA":
		c.caps = ParseCaps(r.Lines)
	case verb == "STLS":
		if _, err := c.upgrade(ctx); err != nil {
			return r, err
		}
	}
	return r, nil
}

// addRawSecret registers a secret typed in raw mode, and its decoded
// form when it is base64 (a SASL response), with the transcript's
// scrubber before it is sent.
func (c *Client) addRawSecret(s string) {
	c.conn.Transcript().AddSecret(s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		c.conn.Transcript().AddSecret(string(b))
		if i := strings.LastIndexByte(string(b), 0); i >= 0 {
			c.conn.Transcript().AddSecret(string(b[i+1:])) // PLAIN's password
		}
	}
}

// Capa sends CAPA (RFC 2449 section 5) and returns the capabilities.
func (c *Client) Capa(ctx context.Context) (Caps, error) {
	r, err := c.cmd(ctx, "capa", "CAPA", wire.Line{Text: "CAPA"}, readSpec{multi: true})
	if err != nil {
		return nil, err
	}
	c.caps = ParseCaps(r.Lines)
	return c.caps, nil
}

// STLS sends STLS and, after +OK, performs the TLS handshake (RFC 2595
// section 4). Capabilities learnt before are forgotten, as RFC 2595
// section 3.1 requires: send CAPA again.
func (c *Client) STLS(ctx context.Context) (*wire.TLSInfo, error) {
	if _, err := c.cmd(ctx, "stls", "STLS", wire.Line{Text: "STLS"}, readSpec{}); err != nil {
		return nil, err
	}
	return c.upgrade(ctx)
}

func (c *Client) upgrade(ctx context.Context) (*wire.TLSInfo, error) {
	c.caps = nil
	info, err := c.conn.StartTLS(ctx)
	if err != nil {
		return info, fmt.Errorf("pop3: STLS: %w", err)
	}
	return info, nil
}

// User sends USER name (RFC 1939 section 7).
func (c *Client) User(ctx context.Context, name string) error {
	_, err := c.cmd(ctx, "user", "USER", wire.Line{Text: "USER " + name}, readSpec{})
	return err
}

// Pass sends PASS; the transcript shows "PASS <redacted>". The password
// is registered with the transcript's scrubber first, so that a server
// echoing it back (or its base64 form) is recorded redacted too.
func (c *Client) Pass(ctx context.Context, password string) error {
	c.conn.Transcript().AddSecret(password)
	_, err := c.cmd(ctx, "pass", "PASS", wire.Line{Text: "PASS " + password, Record: "PASS <redacted>"}, readSpec{})
	return err
}

// maxCommand is the longest command RFC 2449 section 4 allows, CRLF
// included; RFC 5034 section 4 forbids an initial response that would
// exceed it.
const maxCommand = 255

// AuthPlain logs in with AUTH PLAIN (RFC 5034, RFC 4616), sending the
// credentials as an initial response when the command fits in 255 octets
// and after the server's "+" otherwise. The payload is recorded as
// "<redacted>"; the password and the payload (each also in base64) are
// registered with the transcript's scrubber before anything is sent.
func (c *Client) AuthPlain(ctx context.Context, user, password string) error {
	msg := "\x00" + user + "\x00" + password
	c.conn.Transcript().AddSecret(password, msg, msg[1:])
	payload := base64.StdEncoding.EncodeToString([]byte(msg))
	note := "SASL PLAIN credentials for " + strconv.Quote(user) + " (not recorded)"
	if len("AUTH PLAIN ")+len(payload)+2 <= maxCommand {
		r, err := c.cmd(ctx, "auth", "AUTH", wire.Line{Text: "AUTH PLAIN " + payload, Record: "AUTH PLAIN <redacted>", Annotation: note}, readSpec{cont: true})
		return c.finishAuth(ctx, r, err)
	}
	r, err := c.cmd(ctx, "auth", "AUTH", wire.Line{Text: "AUTH PLAIN"}, readSpec{cont: true})
	if err != nil {
		return err
	}
	if r.Status != StatusContinue {
		return c.conn.ProtocolViolation("the server answered AUTH PLAIN with +OK before receiving credentials")
	}
	c.conn.BeginStep("auth")
	if err := c.conn.WriteLine(ctx, wire.Line{Text: payload, Record: "<redacted>", Annotation: note}); err != nil {
		return err
	}
	r, err = c.read(ctx, readSpec{cont: true})
	if err == nil && r.Status == StatusErr {
		err = c.refusal("AUTH", r)
	}
	return c.finishAuth(ctx, r, err)
}

// finishAuth cancels an exchange in which the server asks for more than
// PLAIN has to give.
func (c *Client) finishAuth(ctx context.Context, r *Response, err error) error {
	if err != nil || r.Status != StatusContinue {
		return err
	}
	if err := c.conn.WriteLine(ctx, wire.Line{Text: "*", Annotation: "cancels the authentication exchange (RFC 5034 section 4)"}); err != nil {
		return err
	}
	if _, err := c.read(ctx, readSpec{}); err != nil {
		return err
	}
	return c.conn.ProtocolViolation("the server sent another \"+\" challenge after the PLAIN credentials")
}

// Stat sends STAT and returns the number of messages and their total size
// in octets (RFC 1939 section 5).
func (c *Client) Stat(ctx context.Context) (count int, size int64, err error) {
	r, err := c.cmd(ctx, "stat", "STAT", wire.Line{Text: "STAT"}, readSpec{})
	if err != nil {
		return 0, 0, err
	}
	n, sz, ok := parseNumSize(r.Text)
	if !ok {
		return 0, 0, c.conn.ProtocolViolation(fmt.Sprintf("STAT response %q is not \"count size\"", transcript.PrintableString(clip(r.Text))))
	}
	return n, sz, nil
}

// parseNumSize parses "n size" at the start of s (more text may follow,
// RFC 1939 section 5 allows it in LIST responses).
func parseNumSize(s string) (int, int64, bool) {
	f := strings.Fields(s)
	if len(f) < 2 {
		return 0, 0, false
	}
	n, err1 := strconv.Atoi(f[0])
	sz, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || n < 0 || sz < 0 {
		return 0, 0, false
	}
	return n, sz, true
}

// List sends LIST and returns the scan listing of every message.
func (c *Client) List(ctx context.Context) ([]ListEntry, error) {
	r, err := c.cmd(ctx, "list", "LIST", wire.Line{Text: "LIST"}, readSpec{multi: true})
	if err != nil {
		return nil, err
	}
	out := make([]ListEntry, 0, len(r.Lines))
	for _, l := range r.Lines {
		n, sz, ok := parseNumSize(l)
		if !ok {
			return out, c.conn.ProtocolViolation(fmt.Sprintf("LIST line %q is not \"number size\"", transcript.PrintableString(clip(l))))
		}
		out = append(out, ListEntry{Num: n, Size: sz})
	}
	return out, nil
}

// Uidl sends UIDL and returns the unique-id listing.
func (c *Client) Uidl(ctx context.Context) ([]UIDEntry, error) {
	r, err := c.cmd(ctx, "uidl", "UIDL", wire.Line{Text: "UIDL"}, readSpec{multi: true})
	if err != nil {
		return nil, err
	}
	out := make([]UIDEntry, 0, len(r.Lines))
	for _, l := range r.Lines {
		f := strings.Fields(l)
		n, err := 0, error(nil)
		if len(f) == 2 {
			n, err = strconv.Atoi(f[0])
		}
		if len(f) != 2 || err != nil {
			return out, c.conn.ProtocolViolation(fmt.Sprintf("UIDL line %q is not \"number uid\"", transcript.PrintableString(clip(l))))
		}
		out = append(out, UIDEntry{Num: n, UID: f[1]})
	}
	return out, nil
}

// Top sends TOP n lines and returns the headers and the first lines of
// the body, with CRLF line endings (RFC 1939 section 7).
func (c *Client) Top(ctx context.Context, n, lines int) ([]byte, error) {
	r, err := c.cmd(ctx, "top", "TOP", wire.Line{Text: fmt.Sprintf("TOP %d %d", n, lines)}, readSpec{multi: true, data: true})
	if err != nil {
		return nil, err
	}
	return r.Message(), nil
}

// Retr sends RETR n and returns the message with CRLF line endings.
func (c *Client) Retr(ctx context.Context, n int) ([]byte, error) {
	r, err := c.cmd(ctx, "retr", "RETR", wire.Line{Text: fmt.Sprintf("RETR %d", n)}, readSpec{multi: true, data: true})
	if err != nil {
		return nil, err
	}
	return r.Message(), nil
}

// Dele marks message n as deleted; it is removed at QUIT.
func (c *Client) Dele(ctx context.Context, n int) error {
	_, err := c.cmd(ctx, "dele", "DELE", wire.Line{Text: fmt.Sprintf("DELE %d", n)}, readSpec{})
	return err
}

// Rset unmarks every deleted message.
func (c *Client) Rset(ctx context.Context) error {
	_, err := c.cmd(ctx, "rset", "RSET", wire.Line{Text: "RSET"}, readSpec{})
	return err
}

// Noop sends NOOP.
func (c *Client) Noop(ctx context.Context) error {
	_, err := c.cmd(ctx, "noop", "NOOP", wire.Line{Text: "NOOP"}, readSpec{})
	return err
}

// Quit sends QUIT, which commits deletions (the UPDATE state of RFC 1939
// section 6), and closes the connection.
func (c *Client) Quit(ctx context.Context) error {
	defer c.conn.Close()
	_, err := c.cmd(ctx, "quit", "QUIT", wire.Line{Text: "QUIT"}, readSpec{})
	return err
}
