package imap

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// Error is a NO or BAD completion of a command, or a BYE from the server.
type Error struct {
	// Status is "NO", "BAD" or "BYE".
	Status string
	// Code is the response code in upper case ("AUTHENTICATIONFAILED"),
	// if any, and CodeArg its arguments.
	Code    string
	CodeArg string
	// Text is the human-readable text.
	Text string
	// Command is the command's verb ("LOGIN"), or "greeting".
	Command string
	// Step is the transcript step.
	Step string
}

// Error returns the refusal with the server's text made printable.
func (e *Error) Error() string {
	var b strings.Builder
	verb := "refused"
	if e.Status == "BYE" {
		verb = "ended by the server"
	}
	fmt.Fprintf(&b, "imap: %s %s: %s", e.Command, verb, e.Status)
	if e.Code != "" {
		b.WriteString(" [" + transcript.PrintableString(strings.TrimSpace(e.Code+" "+e.CodeArg)) + "]")
	}
	if e.Text != "" {
		b.WriteString(" " + transcript.PrintableString(e.Text))
	}
	return b.String()
}

// Temporary reports whether trying again later may succeed: the server
// said [UNAVAILABLE] or [INUSE] (RFC 5530 section 3).
func (e *Error) Temporary() bool {
	return e.Code == "UNAVAILABLE" || e.Code == "INUSE"
}

// Completion is everything a command got back.
type Completion struct {
	// Tag is the command's tag.
	Tag string
	// Untagged holds the untagged responses received while the command
	// ran, in order.
	Untagged []*Response
	// Final is the tagged completion, or a continuation request ("+")
	// when Do returned before the command was complete.
	Final *Response
}

// Pending reports whether the server waits for more input (a
// continuation request): the next Do line is sent as that input.
func (c *Completion) Pending() bool { return c.Final != nil && c.Final.Tag == "+" }

// Client is an IMAP connection. It is driven by one goroutine at a time;
// Close may be called from any.
type Client struct {
	conn     *wire.Conn
	greeting *Response
	caps     []string
	tagN     int
	// pending is the command waiting for continuation input in raw mode.
	pending *pendingCmd
}

type pendingCmd struct {
	tag, verb string
	secret    bool // continuation input carries credentials
	done      *Completion
}

// Dial connects to addr and reads the greeting. opts.Proto is set to
// "imap"; use TLSImplicit for port 993 (RFC 8314). A BYE greeting is
// returned as an *Error.
func Dial(ctx context.Context, addr string, opts wire.Options) (*Client, error) {
	return wire.DialClient(ctx, addr, opts, "imap", NewClient)
}

// NewClient reads the greeting on a connection that wire.Dial opened
// (with Proto "imap") and returns a client.
func NewClient(ctx context.Context, conn *wire.Conn) (*Client, error) {
	c := &Client{conn: conn}
	conn.BeginStep("connect")
	r, err := c.readOne(ctx, "greeting", true)
	if err != nil {
		return nil, err
	}
	c.greeting = r
	if r.Tag != "*" || !r.IsStatus() || r.Status == "NO" || r.Status == "BAD" {
		return nil, c.conn.ProtocolViolation(fmt.Sprintf("greeting %q is not * OK, * PREAUTH or * BYE", clip(r.Lines[0])))
	}
	if r.Status == "BYE" {
		return nil, &Error{Status: "BYE", Code: r.Code, CodeArg: r.CodeArg, Text: r.Text, Command: "greeting", Step: "connect"}
	}
	c.learnCaps(r)
	return c, nil
}

// Conn returns the underlying connection.
func (c *Client) Conn() *wire.Conn { return c.conn }

// Transcript returns the store the conversation is recorded in.
func (c *Client) Transcript() *transcript.Store { return c.conn.Transcript() }

// Greeting returns the parsed greeting.
func (c *Client) Greeting() *Response { return c.greeting }

// Preauth reports a PREAUTH greeting: the session starts authenticated.
func (c *Client) Preauth() bool { return c.greeting != nil && c.greeting.Status == "PREAUTH" }

// Caps returns the capabilities last announced, nil when unknown (after
// STARTTLS, until asked again).
func (c *Client) Caps() []string { return c.caps }

// HasCap reports whether the capability (case-insensitive) was announced.
func (c *Client) HasCap(name string) bool {
	for _, cp := range c.caps {
		if strings.EqualFold(cp, name) {
			return true
		}
	}
	return false
}

