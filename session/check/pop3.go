package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/mailflow/mailflow/diag/addr"
	"github.com/mailflow/mailflow/session/imap"
	"github.com/mailflow/mailflow/session/pop3"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// Default mail access ports: 110 and 143 in the clear or with STLS /
// STARTTLS, 995 and 993 with implicit TLS (RFC 8314 section 3.3).
const (
	PortPOP3  = 110
	PortPOP3S = 995
	PortIMAP  = 143
	PortIMAPS = 993
)

func init() {
	Register("pop3", RunPOP3)
	Register("imap", RunIMAP)
}

// accessTarget resolves opts.Server and the protocol's default port into
// "host:port", or fills r as a usage failure.
func accessTarget(r *Result, opts Options, plain, implicit int) (string, bool) {
	if opts.Server == "" {
		usage(r, "no server given (--server HOST[:PORT])")
		return "", false
	}
	port := plain
	if opts.TLS == wire.TLSImplicit {
		port = implicit
	}
	if opts.Port > 0 {
		port = opts.Port
	}
	host, port, err := addr.ParseHostPort(opts.Server, port)
	if err != nil {
		usage(r, fmt.Sprintf("--server %q: %v", opts.Server, err))
		return "", false
	}
	if opts.User != "" && opts.Password == "" {
		usage(r, "--user "+strconv.Quote(opts.User)+" needs a password")
		return "", false
	}
	for _, s := range []string{opts.User, opts.Password, opts.Mailbox} {
		if err := wire.CheckLine(s); err != nil {
			usage(r, "refused input: "+err.Error())
			return "", false
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), true
}

// accessKind names the kind of a POP3 or IMAP failure: a -ERR, NO, BAD or
// BYE is the server's refusal; anything else is a wire.Kind.
func accessKind(err error) string {
	var pe *pop3.Error
	var ie *imap.Error
	var no *notOffered
	switch {
	case errors.As(err, &pe), errors.As(err, &ie):
		return KindServerRefused
	case errors.As(err, &no):
		return KindNotOffered
	}
	return string(wire.Classify(err))
}

// accessExit maps a failure to an exit status as exitFor does for SMTP: a
// refusal, a missing capability or a certificate that fails verification
// are the server's answer (1); refused input is a usage error (2);
// anything else means no conversation (3).
func accessExit(err error) int {
	switch accessKind(err) {
	case KindServerRefused, KindNotOffered, string(wire.KindTLSVerify):
		return ExitRefused
	}
	return ExitForKind(wire.Classify(err))
}

// notOffered reports a step not sent because the server did not announce
// what it needs (STLS, STARTTLS, or LOGIN under LOGINDISABLED).
type notOffered struct{ msg string }

func (e *notOffered) Error() string { return e.msg }

// maxStepLines bounds the server lines copied into one Step.Reply (a LIST
// of a large mailbox would otherwise copy thousands).
const maxStepLines = 50

// stepper turns transcript entries into Steps: every step is run between
// begin and end, and its command, reply and RTT are read back from the
// entries recorded in between, so that Step.Command is exactly the
// (redacted) line of the transcript.
type stepper struct {
	r    *Result
	ts   *transcript.Store
	plan []string
	done map[string]int
}

func newStepper(r *Result, plan []string) *stepper {
	return &stepper{r: r, ts: r.Transcript, plan: plan, done: map[string]int{}}
}

// run runs fn as step name and records the Step. It returns fn's error.
func (s *stepper) run(name string, fn func() error) error {
	since := s.ts.Len()
	err := fn()
	s.add(name, since, err)
	return err
}

func (s *stepper) add(name string, since int, err error) {
	st := Step{Name: name, OK: err == nil}
	var cmds, lines []string
	var last *transcript.Entry
	entries := s.ts.Since(since)
	for i := range entries {
		e := &entries[i]
		if e.Step != name && !(name == "connect" && e.Step == "") {
			continue
		}
		switch e.Dir {
		case transcript.Client:
			cmds = append(cmds, string(e.Raw))
		case transcript.Server:
			if len(lines) < maxStepLines {
				lines = append(lines, string(e.Raw))
			}
			if e.Reply != nil {
				last = e
			}
		}
	}
	st.Command = strings.Join(cmds, " / ")
	if last != nil {
		st.FromReply(*last.Reply)
		st.SetRTT(last.RTT)
		st.Reply = lines
		st.OK = err == nil && last.Reply.OK
	}
	if err != nil {
		st.OK = false
		st.ErrKind = accessKind(err)
		if st.ErrKind != KindServerRefused {
			st.Err = err.Error()
		}
	}
	s.done[name]++
	s.r.AddStep(st)
}

// fail records the first failure and lists the planned steps that did
// not run as skipped.
func (s *stepper) fail(err error) {
	s.r.Fail(accessExit(err), accessKind(err), err.Error())
	s.skipRest()
}

func (s *stepper) skipRest() {
	left := map[string]int{}
	for k, v := range s.done {
		left[k] = v
	}
	for _, p := range s.plan {
		if left[p] > 0 {
			left[p]--
			continue
		}
		s.r.Skip(p)
	}
}

// quietly runs a closing command (QUIT, LOGOUT) after a refusal, with a
// short deadline of its own.
func quietly(ctx context.Context, fn func(context.Context) error) {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = fn(qctx)
}

// pop3Proc is the POP3 procedure's plan; a -ERR or a step not offered is
// a refusal.
var pop3Proc = accessProc[*pop3.Client]{
	proto: "pop3", title: "POP3", capa: "capa", upgrade: "stls",
	user: []string{"user", "pass", "stat", "list"}, bye: "quit",
	refused: func(err error) bool {
		var pe *pop3.Error
		var no *notOffered
		return errors.As(err, &pe) || errors.As(err, &no)
	},
	goodbye: (*pop3.Client).Quit,
}

// RunPOP3 runs the POP3 procedure against opts.Server: connect and read
// the greeting, CAPA, STLS and CAPA again (with TLS starttls), USER and
// PASS (AUTH PLAIN when the server lists SASL PLAIN but not USER) when a
// user is given, STAT and LIST, then QUIT. Nothing is deleted: QUIT after
// no DELE changes nothing (RFC 1939 section 6). It never returns nil.
func RunPOP3(ctx context.Context, opts Options) *Result {
	start := time.Now()
	r := newResult("pop3", opts.Server, opts)
	defer finishResult(r, opts, start)
	target, ok := accessTarget(r, opts, PortPOP3, PortPOP3S)
	if !ok {
		return r
	}
	c, a, ok := startAccess(ctx, r, opts, target, pop3Proc, pop3.Dial)
	if !ok {
		return r
	}
	defer c.Close()
	s, finish := a.s, func(err error) *Result { return a.finish(ctx, err) }

	// An old server without CAPA (RFC 2449) answers -ERR: that is not a
	// failure of the mail service, so the procedure goes on.
	capa := func() (pop3.Caps, error) {
		var caps pop3.Caps
		err := s.run("capa", func() error {
			var err error
			caps, err = c.Capa(ctx)
			return err
		})
		var pe *pop3.Error
		if errors.As(err, &pe) {
			return nil, nil
		}
		return caps, err
	}
	caps, err := capa()
	if err != nil {
		return finish(err)
	}
	r.CapsBefore = capLines(caps)
	if opts.TLS == wire.TLSStartTLS {
		if caps != nil && !caps.Has("STLS") {
			return finish(&notOffered{"pop3: the server does not list STLS in its CAPA response, so TLS cannot be started (RFC 2595)"})
		}
		if err := s.run("stls", func() error { _, err := c.STLS(ctx); return err }); err != nil {
			return finish(err)
		}
		if caps, err = capa(); err != nil {
			return finish(err)
		}
		r.CapsAfter = capLines(caps)
	}
	if opts.User != "" {
		if caps != nil && !caps.Has("USER") && hasWord(caps["SASL"], "PLAIN") {
			if err := s.run("auth", func() error { return c.AuthPlain(ctx, opts.User, opts.Password) }); err != nil {
				return finish(err)
			}
			s.plan = replaceSteps(s.plan, []string{"user", "pass"}, "auth")
		} else {
			if err := s.run("user", func() error { return c.User(ctx, opts.User) }); err != nil {
				return finish(err)
			}
			if err := s.run("pass", func() error { return c.Pass(ctx, opts.Password) }); err != nil {
				return finish(err)
			}
		}
		if err := s.run("stat", func() error { _, _, err := c.Stat(ctx); return err }); err != nil {
			return finish(err)
		}
		if err := s.run("list", func() error { _, err := c.List(ctx); return err }); err != nil {
			return finish(err)
		}
	}
	if err := s.run("quit", func() error { return c.Quit(ctx) }); err != nil {
		return finish(err)
	}
	return finish(nil)
}

// capLines turns CAPA capabilities into their lines, sorted by name.
func capLines(caps pop3.Caps) []string {
	var out []string
	for _, n := range caps.Names() {
		out = append(out, strings.TrimSpace(n+" "+strings.Join(caps[n], " ")))
	}
	return out
}

func hasWord(list []string, w string) bool {
	for _, s := range list {
		if strings.EqualFold(s, w) {
			return true
		}
	}
	return false
}

// replaceSteps swaps the planned steps old for the one step new, or
// removes them when new is "".
func replaceSteps(plan, old []string, new string) []string {
	var out []string
	replaced := false
	for _, p := range plan {
		if hasWord(old, p) {
			if !replaced && new != "" {
				out = append(out, new)
				replaced = true
			}
			continue
		}
		out = append(out, p)
	}
	return out
}
