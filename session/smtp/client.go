package smtp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/mailflow/mailflow/diag/addr"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// Options configures Dial.
type Options struct {
	// Transcript receives every line; nil means a private store.
	Transcript *transcript.Store
	// Limits bounds line and reply sizes and the time of each step.
	Limits wire.Limits
	// TLS is wire.TLSImplicit for SMTPS (port 465, RFC 8314); other values
	// dial in the clear (STARTTLS is a separate call).
	TLS wire.TLSMode
	// TLSOptions configures certificate verification.
	TLSOptions wire.TLSOptions
	// Network is "tcp" (default), "tcp4" or "tcp6".
	Network string
	// Dialer replaces the default dialer (a SOCKS5 proxy).
	Dialer wire.ContextDialer
	// LocalName is the default EHLO/HELO name; empty means DefaultHelo().
	LocalName string
}

// Exchange is one command (or, for the greeting, none) and its reply, in
// the order they happened. The check runner turns exchanges into steps.
type Exchange struct {
	// Step is the step name: "connect", "ehlo", "helo", "starttls",
	// "auth", "mail", "rcpt", "rset", "data", "message", "quit", ...
	Step string
	// Command is the command as recorded in the transcript, secrets
	// redacted; several lines are joined with " / ". Empty for the
	// greeting.
	Command string
	// Reply is the final reply; its Code is 0 when none arrived.
	Reply Reply
	// Err is nil on success, an *Error for a negative reply, or a
	// transport or input error.
	Err error
}

// Client is an SMTP client connection. A Client is used by one goroutine
// at a time; cancelling the context of a call ends it at once.
type Client struct {
	conn       *wire.Conn
	opts       Options
	greeting   Reply
	caps       Caps
	capsBefore Caps
	capsAfter  bool // caps were read again after STARTTLS
	esmtp      bool
	helo       string
	failedTLS  *wire.TLSInfo
	roundTrips int
	exchanges  []Exchange

	// raw mode state
	inData  bool
	rawAuth *rawAuth
}

// DefaultHelo returns the name sent with EHLO when none is given: the
// local host name when it looks like a domain, else "localhost".
func DefaultHelo() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	if _, err := addr.ParseDomain(h); err != nil {
		return "localhost"
	}
	return h
}

// Dial connects to addr, reads the greeting and returns the client. A
// greeting other than 220 is returned as *Error with Command "greeting";
// for 554 or 521 (RFC 5321 §3.1, RFC 7504: the server refuses service)
// the client sends QUIT as §3.1 asks and closes the connection.
func Dial(ctx context.Context, address string, opts Options) (*Client, error) {
	conn, err := wire.Dial(ctx, address, wire.Options{
		Proto: "smtp", Transcript: opts.Transcript, Limits: opts.Limits, TLS: opts.TLS,
		TLSOptions: opts.TLSOptions, Network: opts.Network, Dialer: opts.Dialer,
	})
	if err != nil {
		return nil, err
	}
	return newClient(ctx, conn, opts)
}

// NewClient runs SMTP over an already dialled wire connection: it reads
// the greeting like Dial.
func NewClient(ctx context.Context, conn *wire.Conn, opts Options) (*Client, error) {
	return newClient(ctx, conn, opts)
}

func newClient(ctx context.Context, conn *wire.Conn, opts Options) (*Client, error) {
	c := &Client{conn: conn, opts: opts}
	conn.BeginStep("connect")
	r, err := c.readReply(ctx, "greeting", nil)
	c.exchanges = append(c.exchanges, Exchange{Step: "connect", Reply: r, Err: err})
	if err != nil {
		conn.Close()
		return nil, err
	}
	c.greeting = r
	if r.Code == 220 {
		return c, nil
	}
	e := &Error{Command: "greeting", Reply: r}
	c.exchanges[len(c.exchanges)-1].Err = e
	if r.Code == 554 || r.Code == 521 {
		conn.Note(transcript.Warning, fmt.Sprintf("the server refuses service with %d in its greeting; sending QUIT as RFC 5321 §3.1 asks", r.Code))
		qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, _ = c.do(qctx, "quit", []int{221}, wire.Line{Text: "QUIT"})
		cancel()
	} else {
		conn.Note(transcript.Error, fmt.Sprintf("the greeting has code %d; a server ready for mail greets with 220", r.Code))
	}
	conn.Close()
	return nil, e
}

// Greeting returns the server's greeting.
func (c *Client) Greeting() Reply { return c.greeting }

// Caps returns the extensions of the latest EHLO reply (empty after HELO
// and right after STARTTLS, until EHLO is sent again: RFC 3207 §4.2).
func (c *Client) Caps() Caps { return c.caps }

// CapsBeforeTLS returns the extensions announced before STARTTLS; without
// STARTTLS it equals Caps.
func (c *Client) CapsBeforeTLS() Caps {
	if c.capsAfter || c.conn.Secure() {
		return c.capsBefore
	}
	return c.caps
}

