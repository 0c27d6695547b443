package wire

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailflow/mailflow/session/transcript"
)

// TLSMode says how a connection gets TLS.
type TLSMode string

// TLS modes. StartTLS is performed by the protocol client after the
// greeting; wire only needs to know about Implicit at dial time.
const (
	TLSNone     TLSMode = "none"
	TLSStartTLS TLSMode = "starttls"
	TLSImplicit TLSMode = "implicit"
)

// ParseTLSMode accepts "none", "starttls" and "implicit" (and "" as none).
func ParseTLSMode(s string) (TLSMode, error) {
	switch strings.ToLower(s) {
	case "", "none", "plain":
		return TLSNone, nil
	case "starttls", "stls":
		return TLSStartTLS, nil
	case "implicit", "tls", "ssl":
		return TLSImplicit, nil
	}
	return "", fmt.Errorf("unknown TLS mode %q (want none, starttls or implicit)", s)
}

// ContextDialer dials a connection; *net.Dialer and golang.org/x/net/proxy
// SOCKS5 dialers satisfy it.
type ContextDialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// Options configures Dial.
type Options struct {
	// Proto names the protocol for the transcript: "smtp", "pop3", "imap".
	Proto string
	// Transcript receives every line; nil means a private store.
	Transcript *transcript.Store
	// Limits bounds sizes and times.
	Limits Limits
	// TLS is TLSImplicit to start TLS before the first byte; other values
	// dial in the clear.
	TLS TLSMode
	// TLSOptions configures verification.
	TLSOptions TLSOptions
	// Network is "tcp" (default), "tcp4" or "tcp6".
	Network string
	// Dialer replaces the default net.Dialer (for SOCKS5).
	Dialer ContextDialer
}

// Conn is a line-oriented, recorded connection. A Conn is driven by one
// goroutine at a time; Close and context cancellation may come from any.
type Conn struct {
	proto   string
	ts      *transcript.Store
	limits  Limits
	tlsOpts TLSOptions
	host    string // host part of the dialled address, for SNI

	nc        net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	tlsInfo   *TLSInfo
	step      string
	stepEnd   time.Time
	sessEnd   time.Time
	sentAt    time.Time
	connected time.Time
	armed     time.Time // the socket deadline last set
	received  int64     // bytes read by ReadLine so far

	stepLines int   // server lines recorded in this step
	skipLines int   // server lines not recorded in this step (over MaxRecordLines)
	skipBytes int64 // their bytes

	ncMu sync.Mutex // guards nc against Close from another goroutine during a TLS upgrade

	busy        atomic.Bool // an operation is in progress (see guard)
	watchMu     sync.Mutex
	watchDone   <-chan struct{} // the Done channel being watched
	watchStop   func() bool
	watchClosed bool
	closeOnce   sync.Once
	closeErr    error
	abortMu     sync.Mutex
	abortErr    error
}

// Dial connects to addr ("host:port", "[::1]:25") within the connect
// timeout, starts TLS first when opts.TLS is TLSImplicit, and records the
// outcome in the transcript.
func Dial(ctx context.Context, addr string, opts Options) (*Conn, error) {
	lim := opts.Limits.withDefaults(opts.Proto)
	ts := opts.Transcript
	if ts == nil {
		ts = transcript.NewStore()
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		ts.Notef(transcript.Error, "tcp", "connect", "bad address "+addr+": "+err.Error())
		return nil, &InputError{Msg: fmt.Sprintf("%s: bad address %q: %v", opts.Proto, addr, err)}
	}
	network := opts.Network
	if network == "" {
		network = "tcp"
	}
	var d ContextDialer = &net.Dialer{}
	if opts.Dialer != nil {
		d = opts.Dialer
	}
	ts.Notef(transcript.Info, "tcp", "connect", "connecting to "+addr+" ("+network+")")
	dctx, cancel := context.WithTimeout(ctx, lim.ConnectTimeout)
	defer cancel()
	start := time.Now()
	nc, err := d.DialContext(dctx, network, addr)
	if err != nil {
		if dctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			err = &TimeoutError{Which: "connect", Limit: lim.ConnectTimeout, Step: "connect", Wait: "TCP connection"}
		}
		kind := Classify(err)
		ts.Notef(transcript.Error, "tcp", "connect", fmt.Sprintf("connect to %s failed (%s): %v", addr, kind, err))
		return nil, fmt.Errorf("%s: connect %s: %w", opts.Proto, addr, err)
	}
	nc = quickAck(nc)
	c := &Conn{
		proto:     opts.Proto,
		ts:        ts,
		limits:    lim,
		tlsOpts:   opts.TLSOptions,
		host:      host,
		nc:        nc,
		connected: time.Now(),
		sessEnd:   time.Now().Add(lim.SessionTimeout),
		step:      "connect",
	}
	c.br = bufio.NewReaderSize(nc, 4096)
	c.bw = bufio.NewWriter(nc)
	ts.Notef(transcript.Info, "tcp", "connect", fmt.Sprintf("connected to %s from %s in %s",
		nc.RemoteAddr(), nc.LocalAddr(), time.Since(start).Round(time.Millisecond)))
	if opts.TLS == TLSImplicit {
		if _, err := c.handshake(ctx, "connect"); err != nil {
			c.Close()
			return nil, err
		}
	}
	c.sentAt = time.Now() // the greeting's RTT counts from here
	return c, nil
}