// Close closes the connection without LOGOUT.
func (c *Client) Close() error { return c.conn.Close() }

// nextTag returns a001, a002, ...
func (c *Client) nextTag() string {
	c.tagN++
	return fmt.Sprintf("a%03d", c.tagN)
}

// connSource reads responses from the connection and records line
// segments and literal contents as they arrive.
type connSource struct {
	ctx  context.Context
	c    *wire.Conn
	wait string
}

func (s *connSource) readLine() ([]byte, error) { return s.c.ReadLine(s.ctx, s.wait) }

func (s *connSource) readLiteral(n, total int64) ([]byte, error) {
	max := s.c.Limits().MaxData
	if n > max-total {
		le := &wire.LimitError{Limit: "message data", Max: max, Step: s.c.Step()}
		s.c.Note(transcript.Error, fmt.Sprintf("server announced a literal of %d bytes: %v; closing the connection", n, le))
		s.c.Close()
		return nil, fmt.Errorf("imap: %w", le)
	}
	// The literal is read in chunks and recorded line by line as it
	// arrives, so that the transcript shows the message as it travelled
	// and keeps what arrived when the connection drops in the middle.
	const chunk = 4 << 10
	out := make([]byte, 0, min(n, 1<<20))
	var pending []byte // bytes of a line not yet recorded
	first := true
	record := func(line []byte, partial bool) {
		ann := ""
		if first {
			ann = fmt.Sprintf("literal data, %d bytes", n)
			first = false
		}
		if partial {
			s.c.Transcript().Append(transcript.Entry{Dir: transcript.Server, Proto: "imap", Step: s.c.Step(), Raw: line, Secure: s.c.Secure(), Partial: true, Annotation: ann})
			return
		}
		s.c.RecordServer(line, nil, ann)
	}
	for read := int64(0); read < n; {
		b, err := s.c.ReadFull(s.ctx, min(n-read, chunk), "literal data")
		if err != nil {
			pending = append(pending, b...)
			if len(pending) > 0 {
				record(pending, true)
			}
			return nil, err
		}
		read += int64(len(b))
		out = append(out, b...)
		pending = append(pending, b...)
		for {
			i := bytes.IndexByte(pending, '\n')
			if i < 0 {
				break
			}
			record(bytes.Clone(trimCR(pending[:i])), false)
			pending = pending[i+1:]
		}
	}
	if len(pending) > 0 || first {
		record(bytes.Clone(pending), false)
	}
	return out, nil
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

func (s *connSource) recordSegment(line []byte) { s.c.RecordServer(line, nil, "") }

// readOne reads one response and records its last line, with the parsed
// reply when it completes something (a tagged response, a continuation
// request, or the greeting).
func (c *Client) readOne(ctx context.Context, wait string, greeting bool) (*Response, error) {
	src := &connSource{ctx: ctx, c: c.conn, wait: wait}
	r, last, err := readResponse(src, c.conn.Limits().MaxReply)
	if err != nil {
		if pe, ok := err.(*wire.ProtocolError); ok {
			pe.Step = c.conn.Step()
			if last != nil {
				c.conn.RecordServer(last, &transcript.Reply{Lines: []string{string(last)}}, "not an IMAP response: "+pe.Msg)
			}
			c.conn.Note(transcript.Error, pe.Error())
			return nil, pe
		}
		if le, ok := err.(*wire.LimitError); ok {
			le.Step = c.conn.Step()
			c.conn.Note(transcript.Error, le.Error()+"; closing the connection")
			c.conn.Close()
			return nil, fmt.Errorf("imap: %w", le)
		}
		return nil, err
	}
	var reply *transcript.Reply
	if r.Tag != "*" || greeting {
		ok := r.Tag == "+" || r.Status == "OK" || r.Status == "PREAUTH"
		code := r.Status
		if r.Tag == "+" {
			code = "+"
		}
		reply = &transcript.Reply{Code: code, RespCode: strings.TrimSpace(r.Code + " " + r.CodeArg), Lines: []string{string(last)}, OK: ok}
	}
	c.conn.RecordServer(last, reply, annotate(r))
	return r, nil
}

// annotate explains a response: a response code, or the decoded text of
// a base64 continuation request.
func annotate(r *Response) string {
	if r.Tag == "+" {
		return decodeChallenge(r.Text)
	}
	if r.Status == "BYE" && r.Tag == "*" {
		return "the server is closing the connection"
	}
	return codeMeaning(r.Code)
}

// decodeChallenge decodes a base64 continuation for the annotation when
// it is printable text.
func decodeChallenge(text string) string {
	if text == "" {
		return "empty continuation request: the server waits for more input"
	}
	return wire.Base64Annotation(text)
}

// codeMeaning explains RFC 5530 and RFC 9051 response codes in a few
// words, for the transcript annotation.
func codeMeaning(code string) string {
	switch code {
	case "AUTHENTICATIONFAILED":
		return "wrong user name or password, or the account is disabled (RFC 5530)"
	case "AUTHORIZATIONFAILED":
		return "the credentials are right but this identity may not act as the requested one (RFC 5530)"
	case "EXPIRED":
		return "the password or account has expired (RFC 5530)"
	case "PRIVACYREQUIRED":
		return "the server requires TLS before this operation (RFC 5530)"
	case "CONTACTADMIN":
		return "the user should contact the administrator (RFC 5530)"
	case "UNAVAILABLE":
		return "a temporary failure on the server; try again later (RFC 5530)"
	case "INUSE":
		return "the mailbox or resource is in use by another session (RFC 5530)"
	case "NOPERM":
		return "no permission for this mailbox (RFC 5530)"
	case "OVERQUOTA":
		return "the account is over its quota (RFC 5530)"
	case "NONEXISTENT":
		return "the mailbox does not exist (RFC 5530)"
	case "SERVERBUG":
		return "the server reports an internal error (RFC 5530)"
	case "CLIENTBUG":
		return "the server thinks the command was wrong though it carried it out (RFC 5530)"
	case "LIMIT":
		return "a server limit was reached (RFC 5530)"
	case "ALERT":
		return "the server asks that this text be shown to the user (RFC 9051 7.1)"
	case "TRYCREATE":
		return "the target mailbox does not exist and may be created (RFC 9051 7.1)"
	}
	return ""
}

// learnCaps takes the capabilities from a CAPABILITY response or code.
func (c *Client) learnCaps(r *Response) {
	switch {
	case r.Kind == "CAPABILITY":
		c.caps = strings.Fields(r.Data)
	case r.Code == "CAPABILITY":
		c.caps = strings.Fields(r.CodeArg)
	}
}

// noCont refuses a continuation request to a command that sends no
// further input.
func (c *Client) noCont(r *Response) ([]wire.Line, error) {
	return nil, c.conn.ProtocolViolation("unexpected continuation request")
}

// contFunc answers a continuation request with the lines to send.
type contFunc func(r *Response) ([]wire.Line, error)

// run sends a command and collects the responses until its tagged
// completion. cont answers continuation requests; with a nil cont, run
// returns the pending completion as soon as one arrives (raw mode).
func (c *Client) run(ctx context.Context, step, verb, tag string, lines []wire.Line, cont contFunc) (*Completion, error) {
	c.conn.BeginStep(step)
	if err := c.conn.WriteLines(ctx, lines...); err != nil {
		return nil, err
	}
	return c.collect(ctx, &Completion{Tag: tag}, verb, cont)
}

// collect reads responses for the command in comp.
func (c *Client) collect(ctx context.Context, comp *Completion, verb string, cont contFunc) (*Completion, error) {
	var bye *Response
	var size int64
	budget := c.conn.Limits().MaxData + int64(c.conn.Limits().MaxReply)
	for {
		r, err := c.readOne(ctx, "response to "+verb, false)
		if err != nil {
			if bye != nil {
				return comp, &Error{Status: "BYE", Code: bye.Code, CodeArg: bye.CodeArg, Text: bye.Text, Command: verb, Step: c.conn.Step()}
			}
			return comp, err
		}
		switch {
		case r.Tag == "+":
			if cont == nil {
				comp.Final = r
				return comp, nil
			}
			next, err := cont(r)
			if err != nil {
				return comp, err
			}
			if err := c.conn.WriteLines(ctx, next...); err != nil {
				return comp, err
			}
		case r.Tag == "*":
			for _, l := range r.Lines {
				size += int64(len(l))
			}
			for _, l := range r.Literals {
				size += int64(len(l))
			}
			if size > budget {
				le := &wire.LimitError{Limit: "reply size", Max: budget, Step: c.conn.Step()}
				c.conn.Note(transcript.Error, le.Error()+"; closing the connection")
				c.conn.Close()
				return comp, fmt.Errorf("imap: %w", le)
			}
			comp.Untagged = append(comp.Untagged, r)
			c.learnCaps(r)
			if r.Status == "BYE" {
				bye = r
			}
		case r.Tag == comp.Tag:
			comp.Final = r
			c.learnCaps(r)
			if r.Status != "OK" {
				return comp, &Error{Status: r.Status, Code: r.Code, CodeArg: r.CodeArg, Text: r.Text, Command: verb, Step: c.conn.Step()}
			}
			return comp, nil
		default:
			return comp, c.conn.ProtocolViolation(fmt.Sprintf("completion with tag %q while waiting for %q", clip(r.Tag), comp.Tag))
		}
	}
}

// knownCommands are the IMAP commands Do recognises as the first word of
// an untagged line (RFC 9051 section 6 and common extensions).
var knownCommands = map[string]bool{
	"CAPABILITY": true, "NOOP": true, "LOGOUT": true, "STARTTLS": true, "AUTHENTICATE": true,
	"LOGIN": true, "ENABLE": true, "SELECT": true, "EXAMINE": true, "CREATE": true, "DELETE": true,
	"RENAME": true, "SUBSCRIBE": true, "UNSUBSCRIBE": true, "LIST": true, "LSUB": true,
	"NAMESPACE": true, "STATUS": true, "APPEND": true, "IDLE": true, "CHECK": true, "CLOSE": true,
	"UNSELECT": true, "EXPUNGE": true, "SEARCH": true, "FETCH": true, "STORE": true, "COPY": true,
	"MOVE": true, "UID": true, "ID": true, "GETQUOTAROOT": true, "GETQUOTA": true, "DONE": true,
	"ESEARCH": true, "COMPRESS": true, "XLIST": true,
}

// splitUserLine decides whether the user typed a tag. The first word is a
// tag when it is not a known command and either the second word is one
// or the first word holds a digit ("a1 LOGIN ...", ". LOGIN ...").
func splitUserLine(line string) (tag, rest string) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return "", ""
	}
	first := strings.ToUpper(f[0])
	if knownCommands[first] || !validTag(f[0]) {
		return "", strings.TrimLeft(line, " ")
	}
	if len(f) > 1 && knownCommands[strings.ToUpper(f[1])] || strings.ContainsAny(f[0], "0123456789") {
		t, r, _ := strings.Cut(strings.TrimLeft(line, " "), " ")
		return t, strings.TrimLeft(r, " ")
	}
	return "", strings.TrimLeft(line, " ")
}

