package pop3d

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Message is one message in a maildrop.
type Message struct {
	// UID is the unique-id listing UIDL shows (RFC 1939 section 7): 1 to
	// 70 characters in the range 0x21 to 0x7E, stable across sessions.
	UID string
	// Data is the whole message. Line endings may be LF or CRLF; the
	// server sends CRLF and computes sizes on that form.
	Data []byte
}

// Maildrop is a locked mailbox, handed out by Backend.Login.
type Maildrop interface {
	// Messages returns the messages present when the maildrop was
	// locked; the list must not change during the session.
	Messages() []Message
	// Commit removes the messages with the given UIDs. It is called only
	// when the client sends QUIT in the TRANSACTION state (the UPDATE
	// state of RFC 1939 section 6).
	Commit(deleted []string) error
	// Close releases the lock. It is called exactly once, at the end of
	// every session that obtained the maildrop.
	Close() error
}

// Backend authenticates users and opens their maildrops.
type Backend interface {
	// Login checks the credentials and locks the maildrop. conn is the
	// client connection (after any TLS), so that a backend can vary
	// behaviour per connection. Errors of type *Error are sent with their
	// response code; any other error is reported as [SYS/TEMP].
	Login(conn net.Conn, user, pass string) (Maildrop, error)
}

// Error is a negative reply with an optional RFC 2449 response code.
type Error struct {
	// Code is the response code without brackets, e.g. "AUTH" or
	// "IN-USE"; empty for none.
	Code string
	// Text is the human-readable rest of the reply.
	Text string
}

// Error returns the reply text as it appears on the wire after "-ERR ".
func (e *Error) Error() string {
	if e.Code == "" {
		return e.Text
	}
	return "[" + e.Code + "] " + e.Text
}

// Errors a Backend can return from Login.
var (
	// ErrAuthFailed reports wrong credentials (RFC 3206 section 4).
	ErrAuthFailed = &Error{Code: "AUTH", Text: "Authentication failed."}
	// ErrInUse reports a maildrop locked by another session (RFC 2449
	// section 8.1.1).
	ErrInUse = &Error{Code: "IN-USE", Text: "Mailbox is locked by another POP3 session."}
)

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("pop3d: server closed")

// maxLine bounds a command line. RFC 2449 section 4 allows 255 octets;
// the extra room tolerates long passwords without allowing abuse.
const maxLine = 1024

// maxAuthFailures is how many failed logins a connection gets before the
// server hangs up, which slows down password guessing.
const maxAuthFailures = 3

// Logger receives server errors that have no client to go to.
type Logger interface {
	Printf(format string, args ...any)
}

// Server is a POP3 server. Set the fields before calling Serve.
type Server struct {
	// Backend authenticates users; required.
	Backend Backend
	// TLSConfig enables STLS when non-nil.
	TLSConfig *tls.Config
	// Greeting follows "+OK " in the banner; "POP3 server ready." if empty.
	Greeting string
	// AllowInsecureAuth permits USER/PASS before TLS.
	AllowInsecureAuth bool
	// Implementation is advertised in the CAPA IMPLEMENTATION line.
	Implementation string
	// ReadTimeout bounds the wait for each command; RFC 1939 section 3
	// asks for at least 10 minutes, which is the default.
	ReadTimeout time.Duration
	// WriteTimeout bounds each reply; one minute if zero.
	WriteTimeout time.Duration
	// ErrorLog receives errors; nil discards them.
	ErrorLog Logger

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	closed    bool
	wg        sync.WaitGroup
}

// Serve accepts connections on l until l fails or Close is called. It
// returns ErrServerClosed after Close.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	if s.listeners == nil {
		s.listeners = make(map[net.Listener]struct{})
		s.conns = make(map[net.Conn]struct{})
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	for {
		nc, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			return fmt.Errorf("pop3d: accept: %w", err)
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return ErrServerClosed
		}
		s.conns[nc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c := &conn{s: s, nc: nc}
			c.serve()
			s.mu.Lock()
			delete(s.conns, nc)
			s.mu.Unlock()
		}()
	}
}

// Close stops every listener, drops every connection (without committing
// deletions) and waits for the session goroutines to finish.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.closed = true
	var err error
	for l := range s.listeners {
		if e := l.Close(); e != nil && err == nil {
			err = e
		}
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("pop3d: close: %w", err)
	}
	return nil
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
	}
}