// Transcript returns the store the connection records into.
func (c *Conn) Transcript() *transcript.Store { return c.ts }

// Proto returns the protocol name given to Dial.
func (c *Conn) Proto() string { return c.proto }

// Limits returns the limits in force, defaults filled in.
func (c *Conn) Limits() Limits { return c.limits }

// TLS returns the TLS facts, or nil before TLS.
func (c *Conn) TLS() *TLSInfo { return c.tlsInfo }

// Secure reports whether the connection is inside TLS.
func (c *Conn) Secure() bool { return c.tlsInfo != nil }

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// Step returns the current step name.
func (c *Conn) Step() string { return c.step }

// BeginStep names the step that the next lines belong to and starts its
// timer: the step must finish within the step timeout.
func (c *Conn) BeginStep(name string) {
	c.flushSkipped()
	c.stepLines = 0
	c.step = name
	c.stepEnd = time.Now().Add(c.limits.StepTimeout)
}

// deadline is the earliest of the step, session and context deadlines.
func (c *Conn) deadline(ctx context.Context) (time.Time, string) {
	d, which := c.sessEnd, "session"
	if !c.stepEnd.IsZero() && c.stepEnd.Before(d) {
		d, which = c.stepEnd, "step"
	}
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		d, which = cd, "context"
	}
	return d, which
}

// guard arms the socket deadline and makes sure that ctx ending while
// the operation runs closes the socket at once. The caller must defer
// c.idle().
//
// The context watch is registered once per context, not per line: a
// POP3 RETR of many lines would otherwise pay for one context.AfterFunc
// per line. Because the watch outlives the operation, it only closes the
// socket while an operation is in progress (busy); a caller that cancels
// its context after a successful step (defer cancel()) leaves the
// connection open, and the next operation with that context fails at the
// ctx.Err() check below.
func (c *Conn) guard(ctx context.Context) (which string, err error) {
	c.busy.Store(true)
	if err := ctx.Err(); err != nil {
		c.busy.Store(false)
		c.abort(err)
		return "", fmt.Errorf("%s: %w", c.proto, err)
	}
	if err := c.aborted(); err != nil {
		c.busy.Store(false)
		return "", err
	}
	d, which := c.deadline(ctx)
	// The deadline is fixed for a whole step, so most lines need no
	// syscall-adjacent work here.
	if !d.Equal(c.armed) {
		_ = c.nc.SetDeadline(d)
		c.armed = d
	}
	c.watch(ctx)
	return which, nil
}

// watch registers, once per context, a callback that closes the socket
// when ctx ends during an operation.
func (c *Conn) watch(ctx context.Context) {
	done := ctx.Done()
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if done == c.watchDone || c.watchClosed {
		return
	}
	if c.watchStop != nil {
		c.watchStop()
	}
	c.watchDone, c.watchStop = done, nil
	if done != nil {
		c.watchStop = context.AfterFunc(ctx, func() {
			if c.busy.Load() {
				c.abort(context.Cause(ctx))
			}
		})
	}
}

// idle ends an operation started with guard.
func (c *Conn) idle() { c.busy.Store(false) }

