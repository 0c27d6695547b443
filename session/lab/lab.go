package lab

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-smtp"
	"github.com/miekg/dns"

	"github.com/mailflow/mailflow/session/lab/pop3d"
)

// Default timings. They are short because the lab is for learning, and
// because tests wait for them.
const (
	DefaultGreylistDelay = 2 * time.Second
	DefaultBannerDelay   = 3 * time.Second
)

// Size limits advertised with the SMTP SIZE extension (RFC 1870).
const (
	normalMaxMessage = 10 << 20
	smallMaxMessage  = 10240
)

// Config selects where the lab listens and how it behaves. The zero value
// is a healthy lab on free loopback ports.
type Config struct {
	// DNS is the HOST:PORT of the DNS server (UDP and TCP on the same
	// port). Every address defaults to "127.0.0.1:0", a free port.
	DNS string
	// SMTP is the MX-facing SMTP endpoint (the port-25 role).
	SMTP string
	// Submission is the message submission endpoint (the port-587 role,
	// RFC 6409): STARTTLS, then AUTH, then mail.
	Submission string
	// SMTPS is submission over implicit TLS (the port-465 role, RFC 8314).
	SMTPS string
	// POP3 is POP3 with STLS (the port-110 role).
	POP3 string
	// POP3S is POP3 over implicit TLS (the port-995 role).
	POP3S string
	// IMAP is IMAP with STARTTLS (the port-143 role).
	IMAP string
	// IMAPS is IMAP over implicit TLS (the port-993 role).
	IMAPS string

	// Scenario is the fault active at start; "healthy" if empty.
	Scenario string
	// GreylistDelay is how long a greylisted triplet must wait before a
	// retry is accepted; DefaultGreylistDelay if zero.
	GreylistDelay time.Duration
	// BannerDelay is how long slow-banner holds back the SMTP greeting;
	// DefaultBannerDelay if zero.
	BannerDelay time.Duration
	// RequireTLSForLogin refuses POP3 USER/PASS and IMAP LOGIN before TLS.
	// It is off by default so the classic plaintext (telnet) procedure
	// can be practised against the loopback-only lab.
	RequireTLSForLogin bool
	// ErrorLog receives server-side errors; nil discards them.
	ErrorLog *log.Logger
	// Users replaces the default accounts (kate and chris) when not nil;
	// load tests use it to give every POP3 session its own maildrop. An
	// empty Address becomes LOGIN@lab.test.
	Users []User
}

// MXEndpoint is one mail exchanger of lab.test and where to reach it.
// DNS can only say which host, not which port, so a client that follows
// the MX list connects to Addr instead of HOST:25.
type MXEndpoint struct {
	// Host is the exchanger's name ("lab.test" for the implicit MX).
	Host string `json:"host"`
	// Preference is the MX preference; lower is tried first.
	Preference uint16 `json:"preference"`
	// Addr is the HOST:PORT that plays this exchanger's port 25.
	Addr string `json:"addr"`
	// Implicit is true when there is no MX record and the address comes
	// from the domain's A record (RFC 5321 section 5.1).
	Implicit bool `json:"implicit,omitempty"`
}

// Endpoints lists where each lab service listens.
type Endpoints struct {
	// Scenario is the active scenario's name.
	Scenario string `json:"scenario"`
	// Domain is the mail domain, "lab.test".
	Domain string `json:"domain"`
	// DNS answers for lab.test and 127.in-addr.arpa over UDP and TCP.
	DNS string `json:"dns"`
	// SMTP is the MX-facing SMTP endpoint (STARTTLS).
	SMTP string `json:"smtp"`
	// Submission requires STARTTLS, then AUTH PLAIN or LOGIN.
	Submission string `json:"submission"`
	// SMTPS is submission over implicit TLS.
	SMTPS string `json:"smtps"`
	// POP3 offers STLS.
	POP3 string `json:"pop3"`
	// POP3S is POP3 over implicit TLS.
	POP3S string `json:"pop3s"`
	// IMAP offers STARTTLS.
	IMAP string `json:"imap"`
	// IMAPS is IMAP over implicit TLS.
	IMAPS string `json:"imaps"`
	// MX is the lab.test MX list for the active scenario, in preference
	// order, each with the address that plays its port 25. It is empty
	// for null-mx.
	MX []MXEndpoint `json:"mx"`
	// NullMX is true when lab.test publishes "MX 0 ." (RFC 7505).
	NullMX bool `json:"null_mx,omitempty"`
	// Users are the lab accounts (published fixtures).
	Users []User `json:"users"`
	// CAPEM is the lab CA certificate in PEM form.
	CAPEM string `json:"ca_pem"`
}