// states of RFC 1939 section 3.
const (
	stateAuthorization = iota
	stateTransaction
)

// conn is one client session.
type conn struct {
	s     *Server
	nc    net.Conn // the raw connection; the current one is cur
	cur   net.Conn
	r     *bufio.Reader
	w     *bufio.Writer
	isTLS bool

	state    int
	user     string
	failures int
	drop     Maildrop
	msgs     []Message
	deleted  []bool
}

var errLineTooLong = errors.New("line too long")

func (c *conn) serve() {
	c.cur = c.nc
	if _, ok := c.nc.(*tls.Conn); ok {
		c.isTLS = true
	}
	c.setIO()
	defer func() {
		if c.drop != nil {
			if err := c.drop.Close(); err != nil {
				c.s.logf("pop3d: release maildrop of %s: %v", c.user, err)
			}
		}
		c.cur.Close()
	}()
	if tc, ok := c.cur.(*tls.Conn); ok {
		c.deadline()
		if err := tc.Handshake(); err != nil {
			return
		}
	}
	greeting := c.s.Greeting
	if greeting == "" {
		greeting = "POP3 server ready."
	}
	if c.reply("+OK "+greeting) != nil {
		return
	}
	for {
		if d := c.readTimeout(); d > 0 {
			c.cur.SetReadDeadline(time.Now().Add(d))
		}
		line, err := c.readLine()
		if errors.Is(err, errLineTooLong) {
			if c.reply("-ERR Line too long.") != nil {
				return
			}
			continue
		}
		if err != nil {
			return
		}
		quit, err := c.handle(line)
		if err != nil || quit {
			return
		}
	}
}

func (c *conn) setIO() {
	c.r = bufio.NewReaderSize(c.cur, 4096)
	c.w = bufio.NewWriterSize(c.cur, 4096)
}

func (c *conn) readTimeout() time.Duration {
	if c.s.ReadTimeout > 0 {
		return c.s.ReadTimeout
	}
	return 10 * time.Minute
}

func (c *conn) deadline() {
	d := c.s.WriteTimeout
	if d <= 0 {
		d = time.Minute
	}
	c.cur.SetWriteDeadline(time.Now().Add(d))
}

// readLine reads one command line without its line ending. An over-long
// line is consumed up to its end and reported as errLineTooLong, so the
// session can continue with the next command.
func (c *conn) readLine() (string, error) {
	var buf []byte
	tooLong := false
	for {
		chunk, err := c.r.ReadSlice('\n')
		if !tooLong {
			buf = append(buf, chunk...)
			if len(buf) > maxLine {
				tooLong, buf = true, nil
			}
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return "", err
	}
	if tooLong {
		return "", errLineTooLong
	}
	return strings.TrimRight(string(buf), "\r\n"), nil
}

// reply writes one line and flushes it.
func (c *conn) reply(line string) error {
	c.deadline()
	c.w.WriteString(line)
	c.w.WriteString("\r\n")
	return c.w.Flush()
}

func (c *conn) authAllowed() bool { return c.isTLS || c.s.AllowInsecureAuth }

// handle runs one command. quit is true when the session is over.
func (c *conn) handle(line string) (quit bool, err error) {
	verb, arg, _ := strings.Cut(line, " ")
	verb = strings.ToUpper(verb)
	switch verb {
	case "CAPA":
		return false, c.capa()
	case "QUIT":
		return true, c.quit()
	case "NOOP":
		if c.state != stateTransaction {
			return false, c.reply("-ERR NOOP is only valid after login.")
		}
		return false, c.reply("+OK")
	}
	if c.state == stateAuthorization {
		switch verb {
		case "STLS":
			return c.stls()
		case "USER":
			return c.userCmd(arg)
		case "PASS":
			return c.pass(arg)
		case "APOP", "AUTH":
			return false, c.reply("-ERR " + verb + " is not supported; use USER and PASS.")
		case "STAT", "LIST", "UIDL", "RETR", "TOP", "DELE", "RSET":
			return false, c.reply("-ERR Not logged in.")
		}
		return false, c.reply("-ERR Unknown command.")
	}
	switch verb {
	case "STAT":
		n, size := c.stat()
		return false, c.reply(fmt.Sprintf("+OK %d %d", n, size))
	case "LIST":
		return false, c.list(arg, false)
	case "UIDL":
		return false, c.list(arg, true)
	case "RETR":
		return false, c.retr(arg)
	case "TOP":
		return false, c.top(arg)
	case "DELE":
		return false, c.dele(arg)
	case "RSET":
		for i := range c.deleted {
			c.deleted[i] = false
		}
		n, size := c.stat()
		return false, c.reply(fmt.Sprintf("+OK Maildrop has %d messages (%d octets).", n, size))
	case "USER", "PASS", "STLS", "APOP", "AUTH":
		return false, c.reply("-ERR Already logged in.")
	}
	return false, c.reply("-ERR Unknown command.")
}

func (c *conn) capa() error {
	lines := []string{"+OK Capability list follows", "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"}
	if c.state == stateAuthorization {
		if c.authAllowed() {
			lines = append(lines, "USER")
		}
		if c.s.TLSConfig != nil && !c.isTLS {
			lines = append(lines, "STLS")
		}
	}
	if c.s.Implementation != "" {
		lines = append(lines, "IMPLEMENTATION "+c.s.Implementation)
	}
	lines = append(lines, ".")
	c.deadline()
	for _, l := range lines {
		c.w.WriteString(l)
		c.w.WriteString("\r\n")
	}
	return c.w.Flush()
}

// stls upgrades the connection (RFC 2595 section 4).
func (c *conn) stls() (bool, error) {
	if c.s.TLSConfig == nil {
		return false, c.reply("-ERR STLS is not available.")
	}
	if c.isTLS {
		return false, c.reply("-ERR Command not permitted when TLS active.")
	}
	if c.r.Buffered() > 0 {
		// Plaintext pipelined after STLS would otherwise be read as if
		// it had arrived over TLS.
		c.reply("-ERR Data after STLS; closing connection.")
		return true, nil
	}
	if err := c.reply("+OK Begin TLS negotiation now."); err != nil {
		return true, err
	}
	tc := tls.Server(c.cur, c.s.TLSConfig)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return true, fmt.Errorf("pop3d: STLS handshake: %w", err)
	}
	c.cur = tc
	c.isTLS = true
	c.user = ""
	c.setIO()
	return false, nil
}

