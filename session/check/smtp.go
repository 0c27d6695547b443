package check

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/mailflow/mailflow/diag/addr"
	"github.com/mailflow/mailflow/session/smtp"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// Default SMTP ports: 25 for relay (RFC 5321 §4.5.4), 465 for implicit
// TLS submission (RFC 8314 §3.3).
const (
	PortSMTP  = 25
	PortSMTPS = 465
)

// usage returns a Result for invalid options: exit 2, nothing sent.
func usage(r *Result, msg string) *Result {
	r.Fail(ExitUsage, "usage", msg)
	if r.Transcript != nil {
		r.Transcript.Notef(transcript.Error, r.Protocol, "", msg)
	}
	return r
}

// newResult starts a Result with its transcript.
func newResult(proto, server string, opts Options) *Result {
	ts := opts.Transcript
	if ts == nil {
		ts = transcript.NewStore()
	}
	return &Result{Protocol: proto, Server: server, Transcript: ts}
}

// validateSMTP checks the SMTP options before anything is sent.
func validateSMTP(opts Options) error {
	if opts.From != "" {
		if _, err := addr.ParseReversePath(opts.From); err != nil {
			return fmt.Errorf("--from %q: %v", opts.From, err)
		}
	}
	for _, to := range opts.To {
		if _, err := addr.ParseAddress(to); err != nil {
			return fmt.Errorf("--to %q: %v", to, err)
		}
	}
	if opts.Send && len(opts.To) == 0 {
		return errors.New("--send needs at least one --to recipient")
	}
	if opts.Send && (opts.From == "" || opts.From == "<>") {
		return errors.New("--send needs --from: the test message's From header is taken from it")
	}
	if opts.User != "" && opts.Password == "" {
		return errors.New("a user was given but no password (use --password-file or MAILFLOW_PASSWORD)")
	}
	if opts.Notify != "" {
		if _, err := smtp.ParseNotify(opts.Notify); err != nil {
			return err
		}
	}
	if err := addr.CheckArg(opts.Helo); err != nil {
		return fmt.Errorf("--helo: %v", err)
	}
	return nil
}

// TestMessage builds the short message --send delivers: the headers of
// RFC 5322 §3.6 (Date, From, To, Message-ID, Subject), a blank line and a
// body that says what it is.
func TestMessage(from string, to []string, subject, messageID string, now time.Time) []byte {
	if subject == "" {
		subject = "mailflow test message"
	}
	var b strings.Builder
	b.WriteString("Date: " + now.Format(time.RFC1123Z) + "\r\n")
	b.WriteString("From: <" + strings.Trim(from, "<>") + ">\r\n")
	rcpts := make([]string, len(to))
	for i, t := range to {
		rcpts[i] = "<" + strings.Trim(t, "<>") + ">"
	}
	b.WriteString("To: " + strings.Join(rcpts, ", ") + "\r\n")
	b.WriteString("Message-ID: " + messageID + "\r\n")
	b.WriteString("Subject: " + subject + "\r\n")
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n")
	b.WriteString("\r\n")
	b.WriteString("This is a test message sent by mailflow check.\r\n")
	b.WriteString("It was sent on purpose to test mail flow; no reply is needed.\r\n")
	return []byte(b.String())
}

// NewMessageID returns a unique Message-ID (RFC 5322 §3.6.4) under domain.
func NewMessageID(domain string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	if domain == "" || strings.ContainsAny(domain, "<> \t") {
		domain = "mailflow.invalid"
	}
	return "<" + strconv.FormatInt(time.Now().UnixNano(), 36) + "." + hex.EncodeToString(b[:]) + ".mailflow@" + domain + ">"
}

// stepFromExchange converts one SMTP exchange.
func stepFromExchange(x smtp.Exchange) Step {
	s := Step{Name: x.Step, Command: x.Command}
	if x.Reply.Code != 0 {
		s.FromReply(x.Reply.Transcript())
		s.SetRTT(x.Reply.RTT)
	}
	if x.Err != nil {
		s.OK = false
		var se *smtp.Error
		if errors.As(x.Err, &se) {
			s.ErrKind = KindServerRefused
		} else {
			s.Err = x.Err.Error()
			s.ErrKind = errKind(x.Err)
		}
	}
	return s
}

// errKind names the kind of a failure for Step.ErrKind and
// Result.ErrorKind.
func errKind(err error) string {
	var se *smtp.Error
	var ne *smtp.NotOfferedError
	switch {
	case errors.As(err, &se):
		return KindServerRefused
	case errors.As(err, &ne):
		return KindNotOffered
	}
	return string(wire.Classify(err))
}

// KindNotOffered is the ErrKind of a step that was not sent because the
// server did not announce the extension it needs (STARTTLS, AUTH,
// SMTPUTF8, DSN).
const KindNotOffered = "not-offered"

// exitFor maps a failure to an exit status: a server's refusal, a missing
// extension or a certificate that fails verification are the server's
// answer (1); refused input is a usage error (2); everything else means
// no conversation could be had (3).
func exitFor(err error) int {
	switch errKind(err) {
	case KindServerRefused, KindNotOffered, string(wire.KindTLSVerify):
		return ExitRefused
	}
	return ExitForKind(wire.Classify(err))
}