// ESMTP reports whether the server accepted EHLO.
func (c *Client) ESMTP() bool { return c.esmtp }

// TLS returns the TLS facts: of the active session, or of a handshake
// that failed verification; nil when TLS was never tried.
func (c *Client) TLS() *wire.TLSInfo {
	if i := c.conn.TLS(); i != nil {
		return i
	}
	return c.failedTLS
}

// RoundTrips returns how many times the client waited for the server
// after writing: the figure PIPELINING (RFC 2920) reduces.
func (c *Client) RoundTrips() int { return c.roundTrips }

// Exchanges returns every command and reply so far, greeting first.
func (c *Client) Exchanges() []Exchange { return append([]Exchange(nil), c.exchanges...) }

// Transcript returns the store the conversation is recorded in.
func (c *Client) Transcript() *transcript.Store { return c.conn.Transcript() }

// RemoteAddr returns the server's address.
func (c *Client) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// InData reports that a raw DATA is in progress: lines sent with Do are
// message lines until a line with a single ".".
func (c *Client) InData() bool { return c.inData }

// Close closes the connection without QUIT.
func (c *Client) Close() error { return c.conn.Close() }

// readReply reads one complete reply, recording each line; annotate, when
// set, explains the last line (a decoded AUTH challenge).
func (c *Client) readReply(ctx context.Context, wait string, annotate func(Reply) string) (Reply, error) {
	b := replyBuilder{max: c.conn.Limits().MaxReply}
	for {
		raw, err := c.conn.ReadLine(ctx, wait)
		if err != nil {
			return Reply{}, err
		}
		line := string(raw)
		done, err := b.add(line)
		if err != nil {
			var le *wire.LimitError
			if errors.As(err, &le) {
				le.Step = c.conn.Step()
				c.conn.RecordServer(raw, nil, "reply cut off here")
				c.conn.Note(transcript.Error, le.Error())
				c.conn.Close()
				return Reply{}, fmt.Errorf("smtp: %w", le)
			}
			pe := &wire.ProtocolError{Proto: "smtp", Step: c.conn.Step(), Msg: err.Error()}
			c.conn.RecordServer(raw, nil, "not a valid reply line")
			c.conn.Note(transcript.Error, pe.Msg)
			c.conn.Close()
			return Reply{}, pe
		}
		if !done {
			c.conn.RecordServer(raw, nil, "")
			continue
		}
		r := b.reply
		note := ""
		if annotate != nil {
			note = annotate(r)
		}
		tr := r.Transcript()
		e := c.conn.RecordServer(raw, &tr, note)
		r.RTT = e.RTT
		if e.Redacted && e.Reply != nil {
			r = scrubbed(r, e.Reply.Lines)
		}
		return r, nil
	}
}

// scrubbed returns r with the lines the transcript recorded: a line that
// echoed a secret registered with the transcript (AddSecret) has it
// replaced by "<redacted>" there, and the Reply handed to callers (and so
// Exchanges, Error messages and the check's results) must not hold it
// either. The code and the enhanced code are kept: a secret is at least
// four bytes and cannot hide in the three-digit code alone.
func scrubbed(r Reply, lines []string) Reply {
	if len(lines) != len(r.Lines) {
		return r
	}
	out := r
	out.Lines = append([]string(nil), lines...)
	out.Text = append([]string(nil), r.Text...)
	for i, l := range lines {
		if l == r.Lines[i] {
			continue
		}
		if len(l) >= 4 && len(r.Lines[i]) >= 4 && l[:4] == r.Lines[i][:4] {
			out.Text[i] = l[4:]
		} else {
			out.Text[i] = l
		}
	}
	return out
}

// roundTrip sends lines in one write and reads one reply.
func (c *Client) roundTrip(ctx context.Context, step string, annotate func(Reply) string, lines ...wire.Line) (Reply, error) {
	c.conn.BeginStep(step)
	if err := c.conn.WriteLines(ctx, lines...); err != nil {
		return Reply{}, err
	}
	c.roundTrips++
	return c.readReply(ctx, "reply", annotate)
}

// do is a round trip that expects one of want and records the exchange.
func (c *Client) do(ctx context.Context, step string, want []int, lines ...wire.Line) (Reply, error) {
	r, err := c.roundTrip(ctx, step, nil, lines...)
	cmd := recorded(lines...)
	if err == nil && !codeIn(r.Code, want) {
		err = &Error{Command: cmd, Reply: r}
	}
	c.exchanges = append(c.exchanges, Exchange{Step: step, Command: cmd, Reply: r, Err: err})
	return r, err
}

func codeIn(code int, want []int) bool {
	for _, w := range want {
		if code == w {
			return true
		}
	}
	return false
}

// recorded returns lines as the transcript shows them.
func recorded(lines ...wire.Line) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = l.Text
		if l.Record != "" {
			parts[i] = l.Record
		}
	}
	return strings.Join(parts, " / ")
}

// inputErr records a refused input in the transcript and returns it.
func (c *Client) inputErr(err error) error {
	c.conn.Note(transcript.Error, err.Error())
	return err
}

