package sshserve

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/mailflow/mailflow/session/transcript"
)

// maxDim bounds a terminal dimension a client may claim, so that a
// program never allocates a screen of 2^32 cells.
const maxDim = 1000

// Messages shown to users whose request is refused.
const (
	msgNoPTY = "mailflow serve: this server runs the mailflow terminal program and needs a terminal; connect with ssh -t"
	msgExec  = "mailflow serve: commands are not run here; connect with ssh -t and no command"
)

// session is one user's terminal; it implements ServeSession.
type session struct {
	c       *conn
	ch      ssh.Channel
	dir     string
	stdin   io.Reader
	resizes chan Window

	mu     sync.Mutex
	win    Window
	term   string
	hasPTY bool
}

func (s *session) User() string           { return s.c.user }
func (s *session) Fingerprint() string    { return s.c.fp }
func (s *session) RemoteAddr() net.Addr   { return s.c.nc.RemoteAddr() }
func (s *session) Dir() string            { return s.dir }
func (s *session) Stdin() io.Reader       { return s.stdin }
func (s *session) Stdout() io.Writer      { return s.ch }
func (s *session) Resizes() <-chan Window { return s.resizes }

func (s *session) Window() (w, h int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.win.Width, s.win.Height
}

func (s *session) Term() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.term
}

// activityReader counts every byte read as input for the idle timer.
type activityReader struct {
	r io.Reader
	c *conn
}

func (a activityReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.c.touch()
	}
	return n, err
}

// ptyRequest is the "pty-req" payload (RFC 4254 §6.2).
type ptyRequest struct {
	Term          string
	Cols, Rows    uint32
	WidthPx, HtPx uint32
	Modes         string
}

// windowChange is the "window-change" payload (RFC 4254 §6.7).
type windowChange struct {
	Cols, Rows    uint32
	WidthPx, HtPx uint32
}

func clampWindow(cols, rows uint32) Window {
	w := Window{Width: int(min(cols, maxDim)), Height: int(min(rows, maxDim))}
	if w.Width == 0 {
		w.Width = 80
	}
	if w.Height == 0 {
		w.Height = 24
	}
	return w
}

// pushResize hands w to the program, replacing a size it has not taken
// yet: only the newest size matters.
func (s *session) pushResize(w Window) {
	for {
		select {
		case s.resizes <- w:
			return
		default:
		}
		select {
		case <-s.resizes:
		default:
		}
	}
}

// serveSession answers the requests of the session channel (RFC 4254 §6)
// and runs the Handler once a PTY and a shell were asked for.
func (c *conn) serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	s := &session{
		c:       c,
		ch:      ch,
		dir:     filepath.Join(c.srv.cfg.DataDir, "users", userDirName(c.fp)),
		stdin:   activityReader{ch, c},
		resizes: make(chan Window, 1),
	}
	var handlerDone chan struct{}
	refuse := func(req *ssh.Request, msg string) {
		fmt.Fprintf(ch.Stderr(), "%s\r\n", msg)
		req.Reply(false, nil)
		sendExitStatus(ch, 1)
		ch.Close()
	}
	for req := range reqs {
		switch req.Type {
		case "pty-req":
			var p ptyRequest
			if handlerDone != nil || s.hasPTY || ssh.Unmarshal(req.Payload, &p) != nil {
				req.Reply(false, nil)
				continue
			}
			s.mu.Lock()
			s.hasPTY = true
			s.term = sanitizeTerm(p.Term)
			s.win = clampWindow(p.Cols, p.Rows)
			s.mu.Unlock()
			req.Reply(true, nil)
		case "window-change":
			var p windowChange
			if !s.hasPTY || ssh.Unmarshal(req.Payload, &p) != nil {
				req.Reply(false, nil)
				continue
			}
			w := clampWindow(p.Cols, p.Rows)
			s.mu.Lock()
			s.win = w
			s.mu.Unlock()
			c.touch()
			s.pushResize(w)
			req.Reply(true, nil)
		case "shell":
			if handlerDone != nil {
				req.Reply(false, nil)
				continue
			}
			if !s.hasPTY {
				c.srv.log.Printf("user %s, key %s: session without a terminal refused", c.user, c.fp)
				req.Reply(true, nil)
				fmt.Fprintf(ch.Stderr(), "%s\r\n", msgNoPTY)
				sendExitStatus(ch, 1)
				ch.Close()
				continue
			}
			if err := os.MkdirAll(s.dir, 0o700); err != nil {
				c.srv.log.Printf("user %s: %v", c.user, err)
				refuse(req, "mailflow serve: cannot create your data directory; tell the server's operator")
				continue
			}
			req.Reply(true, nil)
			handlerDone = make(chan struct{})
			go func() {
				defer close(handlerDone)
				c.runHandler(s)
			}()
		case "exec":
			// Accepted only to be able to say why nothing runs: clients
			// drop output that comes with a failed exec (RFC 4254 §6.5).
			c.srv.log.Printf("user %s, key %s: exec request refused", c.user, c.fp)
			req.Reply(true, nil)
			fmt.Fprintf(ch.Stderr(), "%s\r\n", msgExec)
			sendExitStatus(ch, 1)
			ch.Close()
		case "subsystem":
			var name struct{ Name string }
			ssh.Unmarshal(req.Payload, &name)
			c.srv.log.Printf("user %s, key %s: subsystem %q refused", c.user, c.fp, transcript.PrintableString(name.Name))
			refuse(req, fmt.Sprintf("mailflow serve: subsystem %q is not offered", transcript.PrintableString(name.Name)))
		default:
			// env, x11-req, auth-agent-req@openssh.com, signal, break,
			// keepalives: all refused (RFC 4254 §6.3, §6.4, §6.9).
			req.Reply(false, nil)
		}
	}
	// The channel is closed: the client left, or the handler finished.
	close(s.resizes)
	c.cancel()
	if handlerDone != nil {
		<-handlerDone
	}
	// One session per connection: with it gone, so is the connection.
	c.sc.Close()
}

// runHandler runs the program, reports how it ended and closes the
// connection: when the program is done there is nothing else to reach.
func (c *conn) runHandler(s *session) {
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("internal error: %v", r)
			}
		}()
		return c.srv.cfg.Handler(c.ctx, s)
	}()
	status := uint32(0)
	if r := c.reason.Load(); r != nil {
		fmt.Fprintf(s.ch.Stderr(), "\r\nmailflow serve: %s\r\n", *r)
		status = 1
	} else if err != nil && !errors.Is(err, c.ctx.Err()) {
		msg := transcript.PrintableString(strings.Join(strings.Fields(err.Error()), " "))
		c.srv.log.Printf("user %s, key %s: program ended: %s", c.user, c.fp, msg)
		fmt.Fprintf(s.ch.Stderr(), "\r\nmailflow serve: %s\r\n", msg)
		status = 1
	}
	sendExitStatus(s.ch, status)
	s.ch.Close()
	c.sc.Close()
}
