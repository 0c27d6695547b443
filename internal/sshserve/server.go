package sshserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/mailflow/mailflow/session/transcript"
)

// Defaults for Config fields left zero.
const (
	DefaultMaxSessions      = 10
	DefaultHandshakeTimeout = 20 * time.Second
	// DefaultMaxHandshakes bounds connections that have not logged in
	// yet, so that a flood of them cannot use up memory or file
	// descriptors.
	DefaultMaxHandshakes = 32
)

// endGrace is how long a Handler has to return after its context is
// cancelled before the connection is cut anyway.
const endGrace = 3 * time.Second

// Window is a terminal size in character cells.
type Window struct {
	Width, Height int
}

// ServeSession is what a Handler gets: one user's terminal.
type ServeSession interface {
	// User is the SSH user name the client gave, reduced to
	// [A-Za-z0-9._@-]. It is not an identity (any authorized key may
	// log in under any name); Fingerprint is.
	User() string
	// Fingerprint is the SHA256 fingerprint of the key the user logged in
	// with, as ssh-keygen -l prints it.
	Fingerprint() string
	// RemoteAddr is the client's address.
	RemoteAddr() net.Addr
	// Dir is this user's own data directory (transcripts, journal),
	// DataDir/users/<fingerprint>, created with mode 0700.
	Dir() string
	// Stdin is the user's keyboard (raw bytes from the client's terminal).
	Stdin() io.Reader
	// Stdout is the user's screen.
	Stdout() io.Writer
	// Window is the terminal size at the time of the call.
	Window() (w, h int)
	// Resizes receives every later window size; only the newest one is
	// kept when the receiver falls behind. It is closed when the client
	// goes away.
	Resizes() <-chan Window
	// Term is the client's TERM, reduced to [A-Za-z0-9._+-].
	Term() string
}

// Handler runs the program for one session. The session ends, and the
// connection closes, when it returns. ctx is cancelled when the client
// disconnects, the session is idle too long, or the server shuts down;
// the Handler should then return promptly.
type Handler func(ctx context.Context, s ServeSession) error

// Config configures a Server.
type Config struct {
	// AuthorizedKeys is an OpenSSH authorized_keys file; required. It is
	// read again on every login attempt.
	AuthorizedKeys string
	// HostKey is the host key file, created (Ed25519) if missing; required.
	HostKey string
	// DataDir holds users/<fingerprint>/ for each user; required.
	DataDir string
	// MaxSessions bounds concurrent logged-in connections;
	// DefaultMaxSessions if zero.
	MaxSessions int
	// IdleTimeout closes a session after this long without input from
	// the user; zero means never.
	IdleTimeout time.Duration
	// HandshakeTimeout bounds the SSH handshake and login;
	// DefaultHandshakeTimeout if zero.
	HandshakeTimeout time.Duration
	// MaxHandshakes bounds connections still logging in;
	// DefaultMaxHandshakes if zero.
	MaxHandshakes int
	// Handler runs each session's program; required.
	Handler Handler
	// Log receives one line per login, refusal and session end; nil
	// discards them.
	Log *log.Logger
}

// Server is an SSH server that runs a Handler for each authorized user.
type Server struct {
	cfg        Config
	signer     ssh.Signer
	created    bool
	log        *log.Logger
	ssh        *ssh.ServerConfig
	slots      chan struct{}
	handshakes chan struct{}

	mu    sync.Mutex
	conns map[*conn]struct{}
	wg    sync.WaitGroup
}