// Hello sends EHLO name and, when the server does not know EHLO (500, 502
// or 504), or answers it with another 5xx although its greeting did not
// say ESMTP, falls back to HELO (RFC 5321 §3.2). An empty name means
// Options.LocalName or DefaultHelo().
func (c *Client) Hello(ctx context.Context, name string) (Reply, error) {
	if name == "" {
		name = c.opts.LocalName
	}
	if name == "" {
		name = DefaultHelo()
	}
	if err := checkField("EHLO name", name); err != nil {
		return Reply{}, c.inputErr(err)
	}
	if name == "" || strings.ContainsAny(name, " \t") {
		return Reply{}, c.inputErr(&wire.InputError{Msg: fmt.Sprintf("smtp: EHLO name %q must be one word: a domain or an address literal", name)})
	}
	c.helo = name
	r, err := c.do(ctx, "ehlo", []int{250}, wire.Line{Text: "EHLO " + name})
	if err == nil {
		c.setCaps(ParseCaps(r))
		c.esmtp = true
		return r, nil
	}
	var se *Error
	if !errors.As(err, &se) {
		return r, err
	}
	greetESMTP := strings.Contains(strings.ToUpper(strings.Join(c.greeting.Text, " ")), "ESMTP")
	if !codeIn(r.Code, []int{500, 502, 504}) && (greetESMTP || !r.Permanent()) {
		return r, err
	}
	c.conn.Note(transcript.Info, fmt.Sprintf("EHLO refused with %d; falling back to HELO (RFC 5321 §3.2): no extensions, so no STARTTLS, AUTH or PIPELINING", r.Code))
	r, err = c.do(ctx, "helo", []int{250}, wire.Line{Text: "HELO " + name})
	if err == nil {
		c.setCaps(Caps{})
		c.esmtp = false
	}
	return r, err
}

func (c *Client) setCaps(k Caps) {
	c.caps = k
	if c.conn.Secure() {
		c.capsAfter = true
	} else {
		c.capsBefore = k
	}
}

// offered lists the EHLO keywords, for NotOfferedError.
func (c *Client) offered() []string {
	var out []string
	for _, k := range c.caps.List() {
		out = append(out, k.Keyword)
	}
	return out
}

// StartTLS sends STARTTLS (RFC 3207), performs the handshake with the
// configured verification, forgets the extensions learnt in the clear
// (§4.2) and sends EHLO again with the same name. It refuses to send
// STARTTLS when the server did not offer it; a failed handshake or
// verification closes the connection, and TLS() then holds the facts.
func (c *Client) StartTLS(ctx context.Context) error {
	if c.conn.Secure() {
		return c.inputErr(&wire.InputError{Msg: "smtp: TLS is already active"})
	}
	if !c.caps.Has(ExtStartTLS) {
		err := &NotOfferedError{Extension: "STARTTLS", Why: "needed to start TLS", Offered: c.offered()}
		c.conn.Note(transcript.Error, err.Error())
		c.exchanges = append(c.exchanges, Exchange{Step: "starttls", Err: err})
		return err
	}
	if _, err := c.do(ctx, "starttls", []int{220}, wire.Line{Text: "STARTTLS"}); err != nil {
		return err
	}
	if err := c.upgrade(ctx); err != nil {
		c.exchanges[len(c.exchanges)-1].Err = err
		return err
	}
	_, err := c.Hello(ctx, c.helo)
	return err
}

func (c *Client) upgrade(ctx context.Context) error {
	info, err := c.conn.StartTLS(ctx)
	if err != nil {
		c.failedTLS = info
		c.conn.Close()
		return err
	}
	c.caps = Caps{}
	return nil
}

// Rset aborts the current transaction (RFC 5321 §4.1.1.5).
func (c *Client) Rset(ctx context.Context) (Reply, error) {
	return c.do(ctx, "rset", []int{250}, wire.Line{Text: "RSET"})
}

// Noop asks for a 250 and nothing else (RFC 5321 §4.1.1.9).
func (c *Client) Noop(ctx context.Context) (Reply, error) {
	return c.do(ctx, "noop", []int{250}, wire.Line{Text: "NOOP"})
}

// Vrfy asks the server to verify a user or mailbox (RFC 5321 §4.1.1.6).
// 250, 251 and 252 ("cannot verify, but will accept") count as success.
func (c *Client) Vrfy(ctx context.Context, who string) (Reply, error) {
	if err := checkField("VRFY argument", who); err != nil {
		return Reply{}, c.inputErr(err)
	}
	return c.do(ctx, "vrfy", []int{250, 251, 252}, wire.Line{Text: "VRFY " + who})
}

// Quit sends QUIT, waits for 221 and closes the connection.
func (c *Client) Quit(ctx context.Context) (Reply, error) {
	r, err := c.do(ctx, "quit", []int{221}, wire.Line{Text: "QUIT"})
	c.conn.Close()
	return r, err
}