// Do sends a line the user typed and reads the responses up to its tagged
// completion. When the line has no tag (see splitUserLine) the next
// automatic one is put in front. LOGIN passwords and AUTHENTICATE initial
// responses are recorded redacted, as is every continuation line of a
// LOGIN or AUTHENTICATE. When the server sends a continuation request, Do
// returns at once with Completion.Pending set, and the next Do line is
// sent as the continuation. STARTTLS answered OK upgrades the connection.
// A NO, BAD or BYE is returned together with an *Error.
func (c *Client) Do(ctx context.Context, line string) (*Completion, error) {
	if p := c.pending; p != nil {
		c.pending = nil
		l := wire.Line{Text: line}
		if p.secret {
			l.Record, l.Annotation = "<redacted>", "continuation carrying credentials (not recorded)"
		}
		if line == "*" {
			l = wire.Line{Text: line, Annotation: "cancels the authentication exchange (RFC 9051 section 6.2.2)"}
		}
		if err := c.conn.WriteLine(ctx, l); err != nil {
			return nil, err
		}
		comp, err := c.collect(ctx, p.done, p.verb, nil)
		return c.afterDo(ctx, p, comp, err)
	}
	if strings.TrimSpace(line) == "" {
		return nil, &wire.InputError{Msg: "imap: empty command"}
	}
	tag, rest := splitUserLine(line)
	if tag == "" {
		tag = c.nextTag()
	}
	f := strings.Fields(rest)
	verb := ""
	if len(f) > 0 {
		verb = strings.ToUpper(f[0])
	}
	if verb == "UID" && len(f) > 1 {
		verb = "UID " + strings.ToUpper(f[1])
	}
	l := wire.Line{Text: tag + " " + rest}
	p := &pendingCmd{tag: tag, verb: verb}
	switch verb {
	case "LOGIN":
		p.secret = true
		if len(f) > 2 && !strings.HasPrefix(f[1], "{") && !strings.HasPrefix(f[1], `"`) {
			l.Record = tag + " " + f[0] + " " + f[1] + " <redacted>"
		} else if len(f) > 1 {
			l.Record = tag + " " + f[0] + " <redacted>"
		}
	case "AUTHENTICATE":
		p.secret = true
		if len(f) > 2 {
			l.Record = tag + " " + f[0] + " " + f[1] + " <redacted>"
		}
	}
	step := strings.ToLower(strings.ReplaceAll(verb, " ", "-"))
	if step == "" {
		step = "command"
	}
	comp, err := c.run(ctx, step, verb, tag, []wire.Line{l}, nil)
	p.done = comp
	return c.afterDo(ctx, p, comp, err)
}

