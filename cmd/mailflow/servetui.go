package main

import (
	"context"
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
	return serveProgram(ctx, s, tui.New(serveTUIOptions(mctx, s.Dir(), labs, cancel)))
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