// New checks cfg, loads or creates the host key and reads the authorized
// keys once, so that a mistake shows at start and not at the first login.
func New(cfg Config) (*Server, error) {
	if cfg.Handler == nil {
		return nil, errors.New("sshserve: no Handler")
	}
	if cfg.AuthorizedKeys == "" {
		return nil, errors.New("sshserve: no authorized keys file given")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("sshserve: no data directory given")
	}
	if cfg.MaxSessions < 0 || cfg.MaxHandshakes < 0 || cfg.IdleTimeout < 0 || cfg.HandshakeTimeout < 0 {
		return nil, errors.New("sshserve: negative limit")
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.MaxHandshakes == 0 {
		cfg.MaxHandshakes = DefaultMaxHandshakes
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	s := &Server{
		cfg:        cfg,
		log:        cfg.Log,
		slots:      make(chan struct{}, cfg.MaxSessions),
		handshakes: make(chan struct{}, cfg.MaxHandshakes),
		conns:      map[*conn]struct{}{},
	}
	if s.log == nil {
		s.log = log.New(io.Discard, "", 0)
	}
	keys, skipped, err := readAuthorizedKeys(cfg.AuthorizedKeys)
	if err != nil {
		return nil, err
	}
	for _, sk := range skipped {
		s.log.Print(sk)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("sshserve: authorized keys %s: no usable key, so nobody could log in", cfg.AuthorizedKeys)
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "users"), 0o700); err != nil {
		return nil, fmt.Errorf("sshserve: data directory: %w", err)
	}
	s.signer, s.created, err = LoadOrCreateHostKey(cfg.HostKey)
	if err != nil {
		return nil, err
	}
	s.ssh = &ssh.ServerConfig{
		// Only PublicKeyCallback is set: x/crypto/ssh then offers no
		// password or keyboard-interactive method at all.
		PublicKeyCallback: s.checkKey,
		AuthLogCallback:   s.logAuth,
		MaxAuthTries:      6,
		ServerVersion:     "SSH-2.0-mailflow",
	}
	s.ssh.AddHostKey(s.signer)
	return s, nil
}

// HostKey is the server's public host key.
func (s *Server) HostKey() ssh.PublicKey { return s.signer.PublicKey() }

// HostKeyCreated says whether New created the host key file.
func (s *Server) HostKeyCreated() bool { return s.created }

// checkKey accepts a key listed in the authorized keys file as it is now.
func (s *Server) checkKey(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	keys, _, err := readAuthorizedKeys(s.cfg.AuthorizedKeys)
	if err != nil {
		s.log.Printf("login refused: %v", err)
		return nil, err
	}
	fp := ssh.FingerprintSHA256(key)
	if _, ok := keys[string(key.Marshal())]; !ok {
		return nil, fmt.Errorf("key %s is not in %s", fp, s.cfg.AuthorizedKeys)
	}
	return &ssh.Permissions{Extensions: map[string]string{"fingerprint": fp}}, nil
}

func (s *Server) logAuth(meta ssh.ConnMetadata, method string, err error) {
	if err == nil || method == "none" {
		return
	}
	s.log.Printf("login attempt refused: user %q from %s, method %s: %v",
		transcript.PrintableString(meta.User()), meta.RemoteAddr(), method, err)
}

// Serve accepts connections on ln until ctx is cancelled, then ends every
// session (telling its user why) and returns nil once they are gone, or
// after a few seconds. It returns an error when ln fails.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-ctx.Done():
		case <-stop:
		}
		ln.Close()
	}()
	var err error
	var delay time.Duration
	for {
		var nc net.Conn
		nc, err = ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				err = nil
				break
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Back off on a temporary failure (such as EMFILE)
				// instead of spinning.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			err = fmt.Errorf("sshserve: accept: %w", err)
			break
		}
		delay = 0
		select {
		case s.handshakes <- struct{}{}:
		default:
			s.log.Printf("connection from %s dropped: %d logins already in progress", nc.RemoteAddr(), cap(s.handshakes))
			nc.Close()
			continue
		}
		s.wg.Add(1)
		go s.handleConn(nc)
	}
	s.shutdown()
	return err
}

// shutdown ends every connection and waits for them, for a while.
func (s *Server) shutdown() {
	s.mu.Lock()
	for c := range s.conns {
		c.end("the server is shutting down")
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(endGrace + time.Second):
		s.log.Printf("shutdown: some sessions did not end in time")
	}
}

// conn is one client connection.
type conn struct {
	srv    *Server
	nc     net.Conn
	sc     *ssh.ServerConn
	user   string
	fp     string
	ctx    context.Context
	cancel context.CancelFunc

	reason     atomic.Pointer[string] // why the server ended it, for the user
	lastActive atomic.Int64           // UnixNano of the last input
	idle       *time.Timer
}