// Lab is a running set of local mail servers and a DNS server.
type Lab struct {
	cfg   Config
	certs *certSet
	pool  *x509.CertPool
	tls   *tls.Config
	store *store
	grey  greylist
	log   *log.Logger

	scenario atomic.Pointer[string]

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex // guards closed and the endpoints' listeners
	closed    bool
	endpoints map[string]*endpoint
	deadAddr  string

	heldMu sync.Mutex // guards held; never taken with mu held
	held   map[net.Conn]struct{}

	smtpServers []*smtp.Server
	smtpQueues  map[smtpRoute]*queue
	pop3        *pop3d.Server
	pop3Queue   *queue
	imap        *imapserver.Server
	imapQueue   *queue
	dns         *dnsServer
}

// Endpoint names, used as keys and in error messages.
const (
	epSMTP       = "smtp"
	epSubmission = "submission"
	epSMTPS      = "smtps"
	epPOP3       = "pop3"
	epPOP3S      = "pop3s"
	epIMAP       = "imap"
	epIMAPS      = "imaps"
)

// smtpRoute picks the go-smtp server for a connection: one per endpoint
// role and size limit, because go-smtp's SIZE is per server.
type smtpRoute struct {
	kind  string
	small bool
}

// Start brings up every service and returns once all of them accept
// connections. Cancelling ctx later does not stop the lab; call Close.
// ctx bounds only the start-up.
func Start(ctx context.Context, cfg Config) (*Lab, error) {
	if cfg.Scenario == "" {
		cfg.Scenario = Healthy
	}
	if _, err := LookupScenario(cfg.Scenario); err != nil {
		return nil, err
	}
	if cfg.GreylistDelay <= 0 {
		cfg.GreylistDelay = DefaultGreylistDelay
	}
	if cfg.BannerDelay <= 0 {
		cfg.BannerDelay = DefaultBannerDelay
	}
	certs, err := newCertSet(time.Now())
	if err != nil {
		return nil, err
	}
	users := defaultUsers
	if cfg.Users != nil {
		users = make([]User, len(cfg.Users))
		for i, u := range cfg.Users {
			if u.Login == "" || u.Password == "" {
				return nil, fmt.Errorf("lab: user %d needs a login and a password", i+1)
			}
			if u.Address == "" {
				u.Address = u.Login + "@" + Domain
			}
			users[i] = u
		}
	}
	st, err := newStore(users)
	if err != nil {
		return nil, err
	}
	l := &Lab{
		cfg:        cfg,
		certs:      certs,
		pool:       x509.NewCertPool(),
		store:      st,
		log:        cfg.ErrorLog,
		endpoints:  make(map[string]*endpoint),
		held:       make(map[net.Conn]struct{}),
		smtpQueues: make(map[smtpRoute]*queue),
	}
	if l.log == nil {
		l.log = log.New(io.Discard, "", 0)
	}
	l.pool.AddCert(certs.ca.Cert)
	l.tls = &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			switch l.scenarioOf(hello.Conn) {
			case UntrustedCert:
				return &l.certs.untrusted, nil
			case ExpiredCert:
				return &l.certs.expired, nil
			}
			return &l.certs.good, nil
		},
	}
	name := cfg.Scenario
	l.scenario.Store(&name)
	l.ctx, l.cancel = context.WithCancel(context.Background())

	if err := l.start(ctx); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func (l *Lab) start(ctx context.Context) error {
	// Servers first, fed through queues by the lab's own accept loops.
	for _, kind := range []string{epSMTP, epSubmission, epSMTPS} {
		for _, small := range []bool{false, true} {
			r := smtpRoute{kind, small}
			s := smtp.NewServer(&smtpBackend{l: l, kind: kind})
			s.Domain = "mail.lab.test"
			if kind == epSMTP {
				s.Domain = "mx1.lab.test"
			}
			s.MaxMessageBytes = normalMaxMessage
			if small {
				s.MaxMessageBytes = smallMaxMessage
			}
			s.MaxRecipients = 100
			s.ReadTimeout = 5 * time.Minute
			s.WriteTimeout = time.Minute
			s.TLSConfig = l.tls
			s.ErrorLog = l.log
			q := newQueue()
			l.smtpServers = append(l.smtpServers, s)
			l.smtpQueues[r] = q
			l.goServe(func() error { return s.Serve(q) })
		}
	}
	l.pop3 = &pop3d.Server{
		Backend:           pop3Backend{l: l},
		TLSConfig:         l.tls,
		Greeting:          "mailflow lab POP3 ready.",
		AllowInsecureAuth: !l.cfg.RequireTLSForLogin,
		Implementation:    "mailflow-lab",
		ErrorLog:          l.log,
	}
	l.pop3Queue = newQueue()
	l.goServe(func() error { return l.pop3.Serve(l.pop3Queue) })
	l.imap = imapserver.New(&imapserver.Options{
		NewSession: func(c *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &imapSession{l: l, conn: c}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		Logger:       l.log,
		TLSConfig:    l.tls,
		InsecureAuth: !l.cfg.RequireTLSForLogin,
	})
	l.imapQueue = newQueue()
	l.goServe(func() error { return l.imap.Serve(l.imapQueue) })

	// Wait until every server is in its accept loop. Besides making Start
	// return a lab that really serves, this keeps Close from racing with
	// a Serve that has not registered its listener yet (imapserver adds to
	// a WaitGroup there that Close waits on).
	queues := []*queue{l.pop3Queue, l.imapQueue}
	for _, q := range l.smtpQueues {
		queues = append(queues, q)
	}
	for _, q := range queues {
		select {
		case <-q.serving:
		case <-ctx.Done():
			return fmt.Errorf("lab: start servers: %w", ctx.Err())
		}
	}

	// Listeners.
	eps := []struct {
		name, addr string
		dispatch   func(*labConn)
	}{
		{epSMTP, l.cfg.SMTP, l.smtpDispatch(epSMTP, false)},
		{epSubmission, l.cfg.Submission, l.smtpDispatch(epSubmission, false)},
		{epSMTPS, l.cfg.SMTPS, l.smtpDispatch(epSMTPS, true)},
		{epPOP3, l.cfg.POP3, l.plainDispatch(l.pop3Queue, false)},
		{epPOP3S, l.cfg.POP3S, l.plainDispatch(l.pop3Queue, true)},
		{epIMAP, l.cfg.IMAP, l.plainDispatch(l.imapQueue, false)},
		{epIMAPS, l.cfg.IMAPS, l.plainDispatch(l.imapQueue, true)},
	}
	for _, e := range eps {
		ep := &endpoint{name: e.name, addr: defaultAddr(e.addr), dispatch: e.dispatch}
		l.endpoints[e.name] = ep
		if err := l.listen(ep); err != nil {
			return err
		}
	}
	// dead-primary needs an address where nothing listens: take a free
	// port on the SMTP host and give it back at once.
	dead, err := freeAddr(hostOf(l.endpoints[epSMTP].addr))
	if err != nil {
		return err
	}
	l.deadAddr = dead

	d, err := startDNS(ctx, l, defaultAddr(l.cfg.DNS))
	if err != nil {
		return err
	}
	l.dns = d
	if l.Scenario() == ConnRefused {
		l.mu.Lock()
		l.endpoints[epSMTP].stop()
		l.mu.Unlock()
	}
	return nil
}

func (l *Lab) goServe(serve func() error) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		if err := serve(); err != nil && !errors.Is(err, pop3d.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			l.log.Printf("lab: server stopped: %v", err)
		}
	}()
}