// wrapErr turns a socket error into a specific one.
func (c *Conn) wrapErr(ctx context.Context, err error, which, wait string) error {
	c.flushSkipped()
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %s cancelled: %w", c.proto, stepName(c.step), context.Cause(ctx))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		lim := c.limits.StepTimeout
		switch which {
		case "session":
			lim = c.limits.SessionTimeout
		case "context":
			lim = 0
		}
		te := &TimeoutError{Which: which, Limit: lim, Step: c.step, Wait: wait}
		if strings.Contains(wait, "greeting") && !c.Secure() && c.received == 0 {
			te.Hint = silentGreetingHint
		}
		c.ts.Notef(transcript.Error, c.proto, c.step, te.Error())
		return fmt.Errorf("%s: %w", c.proto, te)
	}
	if errors.Is(err, io.EOF) {
		c.ts.Notef(transcript.Error, c.proto, c.step, "the server closed the connection while mailflow waited for the "+wait)
		return fmt.Errorf("%s: connection closed by server during %s: %w", c.proto, stepName(c.step), io.ErrUnexpectedEOF)
	}
	c.ts.Notef(transcript.Error, c.proto, c.step, fmt.Sprintf("%s failed (%s): %v", wait, Classify(err), err))
	return fmt.Errorf("%s: %s during %s: %w", c.proto, wait, stepName(c.step), err)
}

// Line is one line for WriteLines.
type Line struct {
	// Text is sent as is, followed by CRLF.
	Text string
	// Record, when non-empty, is written to the transcript instead of
	// Text: the redacted form of a line that carries a secret.
	Record string
	// Annotation is shown beside the line (e.g. the decoded base64).
	Annotation string
	// AllowEmpty permits an empty line (a blank line in DATA).
	AllowEmpty bool
	// Step, when set, is recorded as the line's step instead of the
	// connection's current one: a pipelined batch (RFC 2920) carries MAIL,
	// RCPT and DATA in one write, each belonging to its own step.
	Step string
}

// CheckLine refuses CR, LF and NUL inside a line: they would split one
// command into two on the wire (command injection, SMTP smuggling).
func CheckLine(s string) error {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\r', '\n', 0:
			name := map[byte]string{'\r': "carriage return (CR)", '\n': "line feed (LF)", 0: "NUL byte"}[s[i]]
			return &InputError{Msg: fmt.Sprintf("refused to send: %s at position %d; a line must not contain CR, LF or NUL", name, i+1)}
		}
	}
	return nil
}

// WriteLine sends one line.
func (c *Conn) WriteLine(ctx context.Context, l Line) error { return c.WriteLines(ctx, l) }

// WriteLines checks every line, then sends them in one write (pipelining,
// RFC 2920) and records each. Nothing is sent when any line is refused.
func (c *Conn) WriteLines(ctx context.Context, lines ...Line) error {
	for _, l := range lines {
		if err := CheckLine(l.Text); err != nil {
			c.ts.Notef(transcript.Error, c.proto, c.step, err.Error())
			return fmt.Errorf("%s: %w", c.proto, err)
		}
	}
	which, err := c.guard(ctx)
	if err != nil {
		return err
	}
	defer c.idle()
	for _, l := range lines {
		c.bw.WriteString(l.Text)
		c.bw.WriteString("\r\n")
	}
	err = c.bw.Flush()
	c.sentAt = time.Now()
	for _, l := range lines {
		e := transcript.Entry{Dir: transcript.Client, Proto: c.proto, Step: c.step, Secure: c.Secure(), Annotation: l.Annotation}
		if l.Step != "" {
			e.Step = l.Step
		}
		if l.Record != "" {
			e.Raw, e.Redacted = []byte(l.Record), true
		} else {
			e.Raw = []byte(l.Text)
		}
		c.ts.Append(e)
	}
	if err != nil {
		return c.wrapErr(ctx, err, which, "write")
	}
	return nil
}

