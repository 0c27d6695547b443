package lab

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailboxFullRoom is how much quota chris@lab.test has left in the
// mailbox-full scenario.
const mailboxFullRoom = 1024

// smtpBackend creates sessions for one SMTP endpoint role.
type smtpBackend struct {
	l    *Lab
	kind string // epSMTP, epSubmission or epSMTPS
}

// NewSession is called by go-smtp on HELO/EHLO, so it is where a bad HELO
// name is refused.
func (b *smtpBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	sc := b.l.scenarioOf(c.Conn())
	if sc == BadHelo && !validHelo(c.Hostname()) {
		return nil, &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 5, 4}, Message: "Invalid domain name"}
	}
	ip := "unknown"
	if ta, ok := c.Conn().RemoteAddr().(*net.TCPAddr); ok {
		ip = ta.IP.String()
	}
	return &smtpSession{b: b, c: c, scenario: sc, ip: ip}, nil
}

// validHelo accepts what a sensible MTA would announce: a fully-qualified
// domain name (RFC 5321 section 4.1.1.1) or an address literal in
// brackets. Bare words such as "localhost" and bare IP addresses fail.
func validHelo(name string) bool {
	if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
		inner := strings.TrimPrefix(name[1:len(name)-1], "IPv6:")
		return net.ParseIP(inner) != nil
	}
	name = strings.TrimSuffix(name, ".")
	if net.ParseIP(name) != nil || !strings.Contains(name, ".") || len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// smtpSession is one SMTP transaction context.
type smtpSession struct {
	b        *smtpBackend
	c        *smtp.Conn
	scenario string
	ip       string
	authed   string

	from    string
	rcpts   []*account
	relayed int
}

func smtpErr(code int, ec smtp.EnhancedCode, format string, args ...any) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: ec, Message: fmt.Sprintf(format, args...)}
}

func (s *smtpSession) isTLS() bool {
	_, ok := s.c.TLSConnectionState()
	return ok
}

func (s *smtpSession) Reset() {
	s.from, s.rcpts, s.relayed = "", nil, 0
}

func (s *smtpSession) Logout() error { return nil }

// AuthMechanisms lists PLAIN and LOGIN; go-smtp offers them only over TLS.
func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain, sasl.Login} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if s.scenario == AuthFailed {
			return smtp.ErrAuthFailed
		}
		a := s.b.l.store.check(user, pass)
		if a == nil {
			return smtp.ErrAuthFailed
		}
		s.authed = a.Login
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, pass string) error {
			if identity != "" && identity != user {
				return smtp.ErrAuthFailed
			}
			return check(user, pass)
		}), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// loginServer is the server side of the LOGIN mechanism