func defaultAddr(a string) string {
	if a == "" {
		return "127.0.0.1:0"
	}
	return a
}

func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "127.0.0.1"
	}
	return h
}

func freeAddr(host string) (string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("lab: reserve a dead port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr, nil
}

// Close stops every service, drops every connection and waits for the
// lab's goroutines to end. It is safe to call more than once.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.cancel()
	for _, ep := range l.endpoints {
		ep.stop()
	}
	l.mu.Unlock()
	l.heldMu.Lock()
	for c := range l.held {
		c.Close()
	}
	l.heldMu.Unlock()

	// Closing the queues as well as the servers matters when Start fails
	// early: a server whose Serve has not registered its listener yet
	// would otherwise wait in Accept forever.
	for _, q := range l.smtpQueues {
		q.Close()
	}
	for _, q := range []*queue{l.pop3Queue, l.imapQueue} {
		if q != nil {
			q.Close()
		}
	}
	var errs []error
	for _, s := range l.smtpServers {
		if err := s.Close(); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if l.pop3 != nil {
		if err := l.pop3.Close(); err != nil && !errors.Is(err, pop3d.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if l.imap != nil {
		if err := l.imap.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if l.dns != nil {
		if err := l.dns.close(); err != nil {
			errs = append(errs, err)
		}
	}
	l.wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lab: close: %w", err)
	}
	return nil
}

// Scenario returns the active scenario's name.
func (l *Lab) Scenario() string { return *l.scenario.Load() }

// SetScenario switches the active fault. Connections already open keep
// the scenario they started under; new connections and DNS queries get
// the new one at once. Switching to or from connection-refused closes or
// reopens the SMTP listener on the same address.
func (l *Lab) SetScenario(name string) error {
	if _, err := LookupScenario(name); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("lab: set scenario: lab is closed")
	}
	old := l.Scenario()
	if old == name {
		return nil
	}
	ep := l.endpoints[epSMTP]
	if name == ConnRefused {
		ep.stop()
	} else if old == ConnRefused {
		if err := l.listen(ep); err != nil {
			return err
		}
	}
	if name == Greylisted {
		// Start greylisting afresh so the first attempt is refused again.
		l.grey.reset()
	}
	l.scenario.Store(&name)
	return nil
}

// Endpoints returns where every service listens and the MX list of the
// active scenario.
func (l *Lab) Endpoints() Endpoints {
	sc := l.Scenario()
	e := Endpoints{
		Scenario:   sc,
		Domain:     Domain,
		DNS:        l.dns.addr,
		SMTP:       l.endpoints[epSMTP].addr,
		Submission: l.endpoints[epSubmission].addr,
		SMTPS:      l.endpoints[epSMTPS].addr,
		POP3:       l.endpoints[epPOP3].addr,
		POP3S:      l.endpoints[epPOP3S].addr,
		IMAP:       l.endpoints[epIMAP].addr,
		IMAPS:      l.endpoints[epIMAPS].addr,
		Users:      l.store.users(),
		CAPEM:      string(l.certs.caPEM),
	}
	switch sc {
	case NullMX:
		e.NullMX = true
		e.MX = []MXEndpoint{}
	case NoMX:
		e.MX = []MXEndpoint{{Host: Domain, Preference: 0, Addr: e.SMTP, Implicit: true}}
	case DeadPrimary:
		e.MX = []MXEndpoint{{Host: "mx1.lab.test", Preference: 10, Addr: l.deadAddr}, {Host: "mx2.lab.test", Preference: 20, Addr: e.SMTP}}
	default:
		e.MX = []MXEndpoint{{Host: "mx1.lab.test", Preference: 10, Addr: e.SMTP}, {Host: "mx2.lab.test", Preference: 20, Addr: e.SMTP}}
	}
	return e
}

// CAPool returns a pool holding only the lab CA, for a client's RootCAs.
func (l *Lab) CAPool() *x509.CertPool { return l.pool.Clone() }

// CAPEM returns the lab CA certificate in PEM form (for curl --cacert,
// swaks --tls-ca-path, openssl s_client -CAfile).
func (l *Lab) CAPEM() []byte { return append([]byte(nil), l.certs.caPEM...) }

// Messages returns copies of the messages in the INBOX of user (login or
// address), oldest first.
func (l *Lab) Messages(user string) ([][]byte, error) {
	a := l.store.lookup(user)
	if a == nil {
		return nil, fmt.Errorf("lab: no user %q", user)
	}
	return a.messages()
}

// Deliver puts msg in the INBOX of user (login or address) without SMTP,
// to prepare a mailbox for a POP3 or IMAP exercise.
func (l *Lab) Deliver(user string, msg []byte) error {
	a := l.store.lookup(user)
	if a == nil {
		return fmt.Errorf("lab: no user %q", user)
	}
	return a.deliver(msg)
}

// endpoint is one TCP listener and its accept loop. The listener can be
// stopped and restarted on the same address (connection-refused).
type endpoint struct {
	name     string
	addr     string
	dispatch func(*labConn)
	ln       net.Listener
	done     chan struct{}
}

// listen opens ep's listener and starts its accept loop. l.mu is held or
// the lab is still starting.
func (l *Lab) listen(ep *endpoint) error {
	ln, err := net.Listen("tcp", ep.addr)
	if err != nil {
		return fmt.Errorf("lab: listen %s on %s: %w", ep.name, ep.addr, err)
	}
	if a := ln.Addr().String(); a != ep.addr {
		// Only the first listen changes the address (":0" becomes a
		// port); a restart reuses it, so Endpoints can read it unlocked.
		ep.addr = a
	}
	ep.ln = ln
	ep.done = make(chan struct{})
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer close(ep.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					continue
				}
				return
			}
			ep.dispatch(&labConn{Conn: c, scenario: l.Scenario()})
		}
	}()
	return nil
}