func (s *Server) handleConn(nc net.Conn) {
	defer s.wg.Done()
	nc.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	sc, chans, reqs, err := ssh.NewServerConn(nc, s.ssh)
	<-s.handshakes
	if err != nil {
		// Failed logins were logged by logAuth; this is the connection.
		if !errors.Is(err, io.EOF) {
			s.log.Printf("connection from %s closed before login: %v", nc.RemoteAddr(), err)
		}
		nc.Close()
		return
	}
	nc.SetDeadline(time.Time{})
	// Global requests (tcpip-forward, keepalives) are all answered no:
	// no port forwarding (RFC 4254 §7.1).
	go ssh.DiscardRequests(reqs)

	c := &conn{srv: s, nc: nc, sc: sc, user: sanitizeUser(sc.User()), fp: sc.Permissions.Extensions["fingerprint"]}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	defer c.cancel()
	defer sc.Close()
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()

	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		s.log.Printf("login by %s (key %s) from %s turned away: all %d sessions in use", c.user, c.fp, nc.RemoteAddr(), cap(s.slots))
		c.refuseBusy(chans)
		return
	}
	s.log.Printf("login: user %s, key %s, from %s", c.user, c.fp, nc.RemoteAddr())
	start := time.Now()
	c.touch()
	if d := s.cfg.IdleTimeout; d > 0 {
		c.idle = time.AfterFunc(d, c.checkIdle)
		defer c.idle.Stop()
	}

	var sessionDone chan struct{}
	for nch := range chans {
		if nch.ChannelType() != "session" {
			// direct-tcpip and friends: no forwarding (RFC 4254 §7.2).
			nch.Reject(ssh.Prohibited, "mailflow serve offers a terminal session and nothing else")
			continue
		}
		if sessionDone != nil {
			nch.Reject(ssh.Prohibited, "mailflow serve allows one session per connection")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			break
		}
		sessionDone = make(chan struct{})
		go func() {
			defer close(sessionDone)
			c.serveSession(ch, creqs)
		}()
	}
	// The client went away or the session closed the connection.
	c.cancel()
	if sessionDone != nil {
		<-sessionDone
	}
	s.log.Printf("logout: user %s, key %s, after %s", c.user, c.fp, time.Since(start).Round(time.Second))
}

// touch records input from the user.
func (c *conn) touch() { c.lastActive.Store(time.Now().UnixNano()) }

// checkIdle runs when the idle timer fires: it ends the connection if
// there was no input since, or sets the timer for the rest of the time.
func (c *conn) checkIdle() {
	d := c.srv.cfg.IdleTimeout
	since := time.Since(time.Unix(0, c.lastActive.Load()))
	if since >= d {
		c.srv.log.Printf("user %s, key %s: idle for %s, disconnecting", c.user, c.fp, d)
		c.end(fmt.Sprintf("no input for %s; closing the connection", d))
		return
	}
	c.idle.Reset(d - since)
}

// end asks the session to stop, with a reason shown to the user, and cuts
// the connection if the Handler does not return in time.
func (c *conn) end(reason string) {
	c.reason.CompareAndSwap(nil, &reason)
	c.cancel()
	time.AfterFunc(endGrace, func() { c.sc.Close() })
}

// refuseBusy tells a user who logged in while every slot is taken that
// the server is full: the message is shown once the client opens its
// session, then the connection is closed.
func (c *conn) refuseBusy(chans <-chan ssh.NewChannel) {
	msg := fmt.Sprintf("mailflow serve: all %d sessions are in use; try again later", cap(c.srv.slots))
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case <-timeout.C:
			return
		case nch, ok := <-chans:
			if !ok {
				return
			}
			if nch.ChannelType() != "session" {
				nch.Reject(ssh.ResourceShortage, msg)
				continue
			}
			ch, reqs, err := nch.Accept()
			if err != nil {
				return
			}
			for {
				select {
				case <-timeout.C:
					ch.Close()
					return
				case req, ok := <-reqs:
					if !ok {
						return
					}
					switch req.Type {
					case "pty-req":
						req.Reply(true, nil)
						continue
					case "shell", "exec", "subsystem":
						req.Reply(true, nil)
					default:
						req.Reply(false, nil)
						continue
					}
					fmt.Fprintf(ch.Stderr(), "%s\r\n", msg)
					sendExitStatus(ch, 1)
					ch.Close()
					return
				}
			}
		}
	}
}

// sendExitStatus reports the program's exit status (RFC 4254 §6.10).
func sendExitStatus(ch ssh.Channel, status uint32) {
	ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
}

// sanitizeUser keeps a user name printable and safe in logs and paths.
func sanitizeUser(u string) string {
	var b strings.Builder
	for _, r := range u {
		if b.Len() >= 64 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '@', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "anonymous"
	}
	return b.String()
}

// sanitizeTerm keeps the TERM value a client sent only when it looks like
// a terminal name; a TUI library passes it to terminfo lookups.
func sanitizeTerm(t string) string {
	if t == "" {
		return "xterm"
	}
	if len(t) > 64 {
		return "xterm-256color"
	}
	for _, r := range t {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '+', r == '-':
		default:
			return "xterm-256color"
		}
	}
	return t
}

// userDirName turns a key fingerprint ("SHA256:base64") into a directory
// name: the base64 alphabet's '/' and '+' and the ':' are replaced, as in
// base64url, so that the name is unique and safe in a path.
func userDirName(fp string) string {
	return strings.NewReplacer(":", "-", "/", "_", "+", "-").Replace(fp)
}