// afterDo handles what follows a raw command: a pending continuation, a
// STARTTLS upgrade, the end of the session after LOGOUT.
func (c *Client) afterDo(ctx context.Context, p *pendingCmd, comp *Completion, err error) (*Completion, error) {
	if err != nil {
		return comp, err
	}
	if comp.Pending() {
		c.pending = p
		return comp, nil
	}
	switch p.verb {
	case "STARTTLS":
		if _, err := c.upgrade(ctx); err != nil {
			return comp, err
		}
	case "LOGOUT":
		c.conn.Close()
	}
	return comp, nil
}

// Capability sends CAPABILITY and returns the capabilities.
func (c *Client) Capability(ctx context.Context) ([]string, error) {
	tag := c.nextTag()
	if _, err := c.run(ctx, "capability", "CAPABILITY", tag, []wire.Line{{Text: tag + " CAPABILITY"}}, c.noCont); err != nil {
		return nil, err
	}
	return c.caps, nil
}

// StartTLS sends STARTTLS and, after OK, performs the TLS handshake.
// Capabilities learnt before are forgotten (RFC 9051 section 6.2.1).
func (c *Client) StartTLS(ctx context.Context) (*wire.TLSInfo, error) {
	tag := c.nextTag()
	if _, err := c.run(ctx, "starttls", "STARTTLS", tag, []wire.Line{{Text: tag + " STARTTLS"}}, c.noCont); err != nil {
		return nil, err
	}
	return c.upgrade(ctx)
}