// stop closes ep's listener and waits for its accept loop.
func (ep *endpoint) stop() {
	if ep.ln == nil {
		return
	}
	ep.ln.Close()
	<-ep.done
	ep.ln = nil
}

// labConn remembers the scenario that was active when the connection was
// accepted, so that one session sees one consistent set of faults.
type labConn struct {
	net.Conn
	scenario string
}

// scenarioOf finds the scenario a connection was accepted under, looking
// through TLS wrappers; it falls back to the active scenario.
func (l *Lab) scenarioOf(c net.Conn) string {
	for c != nil {
		switch v := c.(type) {
		case *labConn:
			return v.scenario
		case *tls.Conn:
			c = v.NetConn()
		default:
			c = nil
		}
	}
	return l.Scenario()
}

// rawConn returns the TCP connection under any TLS layer.
func rawConn(c net.Conn) net.Conn {
	for {
		tc, ok := c.(*tls.Conn)
		if !ok {
			return c
		}
		c = tc.NetConn()
	}
}

// queue is a net.Listener fed by the lab's accept loops, so that the
// protocol servers only see connections the lab has decided to serve.
type queue struct {
	ch          chan net.Conn
	closed      chan struct{}
	once        sync.Once
	serving     chan struct{} // closed at the first Accept
	servingOnce sync.Once
}