func (c *conn) userCmd(arg string) (bool, error) {
	if !c.authAllowed() {
		return false, c.reply("-ERR [AUTH] Plaintext authentication is disallowed on non-secure connections; use STLS first.")
	}
	name := strings.TrimSpace(arg)
	if name == "" {
		return false, c.reply("-ERR USER needs a mailbox name.")
	}
	c.user = name
	return false, c.reply("+OK Send your password.")
}

func (c *conn) pass(arg string) (bool, error) {
	if !c.authAllowed() {
		return false, c.reply("-ERR [AUTH] Plaintext authentication is disallowed on non-secure connections; use STLS first.")
	}
	if c.user == "" {
		return false, c.reply("-ERR Send USER first.")
	}
	user := c.user
	c.user = ""
	drop, err := c.s.Backend.Login(c.cur, user, arg)
	if err != nil {
		var pe *Error
		if !errors.As(err, &pe) {
			c.s.logf("pop3d: login %s: %v", user, err)
			pe = &Error{Code: "SYS/TEMP", Text: "Temporary server error, try again later."}
		}
		c.failures++
		if c.failures >= maxAuthFailures {
			c.reply("-ERR " + pe.Error())
			return true, nil
		}
		return false, c.reply("-ERR " + pe.Error())
	}
	c.user = user
	c.drop = drop
	c.msgs = make([]Message, 0, len(drop.Messages()))
	for _, m := range drop.Messages() {
		c.msgs = append(c.msgs, Message{UID: m.UID, Data: crlf(m.Data)})
	}
	c.deleted = make([]bool, len(c.msgs))
	c.state = stateTransaction
	n, size := c.stat()
	return false, c.reply(fmt.Sprintf("+OK Logged in; %d messages (%d octets).", n, size))
}

func (c *conn) stat() (n int, size int) {
	for i, m := range c.msgs {
		if !c.deleted[i] {
			n++
			size += len(m.Data)
		}
	}
	return n, size
}

// msgArg parses a message number; ok is false after an error reply.
func (c *conn) msgArg(arg string) (int, bool, error) {
	n, err := strconv.Atoi(strings.TrimSpace(arg))
	if err != nil || n < 1 || n > len(c.msgs) {
		return 0, false, c.reply("-ERR No such message.")
	}
	if c.deleted[n-1] {
		return 0, false, c.reply(fmt.Sprintf("-ERR Message %d is deleted.", n))
	}
	return n, true, nil
}