func (c *Client) upgrade(ctx context.Context) (*wire.TLSInfo, error) {
	c.caps = nil
	info, err := c.conn.StartTLS(ctx)
	if err != nil {
		return info, fmt.Errorf("imap: STARTTLS: %w", err)
	}
	return info, nil
}

// arg is one command argument.
type arg struct {
	s      string
	secret bool
	what   string // names the argument in an input error ("mailbox name")
}

// checkInput refuses an argument before anything is sent: NUL anywhere
// (RFC 9051 §4.3: not even a literal may hold one), and with noBreaks CR
// or LF too (a user name: no server has one, and one that smuggles a line
// break is an injection attempt). The error names the argument and the
// position, never the character itself.
func (c *Client) checkInput(what, s string, noBreaks bool) error {
	pos := 0
	for _, r := range s {
		pos++
		name := ""
		switch {
		case r == 0:
			name = "a NUL byte (RFC 9051 §4.3 allows none, not even in a literal)"
		case noBreaks && r == '\r':
			name = "a carriage return (CR)"
		case noBreaks && r == '\n':
			name = "a line feed (LF)"
		default:
			continue
		}
		err := &wire.InputError{Msg: fmt.Sprintf("imap: %s contains %s at position %d; refused before sending", what, name, pos)}
		c.conn.Note(transcript.Error, err.Msg)
		return err
	}
	return nil
}

// quotable reports whether s may be sent as a quoted string: 7-bit text
// without CR, LF or NUL (RFC 9051 section 4.3).
func quotable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c == '\r' || c == '\n' || c >= 0x80 {
			return false
		}
	}
	return len(s) < 1000
}