func newQueue() *queue {
	return &queue{ch: make(chan net.Conn), closed: make(chan struct{}), serving: make(chan struct{})}
}

func (q *queue) Accept() (net.Conn, error) {
	q.servingOnce.Do(func() { close(q.serving) })
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.closed:
		return nil, net.ErrClosed
	}
}

func (q *queue) Close() error {
	q.once.Do(func() { close(q.closed) })
	return nil
}

func (q *queue) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// push hands c to the server, or closes it if the server is gone.
func (q *queue) push(c net.Conn) {
	select {
	case q.ch <- c:
	case <-q.closed:
		c.Close()
	}
}

// plainDispatch serves POP3/IMAP connections, wrapping implicit-TLS ones.
func (l *Lab) plainDispatch(q *queue, implicitTLS bool) func(*labConn) {
	return func(c *labConn) {
		if implicitTLS {
			q.push(tls.Server(c, l.tls))
			return
		}
		q.push(c)
	}
}

// smtpDispatch applies the connection-level faults (banner delay, silent
// server) and routes the rest to the right go-smtp server.
func (l *Lab) smtpDispatch(kind string, implicitTLS bool) func(*labConn) {
	return func(c *labConn) {
		route := smtpRoute{kind: kind, small: c.scenario == MessageTooBig}
		q := l.smtpQueues[route]
		var conn net.Conn = c
		if implicitTLS {
			conn = tls.Server(c, l.tls)
		}
		if kind != epSMTP {
			q.push(conn)
			return
		}
		switch c.scenario {
		case NoBanner:
			// Accept and never speak: read and discard until the client
			// gives up or the lab closes.
			l.hold(c, func() { io.Copy(io.Discard, c) })
		case SlowBanner:
			// Like postscreen's pregreet test: say nothing for a while.
			l.hold(c, func() {
				t := time.NewTimer(l.cfg.BannerDelay)
				defer t.Stop()
				select {
				case <-t.C:
					if l.release(c) {
						q.push(conn)
					}
				case <-l.ctx.Done():
				}
			})
		default:
			q.push(conn)
		}
	}
}

// hold runs f for a connection the lab keeps to itself, and makes sure
// Close drops the connection.
func (l *Lab) hold(c net.Conn, f func()) {
	l.heldMu.Lock()
	if l.ctx.Err() != nil {
		l.heldMu.Unlock()
		c.Close()
		return
	}
	l.held[c] = struct{}{}
	l.wg.Add(1)
	l.heldMu.Unlock()
	go func() {
		defer l.wg.Done()
		f()
		if l.release(c) {
			c.Close()
		}
	}()
}

// release forgets a held connection; it reports whether it was held.
func (l *Lab) release(c net.Conn) bool {
	l.heldMu.Lock()
	defer l.heldMu.Unlock()
	_, ok := l.held[c]
	delete(l.held, c)
	return ok
}

// dnsServer is the lab's DNS server on one UDP and one TCP socket.
type dnsServer struct {
	addr     string
	udp, tcp *dns.Server
}