func (c *conn) list(arg string, uids bool) error {
	item := func(i int) string {
		if uids {
			return fmt.Sprintf("%d %s", i+1, c.msgs[i].UID)
		}
		return fmt.Sprintf("%d %d", i+1, len(c.msgs[i].Data))
	}
	if strings.TrimSpace(arg) != "" {
		n, ok, err := c.msgArg(arg)
		if !ok {
			return err
		}
		return c.reply("+OK " + item(n-1))
	}
	n, size := c.stat()
	c.deadline()
	if uids {
		c.w.WriteString("+OK Unique-ID listing follows\r\n")
	} else {
		fmt.Fprintf(c.w, "+OK %d messages (%d octets)\r\n", n, size)
	}
	for i := range c.msgs {
		if !c.deleted[i] {
			c.w.WriteString(item(i))
			c.w.WriteString("\r\n")
		}
	}
	c.w.WriteString(".\r\n")
	return c.w.Flush()
}

func (c *conn) retr(arg string) error {
	n, ok, err := c.msgArg(arg)
	if !ok {
		return err
	}
	data := c.msgs[n-1].Data
	c.deadline()
	fmt.Fprintf(c.w, "+OK %d octets\r\n", len(data))
	writeStuffed(c.w, data, -1)
	return c.w.Flush()
}

func (c *conn) top(arg string) error {
	fields := strings.Fields(arg)
	if len(fields) != 2 {
		return c.reply("-ERR Usage: TOP msg lines.")
	}
	lines, err := strconv.Atoi(fields[1])
	if err != nil || lines < 0 {
		return c.reply("-ERR The line count must be a non-negative number.")
	}
	n, ok, rerr := c.msgArg(fields[0])
	if !ok {
		return rerr
	}
	c.deadline()
	c.w.WriteString("+OK Top of message follows\r\n")
	writeStuffed(c.w, c.msgs[n-1].Data, lines)
	return c.w.Flush()
}

func (c *conn) dele(arg string) error {
	n, ok, err := c.msgArg(arg)
	if !ok {
		return err
	}
	c.deleted[n-1] = true
	return c.reply(fmt.Sprintf("+OK Message %d deleted.", n))
}

// quit ends the session, entering the UPDATE state when logged in.
func (c *conn) quit() error {
	if c.state != stateTransaction {
		return c.reply("+OK Bye.")
	}
	var gone []string
	for i, d := range c.deleted {
		if d {
			gone = append(gone, c.msgs[i].UID)
		}
	}
	if len(gone) > 0 {
		if err := c.drop.Commit(gone); err != nil {
			c.s.logf("pop3d: commit for %s: %v", c.user, err)
			return c.reply("-ERR [SYS/PERM] Some deleted messages were not removed.")
		}
	}
	left := len(c.msgs) - len(gone)
	return c.reply(fmt.Sprintf("+OK Bye; %d messages left.", left))
}

// crlf returns data with every line ending as CRLF and a final line
// ending, the form sizes are computed on.
func crlf(data []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(data) + len(data)/40 + 2)
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		if i < 0 {
			line, data = data, nil
		} else {
			line, data = data[:i], data[i+1:]
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		out.Write(line)
		out.WriteString("\r\n")
	}
	return out.Bytes()
}

// writeStuffed writes a CRLF message as a multi-line response: lines that
// start with "." get another "." (RFC 1939 section 3), and the response
// ends with ".". bodyLines < 0 writes everything; otherwise the header, the
// blank line and that many body lines (TOP, RFC 1939 section 7).
func writeStuffed(w io.Writer, data []byte, bodyLines int) {
	inBody := false
	for len(data) > 0 {
		i := bytes.Index(data, []byte("\r\n"))
		line := data[:i]
		data = data[i+2:]
		if inBody && bodyLines >= 0 {
			if bodyLines == 0 {
				break
			}
			bodyLines--
		}
		if len(line) > 0 && line[0] == '.' {
			w.Write([]byte("."))
		}
		w.Write(line)
		w.Write([]byte("\r\n"))
		if !inBody && len(line) == 0 {
			inBody = true
		}
	}
	w.Write([]byte(".\r\n"))
}