// atomSafe reports whether s may be sent bare as an astring.
func atomSafe(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\`, c) >= 0 {
			return false
		}
	}
	return true
}

func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// buildCommand encodes args after "tag verb" as astrings: bare when
// possible, quoted when 7-bit, otherwise as literals. Each literal ends a
// line; with LITERAL+ (RFC 7888) the literals are non-synchronizing and
// every line can be sent at once (sync false). Secrets are replaced by
// "<redacted>" in each line's Record. A secret is never sent bare: a
// password such as NIL would be read as the NIL atom.
//
// An argument with a NUL is refused with an input error before anything
// is built.
func (c *Client) buildCommand(head string, args ...arg) (lines []wire.Line, sync bool, err error) {
	for _, a := range args {
		if err := c.checkInput(a.what, a.s, false); err != nil {
			return nil, false, err
		}
	}
	cur, rec := head, head
	secret := false
	for _, a := range args {
		switch {
		case atomSafe(a.s) && !a.secret:
			cur += " " + a.s
			rec += " " + a.s
		case quotable(a.s):
			cur += " " + quote(a.s)
			if a.secret {
				rec += " <redacted>"
				secret = true
			} else {
				rec += " " + quote(a.s)
			}
		default:
			n := len(a.s)
			marker := fmt.Sprintf("{%d}", n)
			if c.HasCap("LITERAL+") || c.HasCap("LITERAL-") && n <= 4096 {
				marker = fmt.Sprintf("{%d+}", n)
			} else {
				sync = true
			}
			cur += " " + marker
			rec += " " + marker
			lines = append(lines, mkLine(cur, rec, secret))
			cur, secret = a.s, a.secret
			if a.secret {
				rec = "<redacted>"
			} else {
				rec = a.s
			}
		}
	}
	return append(lines, mkLine(cur, rec, secret)), sync, nil
}

func mkLine(text, rec string, secret bool) wire.Line {
	l := wire.Line{Text: text}
	if secret || rec != text {
		l.Record = rec
	}
	return l
}

// sendCommand runs a command built by buildCommand, waiting for the
// server's continuation between synchronizing literals.
func (c *Client) sendCommand(ctx context.Context, step, verb, tag string, lines []wire.Line, sync bool) (*Completion, error) {
	if !sync {
		return c.run(ctx, step, verb, tag, lines, c.noCont)
	}
	rest := lines[1:]
	return c.run(ctx, step, verb, tag, lines[:1], func(*Response) ([]wire.Line, error) {
		if len(rest) == 0 {
			return nil, c.conn.ProtocolViolation("continuation request after the last literal")
		}
		next := rest[:1]
		rest = rest[1:]
		return next, nil
	})
}

// Login sends LOGIN (RFC 9051 section 6.2.3). The transcript shows
// "a001 LOGIN kate <redacted>", and the password is registered with the
// transcript's scrubber first, so that a server echoing it back is
// recorded redacted too. A user name with CR, LF or NUL, or a password
// with NUL, is refused before sending.
func (c *Client) Login(ctx context.Context, user, password string) error {
	if err := c.checkInput("user name", user, true); err != nil {
		return err
	}
	c.conn.Transcript().AddSecret(password)
	tag := c.nextTag()
	lines, sync, err := c.buildCommand(tag+" LOGIN", arg{s: user, what: "user name"}, arg{s: password, secret: true, what: "password"})
	if err != nil {
		return err
	}
	comp, err := c.sendCommand(ctx, "login", "LOGIN", tag, lines, sync)
	if err == nil && comp.Final.Code != "CAPABILITY" {
		c.caps = nil // RFC 9051 section 6.2.3: capabilities may change after login
	}
	return err
}

// AuthenticatePlain logs in with AUTHENTICATE PLAIN (RFC 4616), sending
// the credentials as an initial response when the server offers SASL-IR
// (RFC 4959) and after its continuation request otherwise. The payload is
// recorded as "<redacted>"; the password and the payload (each also in
// base64) are registered with the transcript's scrubber before anything
// is sent. A user name with CR, LF or NUL, or a password with NUL (RFC
// 4616 §2), is refused before sending.
func (c *Client) AuthenticatePlain(ctx context.Context, user, password string) error {
	if err := c.checkInput("user name", user, true); err != nil {
		return err
	}
	if err := c.checkInput("password", password, false); err != nil {
		return err
	}
	msg := "\x00" + user + "\x00" + password
	c.conn.Transcript().AddSecret(password, msg, msg[1:])
	tag := c.nextTag()
	payload := base64.StdEncoding.EncodeToString([]byte(msg))
	note := "SASL PLAIN credentials for " + strconv.Quote(user) + " (not recorded)"
	sent := false
	cont := func(r *Response) ([]wire.Line, error) {
		if sent {
			// PLAIN has nothing more to say: cancel (RFC 9051 6.2.2).
			return []wire.Line{{Text: "*", Annotation: "cancels the authentication exchange: PLAIN has no further response"}}, nil
		}
		sent = true
		return []wire.Line{{Text: payload, Record: "<redacted>", Annotation: note}}, nil
	}
	first := wire.Line{Text: tag + " AUTHENTICATE PLAIN"}
	if c.HasCap("SASL-IR") {
		first = wire.Line{Text: tag + " AUTHENTICATE PLAIN " + payload, Record: tag + " AUTHENTICATE PLAIN <redacted>", Annotation: note}
		sent = true
	}
	comp, err := c.run(ctx, "authenticate", "AUTHENTICATE", tag, []wire.Line{first}, cont)
	if err == nil && comp.Final.Code != "CAPABILITY" {
		c.caps = nil
	}
	return err
}

// Mailbox is one LIST response (RFC 9051 section 7.3.1).
type Mailbox struct {
	Attrs []string
	// Delim is the hierarchy delimiter, "" for NIL.
	Delim string
	// Name is the mailbox name as sent (modified UTF-7 for IMAP4rev1
	// servers).
	Name string
}

// List sends LIST ref pattern and returns the mailboxes.
func (c *Client) List(ctx context.Context, ref, pattern string) ([]Mailbox, error) {
	tag := c.nextTag()
	lines, sync, err := c.buildCommand(tag+" LIST", arg{s: ref, what: "reference name"}, arg{s: pattern, what: "mailbox pattern"})
	if ref == "" {
		lines, sync, err = c.buildCommand(tag+` LIST ""`, arg{s: pattern, what: "mailbox pattern"})
	}
	if err != nil {
		return nil, err
	}
	comp, err := c.sendCommand(ctx, "list", "LIST", tag, lines, sync)
	if err != nil {
		return nil, err
	}
	var out []Mailbox
	for _, r := range comp.Untagged {
		if r.Kind != "LIST" {
			continue
		}
		vals, err := r.Values()
		if err != nil || len(vals) < 3 || vals[0].Kind != List {
			return out, c.conn.ProtocolViolation(fmt.Sprintf("LIST response %q is not (attributes) delimiter name", clip(r.Lines[0])))
		}
		m := Mailbox{Delim: vals[1].Text(), Name: vals[2].Text()}
		for _, a := range vals[0].List {
			m.Attrs = append(m.Attrs, a.Text())
		}
		out = append(out, m)
	}
	return out, nil
}

// MailboxStatus is what SELECT or EXAMINE reports (RFC 9051 section
// 6.3.2).
type MailboxStatus struct {
	Name           string
	Exists         uint32
	Recent         uint32
	Flags          []string
	PermanentFlags []string
	UIDValidity    uint32
	UIDNext        uint32
	ReadOnly       bool
}

// Select opens a mailbox read-write.
func (c *Client) Select(ctx context.Context, name string) (*MailboxStatus, error) {
	return c.open(ctx, "SELECT", name)
}

// Examine opens a mailbox read-only.
func (c *Client) Examine(ctx context.Context, name string) (*MailboxStatus, error) {
	return c.open(ctx, "EXAMINE", name)
}

func (c *Client) open(ctx context.Context, verb, name string) (*MailboxStatus, error) {
	tag := c.nextTag()
	lines, sync, err := c.buildCommand(tag+" "+verb, arg{s: name, what: "mailbox name"})
	if err != nil {
		return nil, err
	}
	comp, err := c.sendCommand(ctx, strings.ToLower(verb), verb, tag, lines, sync)
	if err != nil {
		return nil, err
	}
	st := &MailboxStatus{Name: name, ReadOnly: comp.Final.Code == "READ-ONLY"}
	for _, r := range comp.Untagged {
		switch {
		case r.Kind == "EXISTS" && r.HasNum:
			st.Exists = r.Num
		case r.Kind == "RECENT" && r.HasNum:
			st.Recent = r.Num
		case r.Kind == "FLAGS":
			st.Flags = flagList(r.Data, nil)
		case r.Code == "PERMANENTFLAGS":
			st.PermanentFlags = flagList(r.CodeArg, nil)
		case r.Code == "UIDVALIDITY":
			st.UIDValidity = parseU32(r.CodeArg)
		case r.Code == "UIDNEXT":
			st.UIDNext = parseU32(r.CodeArg)
		}
	}
	return st, nil
}

func flagList(s string, lits [][]byte) []string {
	vals, err := ParseValues(s, lits)
	if err != nil || len(vals) == 0 || vals[0].Kind != List {
		return nil
	}
	out := []string{}
	for _, v := range vals[0].List {
		out = append(out, v.Text())
	}
	return out
}

func parseU32(s string) uint32 {
	n, _ := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	return uint32(n)
}

// FetchItem is one data item of a FETCH response: its name as the
// server sent it ("UID", "BODY[]", "BODY[HEADER.FIELDS (SUBJECT)]") and
// its value.
type FetchItem struct {
	Name  string
	Value Value
}

// Message is one FETCH response.
type Message struct {
	Seq   uint32
	Items []FetchItem
}

// Get returns the value of the named item (case-insensitive).
func (m *Message) Get(name string) (Value, bool) {
	for _, it := range m.Items {
		if strings.EqualFold(it.Name, name) {
			return it.Value, true
		}
	}
	return Value{}, false
}

// validSeqSet reports whether s is a sequence set (RFC 9051 section 9).
func validSeqSet(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c == ':' || c == ',' || c == '*') {
			return false
		}
	}
	return true
}

// Fetch sends FETCH seqset items (items as typed: "(UID FLAGS BODY[])")
// and returns the messages. Literal contents are bounded by
// Limits.MaxData.
func (c *Client) Fetch(ctx context.Context, seqset, items string) ([]Message, error) {
	if !validSeqSet(seqset) {
		return nil, &wire.InputError{Msg: fmt.Sprintf("imap: %q is not a sequence set (like 1, 2:5 or 1:*)", seqset)}
	}
	tag := c.nextTag()
	line := tag + " FETCH " + seqset + " " + items
	comp, err := c.run(ctx, "fetch", "FETCH", tag, []wire.Line{{Text: line}}, c.noCont)
	if err != nil {
		return nil, err
	}
	var out []Message
	for _, r := range comp.Untagged {
		if r.Kind != "FETCH" || !r.HasNum {
			continue
		}
		vals, err := r.Values()
		if err != nil || len(vals) != 1 || vals[0].Kind != List || len(vals[0].List)%2 != 0 {
			return out, c.conn.ProtocolViolation(fmt.Sprintf("FETCH response %q is not a list of name value pairs", clip(r.Lines[0])))
		}
		m := Message{Seq: r.Num}
		for i := 0; i < len(vals[0].List); i += 2 {
			m.Items = append(m.Items, FetchItem{Name: vals[0].List[i].Text(), Value: vals[0].List[i+1]})
		}
		out = append(out, m)
	}
	return out, nil
}

// Search sends SEARCH criteria (as typed: "ALL", "SUBJECT hello") and
// returns the matching sequence numbers.
func (c *Client) Search(ctx context.Context, criteria string) ([]uint32, error) {
	tag := c.nextTag()
	comp, err := c.run(ctx, "search", "SEARCH", tag, []wire.Line{{Text: tag + " SEARCH " + criteria}}, c.noCont)
	if err != nil {
		return nil, err
	}
	out := []uint32{}
	for _, r := range comp.Untagged {
		if r.Kind != "SEARCH" {
			continue
		}
		for _, f := range strings.Fields(r.Data) {
			n, err := strconv.ParseUint(f, 10, 32)
			if err != nil {
				return out, c.conn.ProtocolViolation(fmt.Sprintf("SEARCH result %q is not a number", clip(f)))
			}
			out = append(out, uint32(n))
		}
	}
	return out, nil
}

// Noop sends NOOP; untagged updates (EXISTS, EXPUNGE) are returned.
func (c *Client) Noop(ctx context.Context) ([]*Response, error) {
	tag := c.nextTag()
	comp, err := c.run(ctx, "noop", "NOOP", tag, []wire.Line{{Text: tag + " NOOP"}}, c.noCont)
	if comp == nil {
		return nil, err
	}
	return comp.Untagged, err
}

// Logout sends LOGOUT, reads the BYE and the completion, and closes the
// connection.
func (c *Client) Logout(ctx context.Context) error {
	defer c.conn.Close()
	tag := c.nextTag()
	_, err := c.run(ctx, "logout", "LOGOUT", tag, []wire.Line{{Text: tag + " LOGOUT"}}, c.noCont)
	return err
}