// ReadLine reads one line within the step's deadline and the line limit,
// and returns it without its terminator. It does not record the line: the
// protocol client records it with its parsed meaning (RecordServer). When
// the connection fails mid-line, what arrived is recorded as a partial
// entry so that the transcript keeps it.
func (c *Conn) ReadLine(ctx context.Context, wait string) ([]byte, error) {
	which, err := c.guard(ctx)
	if err != nil {
		return nil, err
	}
	defer c.idle()
	var line []byte
	for {
		frag, err := c.br.ReadSlice('\n')
		c.received += int64(len(frag))
		if len(line)+len(frag) > c.limits.MaxLine {
			// Keep the first 512 bytes for the transcript. Appending the
			// whole fragment first would grow line past the limit (one
			// more doubling) just to cut it again.
			keep := make([]byte, 0, 512)
			keep = append(keep, line[:min(len(line), 512)]...)
			keep = append(keep, frag[:min(len(frag), 512-len(keep))]...)
			c.ts.Append(transcript.Entry{Dir: transcript.Server, Proto: c.proto, Step: c.step, Raw: keep, Secure: c.Secure(), Partial: true,
				Annotation: fmt.Sprintf("line cut off here: longer than the %d-byte limit", c.limits.MaxLine)})
			c.flushSkipped()
			le := &LimitError{Limit: "line length", Max: int64(c.limits.MaxLine), Step: c.step}
			c.ts.Notef(transcript.Error, c.proto, c.step, le.Error())
			c.abort(le)
			return nil, fmt.Errorf("%s: %w", c.proto, le)
		}
		if need := len(line) + len(frag); need > cap(line) {
			// Grow by doubling, capped at the limit, so that a line of
			// MaxLine bytes costs at most about twice MaxLine; append's own
			// growth (1.25x for large slices) would allocate about five
			// times MaxLine on the way up.
			grown := make([]byte, len(line), min(max(2*cap(line), need), c.limits.MaxLine))
			copy(grown, line)
			line = grown
		}
		line = append(line, frag...)
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if len(line) > 0 {
			c.ts.Append(transcript.Entry{Dir: transcript.Server, Proto: c.proto, Step: c.step, Raw: line, Secure: c.Secure(), Partial: true})
		}
		return nil, c.wrapErr(ctx, err, which, wait)
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// ReadFull reads exactly n bytes of message data (an IMAP literal),
// refusing at once when n is above MaxData, before reading anything. On a
// failure mid-way it returns the bytes that did arrive with the error.
func (c *Conn) ReadFull(ctx context.Context, n int64, wait string) ([]byte, error) {
	if n > c.limits.MaxData || n < 0 {
		le := &LimitError{Limit: "message data", Max: c.limits.MaxData, Step: c.step}
		c.ts.Notef(transcript.Error, c.proto, c.step, fmt.Sprintf("server announced %d bytes: %v", n, le))
		c.abort(le)
		return nil, fmt.Errorf("%s: %w", c.proto, le)
	}
	which, err := c.guard(ctx)
	if err != nil {
		return nil, err
	}
	defer c.idle()
	buf := make([]byte, n)
	if got, err := io.ReadFull(c.br, buf); err != nil {
		// Return what did arrive, so that the caller can keep it in the
		// transcript.
		return buf[:got], c.wrapErr(ctx, err, which, wait)
	}
	return buf, nil
}

// RecordServer appends a server line. A non-nil reply marks the last line
// of a complete reply; its RTT is measured from the last write (or from
// the connection, for a greeting).
//
// At most Limits.MaxRecordLines lines are recorded per step; the lines
// beyond that are counted and summed up in one note when the reply
// completes (the completing line itself is always recorded), so that a
// server cannot make the transcript grow without bound.
func (c *Conn) RecordServer(line []byte, reply *transcript.Reply, annotation string) transcript.Entry {
	e := transcript.Entry{Dir: transcript.Server, Proto: c.proto, Step: c.step, Raw: line, Secure: c.Secure(), Annotation: annotation, Reply: reply}
	if reply == nil && c.stepLines >= c.limits.MaxRecordLines {
		c.skipLines++
		c.skipBytes += int64(len(line)) + 2
		return e
	}
	if reply != nil {
		e.RTT = time.Since(c.sentAt)
		c.flushSkipped()
	}
	c.stepLines++
	return c.ts.Append(e)
}

// flushSkipped records a note for the lines RecordServer left out.
func (c *Conn) flushSkipped() {
	if c.skipLines == 0 {
		return
	}
	c.ts.Notef(transcript.Info, c.proto, c.step, fmt.Sprintf("%d more server lines (%d bytes) received but not recorded: the transcript keeps at most %d lines per step",
		c.skipLines, c.skipBytes, c.limits.MaxRecordLines))
	c.skipLines, c.skipBytes = 0, 0
}

// Note appends a note about this connection.
func (c *Conn) Note(level transcript.Level, text string) {
	c.ts.Notef(level, c.proto, c.step, text)
}

// StartTLS upgrades the connection in place after the server agreed
// (220 to STARTTLS, +OK to STLS, OK to STARTTLS). Bytes the server sent
// after its reply but before the handshake are refused: they would be
// read as if they came over TLS (the STARTTLS command injection flaw,
// CVE-2011-0411 and RFC 3207 §4.2).
func (c *Conn) StartTLS(ctx context.Context) (*TLSInfo, error) {
	if c.Secure() {
		return nil, &ProtocolError{Proto: c.proto, Step: c.step, Msg: "TLS is already active"}
	}
	if n := c.br.Buffered(); n > 0 {
		pe := &ProtocolError{Proto: c.proto, Step: c.step, Msg: fmt.Sprintf("server sent %d bytes after agreeing to start TLS and before the handshake; refusing to continue", n)}
		c.ts.Notef(transcript.Error, c.proto, c.step, pe.Msg)
		c.abort(pe)
		return nil, pe
	}
	return c.handshake(ctx, c.step)
}

func (c *Conn) handshake(ctx context.Context, step string) (*TLSInfo, error) {
	name := c.tlsOpts.ServerName
	if name == "" {
		name = c.host
	}
	info := &TLSInfo{}
	cfg, err := c.tlsOpts.clientConfig(name, info)
	if err != nil {
		c.ts.Notef(transcript.Error, "tls", step, err.Error())
		return nil, &InputError{Msg: fmt.Sprintf("%s: %v", c.proto, err)}
	}
	hctx, cancel := context.WithTimeout(ctx, c.limits.ConnectTimeout)
	defer cancel()
	tc := tls.Client(c.nc, cfg)
	c.ts.Notef(transcript.Info, "tls", step, "starting TLS handshake with "+name)
	if err := tc.HandshakeContext(hctx); err != nil {
		var ve *VerifyError
		switch {
		case errors.As(err, &ve):
			c.ts.Notef(transcript.Error, "tls", step, info.Summary()+": "+ve.Err.Error())
		case hctx.Err() == context.DeadlineExceeded && ctx.Err() == nil:
			err = &TimeoutError{Which: "connect", Limit: c.limits.ConnectTimeout, Step: step, Wait: "TLS handshake"}
			c.ts.Notef(transcript.Error, "tls", step, err.Error())
		default:
			c.ts.Notef(transcript.Error, "tls", step, fmt.Sprintf("TLS handshake failed: %v", err))
		}
		c.abort(err)
		return info, fmt.Errorf("%s: TLS handshake with %s: %w", c.proto, name, err)
	}
	c.ncMu.Lock()
	c.nc = tc
	c.ncMu.Unlock()
	c.armed = time.Time{}
	c.br = bufio.NewReaderSize(tc, 4096)
	c.bw = bufio.NewWriter(tc)
	c.tlsInfo = info
	level := transcript.Info
	if info.Insecure {
		level = transcript.Warning
	}
	c.ts.Append(transcript.Entry{Dir: transcript.Note, Level: level, Proto: "tls", Step: step, Secure: true, Raw: []byte(info.Summary())})
	return info, nil
}

// abort closes the socket once, remembering why.
func (c *Conn) abort(err error) {
	c.abortMu.Lock()
	if c.abortErr == nil {
		c.abortErr = err
	}
	c.abortMu.Unlock()
	c.Close()
}

func (c *Conn) aborted() error {
	c.abortMu.Lock()
	defer c.abortMu.Unlock()
	if c.abortErr != nil {
		return fmt.Errorf("%s: connection already closed: %w", c.proto, c.abortErr)
	}
	return nil
}

// Close closes the socket. It is safe to call more than once and from
// any goroutine.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.watchMu.Lock()
		if c.watchStop != nil {
			c.watchStop()
		}
		c.watchClosed = true
		c.watchMu.Unlock()
		c.ncMu.Lock()
		c.closeErr = c.nc.Close()
		c.ncMu.Unlock()
		c.abortMu.Lock()
		if c.abortErr == nil {
			c.abortErr = net.ErrClosed
		}
		c.abortMu.Unlock()
	})
	return c.closeErr
}
