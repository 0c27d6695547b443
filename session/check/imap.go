package check

import (
	"context"
	"errors"
	"time"

	"github.com/mailflow/mailflow/session/imap"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// imapProc is the IMAP procedure's plan; a NO, a BAD or a step not offered
// is a refusal, a BYE already ended the session.
var imapProc = accessProc[*imap.Client]{
	proto: "imap", title: "IMAP", capa: "capability", upgrade: "starttls",
	user: []string{"login", "list", "select"}, bye: "logout",
	refused: func(err error) bool {
		var ie *imap.Error
		var no *notOffered
		return errors.As(err, &ie) && ie.Status != "BYE" || errors.As(err, &no)
	},
	goodbye: (*imap.Client).Logout,
}

// RunIMAP runs the IMAP procedure against opts.Server: connect and read
// the greeting, CAPABILITY, STARTTLS and CAPABILITY again (with TLS
// starttls), LOGIN when a user is given (skipped after a PREAUTH
// greeting), LIST "" "*" and SELECT of opts.Mailbox (INBOX by default),
// then LOGOUT. SELECT changes no message; it may clear \Recent flags
// (RFC 3501 section 6.3.1), as any mail client's would. It never returns
// nil.
func RunIMAP(ctx context.Context, opts Options) *Result {
	start := time.Now()
	r := newResult("imap", opts.Server, opts)
	defer finishResult(r, opts, start)
	target, ok := accessTarget(r, opts, PortIMAP, PortIMAPS)
	if !ok {
		return r
	}
	mailbox := opts.Mailbox
	if mailbox == "" {
		mailbox = "INBOX"
	}
	ts := r.Transcript
	c, a, ok := startAccess(ctx, r, opts, target, imapProc, imap.Dial)
	if !ok {
		return r
	}
	defer c.Close()
	s, finish := a.s, func(err error) *Result { return a.finish(ctx, err) }
	capability := func() error {
		return s.run("capability", func() error { _, err := c.Capability(ctx); return err })
	}
	if err := capability(); err != nil {
		return finish(err)
	}
	r.CapsBefore = append([]string(nil), c.Caps()...)
	if opts.TLS == wire.TLSStartTLS {
		if !c.HasCap("STARTTLS") {
			return finish(&notOffered{"imap: the server does not announce STARTTLS in its capabilities, so TLS cannot be started (RFC 9051 section 6.2.1)"})
		}
		if err := s.run("starttls", func() error { _, err := c.StartTLS(ctx); return err }); err != nil {
			return finish(err)
		}
		if err := capability(); err != nil {
			return finish(err)
		}
		r.CapsAfter = append([]string(nil), c.Caps()...)
	}
	if opts.User != "" {
		if c.Preauth() {
			ts.Notef(transcript.Info, "imap", "login", "the greeting was PREAUTH: the session is already authenticated, LOGIN is not sent")
			s.plan = replaceSteps(s.plan, []string{"login"}, "")
		} else {
			if c.HasCap("LOGINDISABLED") {
				return finish(&notOffered{"imap: the server announces LOGINDISABLED: it refuses plaintext LOGIN on this connection (use --tls starttls or implicit)"})
			}
			if err := s.run("login", func() error { return c.Login(ctx, opts.User, opts.Password) }); err != nil {
				return finish(err)
			}
		}
		if err := s.run("list", func() error { _, err := c.List(ctx, "", "*"); return err }); err != nil {
			return finish(err)
		}
		if err := s.run("select", func() error { _, err := c.Select(ctx, mailbox); return err }); err != nil {
			return finish(err)
		}
	}
	if err := s.run("logout", func() error { return c.Logout(ctx) }); err != nil {
		return finish(err)
	}
	return finish(nil)
}