// RunSMTP runs the SMTP procedure against opts.Server: connect, EHLO,
// STARTTLS and EHLO again (with TLS starttls), AUTH (when a user is
// given), MAIL FROM, RCPT TO for each recipient, then RSET and QUIT, or
// with Send: DATA, a short test message (TestMessage) and QUIT. A probe
// never sends DATA, so it cannot deliver mail by accident. The steps
// that did not run are listed as skipped. It never returns nil.
func RunSMTP(ctx context.Context, opts Options) *Result {
	r := newResult("smtp", opts.Server, opts)
	if opts.Server == "" {
		return usage(r, "no server given (--server HOST[:PORT])")
	}
	port := PortSMTP
	if opts.TLS == wire.TLSImplicit {
		port = PortSMTPS
	}
	if opts.Port > 0 {
		port = opts.Port
	}
	host, port, err := addr.ParseHostPort(opts.Server, port)
	if err != nil {
		return usage(r, fmt.Sprintf("--server %q: %v", opts.Server, err))
	}
	if err := validateSMTP(opts); err != nil {
		return usage(r, err.Error())
	}
	target := net.JoinHostPort(host, strconv.Itoa(port))
	return runSMTP(ctx, r, target, opts)
}

func runSMTP(ctx context.Context, r *Result, target string, opts Options) *Result {
	ts := r.Transcript
	ts.Notef(transcript.Info, "smtp", "connect", "mailflow check: SMTP procedure against "+target)
	if opts.Password != "" {
		ts.AddSecret(opts.Password)
	}
	plan := []string{"ehlo"}
	if opts.TLS == wire.TLSStartTLS {
		plan = append(plan, "starttls", "ehlo")
	}
	if opts.User != "" {
		plan = append(plan, "auth")
	}
	if len(opts.To) > 0 {
		plan = append(plan, "mail")
		for range opts.To {
			plan = append(plan, "rcpt")
		}
		if opts.Send {
			plan = append(plan, "data", "message")
		} else {
			plan = append(plan, "rset")
		}
	}
	plan = append(plan, "quit")

	c, err := smtp.Dial(ctx, target, smtp.Options{
		Transcript: ts, Limits: opts.Limits, TLS: opts.TLS, TLSOptions: opts.TLSOptions,
		Network: opts.Network, Dialer: opts.Dialer, LocalName: opts.Helo,
	})
	if err != nil {
		s := Step{Name: "connect", Err: err.Error(), ErrKind: errKind(err)}
		var se *smtp.Error
		if errors.As(err, &se) {
			s = stepFromExchange(smtp.Exchange{Step: "connect", Reply: se.Reply, Err: err})
		}
		r.AddStep(s)
		r.Fail(exitFor(err), errKind(err), err.Error())
		r.Skip(plan...)
		return r
	}
	defer c.Close()
	r.Address = c.RemoteAddr().String()

	// fail ends the procedure at the first failure: the exchanges so far
	// become steps, the rest of the plan is skipped, and QUIT is still
	// sent when the connection is alive (a refusal is an answer, not a
	// broken connection).
	finish := func(err error) *Result {
		r.TLS = c.TLS()
		if err != nil {
			r.Fail(exitFor(err), errKind(err), err.Error())
			kind := wire.Classify(err)
			var se *smtp.Error
			var ne *smtp.NotOfferedError
			if errors.As(err, &se) || errors.As(err, &ne) || kind == wire.KindInput {
				qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, _ = c.Quit(qctx)
				cancel()
			}
		}
		n := 0
		for _, x := range c.Exchanges() {
			r.AddStep(stepFromExchange(x))
			if x.Step != "connect" {
				n++
			}
		}
		if err != nil && n < len(plan) {
			done := map[string]int{}
			for _, x := range c.Exchanges() {
				done[x.Step]++
			}
			// Skip what was planned but did not run (QUIT may have run).
			for _, p := range plan {
				if done[p] > 0 {
					done[p]--
					continue
				}
				r.Skip(p)
			}
		}
		r.CapsBefore = c.CapsBeforeTLS().Strings()
		if c.TLS() != nil && c.TLS().Version != "" && opts.TLS == wire.TLSStartTLS {
			r.CapsAfter = c.Caps().Strings()
		}
		return r
	}

	if _, err := c.Hello(ctx, opts.Helo); err != nil {
		return finish(err)
	}
	if opts.TLS == wire.TLSStartTLS {
		if err := c.StartTLS(ctx); err != nil {
			return finish(err)
		}
	}
	if opts.User != "" {
		if _, err := c.Auth(ctx, opts.User, opts.Password, opts.AuthMech); err != nil {
			return finish(err)
		}
	}
	if len(opts.To) > 0 {
		tx := smtp.Tx{From: opts.From, To: opts.To}
		if opts.Notify != "" {
			n, _ := smtp.ParseNotify(opts.Notify)
			tx.Rcpt = &smtp.RcptOptions{Notify: n}
		}
		if opts.Send {
			r.MessageID = NewMessageID(helloDomain(opts))
			tx.Data = TestMessage(opts.From, opts.To, opts.Subject, r.MessageID, time.Now())
			tx.Mail = &smtp.MailOptions{}
			if _, ok := c.Caps().Size(); ok {
				tx.Mail.Size = int64(len(tx.Data))
			}
		}
		if _, err := c.Transaction(ctx, tx); err != nil {
			return finish(err)
		}
	}
	if _, err := c.Quit(ctx); err != nil {
		return finish(err)
	}
	return finish(nil)
}

func helloDomain(opts Options) string {
	if i := strings.LastIndexByte(opts.From, '@'); i >= 0 {
		return strings.Trim(opts.From[i+1:], "<>")
	}
	if opts.Helo != "" {
		return opts.Helo
	}
	return smtp.DefaultHelo()
}