// (draft-murchison-sasl-login), which go-sasl only has a client for.
type loginServer struct {
	step  int
	user  string
	check func(user, pass string) error
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		if resp == nil {
			l.step = 1
			return []byte("Username:"), false, nil
		}
		l.user, l.step = string(resp), 2
		return []byte("Password:"), false, nil
	case 1:
		l.user, l.step = string(resp), 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.check(l.user, string(resp))
	}
	return nil, true, errors.New("lab: unexpected LOGIN step")
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.b.kind == epSMTP {
		if s.scenario == StartTLSRequired && !s.isTLS() {
			return smtpErr(530, smtp.EnhancedCode{5, 7, 0}, "Must issue a STARTTLS command first")
		}
		if s.scenario == AnonymousRejected && s.authed == "" {
			return smtpErr(530, smtp.EnhancedCode{5, 7, 1}, "Client was not authenticated")
		}
	} else {
		// Submission: STARTTLS, then AUTH (RFC 6409 section 4.3, RFC 8314).
		if !s.isTLS() {
			return smtpErr(530, smtp.EnhancedCode{5, 7, 0}, "Must issue a STARTTLS command first")
		}
		if s.authed == "" {
			return smtpErr(530, smtp.EnhancedCode{5, 7, 0}, "Authentication required")
		}
	}
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.b.kind == epSMTP && s.scenario == Blocklisted {
		return smtpErr(554, smtp.EnhancedCode{5, 7, 1},
			"Service unavailable; Client host [%s] blocked using bl.lab.test; see http://bl.lab.test/query/%s", s.ip, s.ip)
	}
	local, domain, ok := strings.Cut(to, "@")
	if !ok || !strings.EqualFold(domain, Domain) {
		if s.scenario == RelayDenied || s.authed == "" {
			return smtpErr(554, smtp.EnhancedCode{5, 7, 1}, "<%s>: Relay access denied", to)
		}
		// An authenticated client may relay; the lab accepts the message
		// and drops it, because it cannot reach other domains.
		s.relayed++
		return nil
	}
	a := s.b.l.store.lookup(local)
	if a == nil || s.scenario == UserUnknown {
		return smtpErr(550, smtp.EnhancedCode{5, 1, 1}, "<%s>: Recipient address rejected: User unknown in virtual mailbox table", to)
	}
	if s.b.kind == epSMTP && s.scenario == Greylisted {
		if wait := s.b.l.grey.check(s.ip, s.from, to, s.b.l.cfg.GreylistDelay); wait > 0 {
			return smtpErr(451, smtp.EnhancedCode{4, 7, 1}, "<%s>: Recipient address rejected: Greylisted, try again in %d seconds",
				to, int((wait+time.Second-1)/time.Second))
		}
	}
	if s.scenario == MailboxFull && a.Login == "kate" {
		return smtpErr(452, smtp.EnhancedCode{4, 2, 2}, "<%s>: Mailbox full: quota exceeded, try again later", to)
	}
	s.rcpts = append(s.rcpts, a)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	if s.scenario == DisconnectMidData {
		// Wait for the first line of content so the client is really in
		// the middle of DATA, then drop the TCP connection without a reply.
		// Byte by byte: go-smtp's data reader fills whole buffers, so a
		// buffered read would wait for far more than one line.
		var b [1]byte
		for {
			if n, err := r.Read(b[:]); err != nil || (n == 1 && b[0] == '\n') {
				break
			}
		}
		rawConn(s.c.Conn()).Close()
		return errors.New("lab: connection dropped during DATA")
	}
	body, err := io.ReadAll(r)
	if err != nil {
		// go-smtp's size limit (552 5.3.4) arrives here as an *SMTPError.
		return err
	}
	if s.b.kind == epSMTP && s.scenario == SPFFail {
		domain := "the sender's domain"
		if _, d, ok := strings.Cut(s.from, "@"); ok {
			domain = d
		}
		return smtpErr(550, smtp.EnhancedCode{5, 7, 23}, "SPF check failed: %s is not allowed to send mail for %s", s.ip, domain)
	}
	if s.scenario == MailboxFull && len(body) > mailboxFullRoom {
		for _, a := range s.rcpts {
			if a.Login == "chris" {
				return smtpErr(552, smtp.EnhancedCode{5, 2, 2}, "<%s>: Mailbox full: message exceeds the remaining quota", a.Address)
			}
		}
	}
	msg := s.trace(body)
	for _, a := range s.rcpts {
		if err := a.deliver(msg); err != nil {
			s.b.l.log.Printf("%v", err)
			return smtpErr(451, smtp.EnhancedCode{4, 3, 0}, "Temporary local problem, try again later")
		}
	}
	return nil
}

// trace prepends Return-Path and Received header fields, as a final
// delivery MTA does (RFC 5321 section 4.4).
func (s *smtpSession) trace(body []byte) []byte {
	with := "ESMTP"
	if s.isTLS() {
		with += "S"
	}
	if s.authed != "" {
		with += "A"
	}
	host := "mx1.lab.test"
	if s.b.kind != epSMTP {
		host = "mail.lab.test"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "Return-Path: <%s>\r\n", s.from)
	fmt.Fprintf(&b, "Received: from %s ([%s])\r\n\tby %s (mailflow lab) with %s;\r\n\t%s\r\n",
		sanitize(s.c.Hostname()), s.ip, host, with, time.Now().Format(time.RFC1123Z))
	b.Write(body)
	return b.Bytes()
}

// sanitize keeps a client-chosen HELO name from breaking the header.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e || r == '(' || r == ')' {
			return '?'
		}
		return r
	}, s)
}

// greylist remembers when each (IP, sender, recipient) triplet was first
// seen.
type greylist struct {
	mu    sync.Mutex
	first map[[3]string]time.Time
}

// check returns how much longer the triplet must wait; zero means pass.
func (g *greylist) check(ip, from, to string, delay time.Duration) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.first == nil {
		g.first = make(map[[3]string]time.Time)
	}
	key := [3]string{ip, strings.ToLower(from), strings.ToLower(to)}
	now := time.Now()
	t, ok := g.first[key]
	if !ok {
		g.first[key] = now
		return delay
	}
	if wait := delay - now.Sub(t); wait > 0 {
		return wait
	}
	return 0
}

func (g *greylist) reset() {
	g.mu.Lock()
	g.first = nil
	g.mu.Unlock()
}
