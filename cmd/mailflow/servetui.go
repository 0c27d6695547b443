package main

import (
	"bytes"
	"context"
	"io"
	"os"

	"github.com/mailflow/mailflow/internal/sshserve"
	"github.com/mailflow/mailflow/session/smtp"
	"github.com/mailflow/mailflow/tui"
)

// "mailflow serve" gives each SSH user their own TUI: the start screen
// (or, with --lab, the shared lab directly), with journals and exports in
// the user's own directory. Nothing per user goes through the process
// environment, which all users share.

func init() { serveTUI = serveUserTUI }

// serveUserTUI runs one user's program until they quit or the server
// ends the session.
func serveUserTUI(ctx context.Context, s sshserve.ServeSession) error {
	if newBackend == nil {
		return serveBuiltin(ctx, s)
	}
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	labs := &labSet{shared: serveLab(ctx)}
	defer labs.closeAll() // a lab this user started from the start screen
	return serveProgram(ctx, onlcrSession{s}, tui.New(serveTUIOptions(mctx, s.Dir(), labs, cancel)))
}

// onlcrSession does what a pseudo-terminal's ONLCR output flag does:
// every LF written becomes CR LF. Bubble Tea's renderer, when its input
// is not a local TTY, assumes the terminal maps newlines that way (it
// moves to the next line's start with a bare LF), but the SSH server has
// no real pty, so without this the full-screen program's lines drift to
// the right. (The built-in test program is too small to show it.)
type onlcrSession struct{ sshserve.ServeSession }

func (s onlcrSession) Stdout() io.Writer { return onlcrWriter{s.ServeSession.Stdout()} }

type onlcrWriter struct{ w io.Writer }

func (o onlcrWriter) Write(p []byte) (int, error) {
	n := bytes.Count(p, []byte{'\n'})
	if n == 0 {
		return o.w.Write(p)
	}
	buf := make([]byte, 0, len(p)+n)
	for _, c := range p {
		if c == '\n' {
			buf = append(buf, '\r')
		}
		buf = append(buf, c)
	}
	if _, err := o.w.Write(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// serveTUIOptions are one SSH user's TUI options: journals and exports
// go under dir; with a shared lab the program starts on it (as `mailflow
// lab` does), else on the start screen, whose L key starts a lab of the
// user's own (closed when they leave).
func serveTUIOptions(ctx context.Context, dir string, labs *labSet, onQuit func()) tui.Options {
	if l := labs.shared; l != nil {
		o := labTUIOptions(ctx, l, onQuit)
		cfg := labBackendConfig(l)
		cfg.StateDir = dir
		o.Backend = newBackend(cfg)
		o.ExportDir = dir
		return o
	}
	helo := smtp.DefaultHelo()
	o := rootTUIOptions(ctx, tui.Params{Protocol: "smtp", TLS: "starttls", HELO: helo},
		tuiBackendConfig{HELO: helo, StateDir: dir}, labs, os.Getenv)
	o.OnQuit = onQuit
	return o
}
