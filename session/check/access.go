package check

import (
	"context"

	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// accessClient is what the plumbing shared by RunPOP3 and RunIMAP needs
// of a connected client.
type accessClient interface {
	Conn() *wire.Conn
	Close() error
}

// accessProc describes one mail access procedure (POP3 or IMAP): its
// protocol for the transcript, its capability and TLS upgrade steps, the
// steps run when a user is given, its closing step, and how to tell a
// refusal (after which the server gets a proper goodbye) from a failure.
type accessProc[C accessClient] struct {
	proto, title  string   // "pop3", "POP3"
	capa, upgrade string   // "capa", "stls"
	user          []string // steps planned when opts.User is set
	bye           string   // "quit" or "logout"
	refused       func(error) bool
	goodbye       func(C, context.Context) error // sends bye
}

// plan lists the steps the procedure means to run with opts.
func (p accessProc[C]) plan(opts Options) []string {
	plan := []string{"connect", p.capa}
	if opts.TLS == wire.TLSStartTLS {
		plan = append(plan, p.upgrade, p.capa)
	}
	if opts.User != "" {
		plan = append(plan, p.user...)
	}
	return append(plan, p.bye)
}

// accessRun is a procedure under way: its result, its stepper and what
// finish needs to report TLS facts.
type accessRun[C accessClient] struct {
	c      C
	r      *Result
	s      *stepper
	opts   Options
	target string
	proc   accessProc[C]
}

// startAccess announces the procedure in the transcript, keeps the
// password out of it, plans the steps and runs the connect step with
// dial. When dialling fails it records the failure in r and returns
// ok false; otherwise the caller owns the client and must close it.
func startAccess[C accessClient](ctx context.Context, r *Result, opts Options, target string, p accessProc[C],
	dial func(context.Context, string, wire.Options) (C, error)) (C, *accessRun[C], bool) {
	ts := r.Transcript
	ts.Notef(transcript.Info, p.proto, "connect", "mailflow check: "+p.title+" procedure against "+target)
	if opts.Password != "" {
		ts.AddSecret(opts.Password)
	}
	a := &accessRun[C]{r: r, s: newStepper(r, p.plan(opts)), opts: opts, target: target, proc: p}
	err := a.s.run("connect", func() error {
		var err error
		a.c, err = dial(ctx, target, wire.Options{
			Transcript: ts, Limits: opts.Limits, TLS: opts.TLS, TLSOptions: opts.TLSOptions,
			Network: opts.Network, Dialer: opts.Dialer,
		})
		return err
	})
	if err != nil {
		r.TLS = tlsFacts(nil, err, target, opts)
		a.s.fail(err)
		var zero C
		return zero, a, false
	}
	r.Address = a.c.Conn().RemoteAddr().String()
	return a.c, a, true
}

// finish records the TLS facts of the connection and, when err is set,
// the failure and the skipped steps. After a refusal the server gets a
// proper goodbye first.
func (a *accessRun[C]) finish(ctx context.Context, err error) *Result {
	a.r.TLS = tlsFacts(a.c.Conn().TLS(), err, a.target, a.opts)
	if err != nil {
		a.r.Fail(accessExit(err), accessKind(err), err.Error())
		if a.proc.refused(err) {
			// A refusal is an answer: say goodbye properly.
			quietly(ctx, func(ctx context.Context) error {
				return a.s.run(a.proc.bye, func() error { return a.proc.goodbye(a.c, ctx) })
			})
		}
		a.s.skipRest()
	}
	return a.r
}
