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

// ValidateSMTP checks the SMTP options the way RunSMTP and RunDomain do
// before anything is sent, for callers that run many checks with the
// same options (a batch) and want to report a usage error once.
func ValidateSMTP(opts Options) error { return validateSMTP(opts) }

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
	if err := checkFreeText(opts); err != nil {
		return err
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
	if opts.Ret != "" {
		if r := strings.ToUpper(opts.Ret); r != "FULL" && r != "HDRS" {
			return fmt.Errorf("--ret %q: want FULL or HDRS (RFC 3461 §4.3)", opts.Ret)
		}
	}
	if err := checkEnvID(opts.EnvID); err != nil {
		return err
	}
	for _, p := range opts.MailParams {
		if err := CheckParam(p); err != nil {
			return fmt.Errorf("--mail-param: %v", err)
		}
	}
	for _, p := range opts.RcptParams {
		if err := CheckParam(p); err != nil {
			return fmt.Errorf("--rcpt-param: %v", err)
		}
	}
	q, err := quitStage(opts.QuitAfter)
	if err != nil {
		return err
	}
	switch {
	case opts.Send && opts.QuitAfter != "":
		return errors.New("--send runs the whole transaction; it cannot be combined with --quit-after")
	case q == stageTLS && (opts.TLS == wire.TLSNone || opts.TLS == ""):
		return errors.New("--quit-after tls needs --tls starttls or --tls implicit")
	case q == stageAuth && opts.User == "":
		return errors.New("--quit-after auth needs --user")
	case (q == stageRcpt || q == stageData) && opts.QuitAfter != "" && len(opts.To) == 0:
		return fmt.Errorf("--quit-after %s needs at least one --to recipient", opts.QuitAfter)
	}
	return nil
}

// maxSubject is the longest subject that keeps the "Subject: " header
// line within the 998 characters RFC 5322 §2.1.1 allows.
const maxSubject = 998 - len("Subject: ")

// checkFreeText checks the free-text options that reach the wire or the
// test message before anything is sent: a CR or LF in the subject would
// end the Subject header and add another (a Bcc:), one in the user name
// or the mechanism would split the AUTH command. The errors name the
// option and the position, never the character itself, and never show
// the password.
func checkFreeText(opts Options) error {
	if err := addr.CheckArg(opts.Subject); err != nil {
		return fmt.Errorf("--subject: %v", err)
	}
	// RFC 5322 §3.2.5: an unstructured header field holds visible
	// characters and white space; other controls (ESC, BEL, ...) have no
	// place in it and reach the recipient's terminal or mail client.
	pos := 0
	for _, c := range opts.Subject {
		pos++
		if c < 0x20 && c != '\t' || c == 0x7f {
			return fmt.Errorf("--subject: character %d is a control character (%U); a header holds printable text only (RFC 5322 §3.2.5)", pos, c)
		}
	}
	if len(opts.Subject) > maxSubject {
		return fmt.Errorf("--subject is %d bytes long; the Subject header line must stay within 998 characters (RFC 5322 §2.1.1), so at most %d", len(opts.Subject), maxSubject)
	}
	if err := addr.CheckArg(opts.User); err != nil {
		return fmt.Errorf("--user: %v", err)
	}
	if err := addr.CheckArg(opts.AuthMech); err != nil {
		return fmt.Errorf("--auth-mech: %v", err)
	}
	switch strings.ToUpper(opts.AuthMech) {
	case "", smtp.MechPlain, smtp.MechLogin, smtp.MechCRAMMD5:
	default:
		return fmt.Errorf("--auth-mech %q: mailflow implements PLAIN, LOGIN or CRAM-MD5", transcript.PrintableString(opts.AuthMech))
	}
	return nil
}

// CheckParam validates one MAIL or RCPT parameter given on the command
// line: an esmtp-keyword, optionally "=" and an esmtp-value (RFC 5321
// §4.1.2): letters, digits and "-" in the keyword; printable ASCII other
// than "=" in the value; no spaces, CR, LF or other control characters,
// which would split the command.
func CheckParam(p string) error {
	k, v, hasValue := strings.Cut(p, "=")
	if k == "" {
		return fmt.Errorf("%q: want KEY or KEY=VALUE", p)
	}
	for i, c := range []byte(k) {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0) {
			return fmt.Errorf("%q: the keyword may hold only letters, digits and \"-\" (character %d is %q)", p, i+1, rune(c))
		}
	}
	if hasValue && v == "" {
		return fmt.Errorf("%q: empty value after \"=\"", p)
	}
	for i, c := range []byte(v) {
		if c < 33 || c > 126 || c == '=' {
			what := fmt.Sprintf("%q", rune(c))
			switch c {
			case ' ':
				what = "a space"
			case '\r':
				what = "a carriage return (CR)"
			case '\n':
				what = "a line feed (LF)"
			}
			return fmt.Errorf("%q: the value may hold only printable ASCII without spaces or \"=\" (character %d is %s)", p, len(k)+2+i, what)
		}
	}
	return nil
}

// checkEnvID validates a DSN envelope identifier: printable ASCII, at
// most 100 characters (RFC 3461 §4.4).
func checkEnvID(id string) error {
	if len(id) > 100 {
		return fmt.Errorf("--envid is %d characters long; RFC 3461 §4.4 allows 100", len(id))
	}
	for i, c := range []byte(id) {
		if c < 32 || c > 126 {
			return fmt.Errorf("--envid: character %d is not printable ASCII (%q)", i+1, rune(c))
		}
	}
	return nil
}

// Stages of the SMTP procedure, in order, for QuitAfter.
const (
	stageConnect = iota
	stageBanner
	stageEHLO
	stageTLS
	stageAuth
	stageMail
	stageRcpt
	stageData
	stageSend // the whole transaction (Send)
)

// QuitAfterValues lists the accepted values of Options.QuitAfter.
var QuitAfterValues = []string{"connect", "banner", "ehlo", "tls", "auth", "mail", "rcpt", "data"}

func quitStage(s string) (int, error) {
	if s == "" {
		return stageRcpt, nil
	}
	for i, v := range QuitAfterValues {
		if strings.EqualFold(s, v) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("--quit-after %q: want one of %s", s, strings.Join(QuitAfterValues, ", "))
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
	defer finishResult(r, opts, time.Now())
	runSMTPSteps(ctx, r, target, opts)
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// smtpPlan lists the steps the procedure will run for opts, so that the
// ones that did not run can be listed as skipped.
func smtpPlan(opts Options, stage int) []string {
	var plan []string
	if stage >= stageEHLO {
		plan = append(plan, "ehlo")
	}
	if opts.TLS == wire.TLSStartTLS && stage >= stageTLS {
		plan = append(plan, "starttls", "ehlo")
	}
	if opts.User != "" && stage >= stageAuth {
		plan = append(plan, "auth")
	}
	switch {
	case stage == stageMail:
		plan = append(plan, "mail", "rset")
	case stage >= stageRcpt && len(opts.To) > 0:
		plan = append(plan, "mail")
		for range opts.To {
			plan = append(plan, "rcpt")
		}
		switch stage {
		case stageSend:
			plan = append(plan, "data", "message")
		case stageData:
			plan = append(plan, "data")
		default:
			plan = append(plan, "rset")
		}
	}
	if stage != stageData && stage != stageConnect {
		plan = append(plan, "quit")
	}
	return plan
}

func runSMTPSteps(ctx context.Context, r *Result, target string, opts Options) *Result {
	ts := r.Transcript
	ts.Notef(transcript.Info, "smtp", "connect", "mailflow check: SMTP procedure against "+target)
	if opts.Password != "" {
		ts.AddSecret(opts.Password)
	}
	stage, _ := quitStage(opts.QuitAfter)
	if opts.Send {
		stage = stageSend
	}
	r.QuitAfter = QuitAfterValues[min(stage, stageData)]
	if stage == stageSend {
		r.QuitAfter = "message"
	}
	plan := smtpPlan(opts, stage)

	if stage == stageConnect {
		return connectOnly(ctx, r, target, opts)
	}

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
		r.TLS = tlsFacts(nil, err, target, opts)
		r.Fail(exitFor(err), errKind(err), err.Error())
		r.Skip(plan...)
		return r
	}
	defer c.Close()
	r.Address = c.RemoteAddr().String()
	dropped := false // the connection was closed on purpose after 354

	// finish ends the procedure at the first failure: the exchanges so far
	// become steps, the rest of the plan is skipped, and QUIT is still
	// sent when the connection is alive (a refusal is an answer, not a
	// broken connection).
	finish := func(err error) *Result {
		r.TLS = tlsFacts(c.TLS(), err, target, opts)
		if err != nil {
			r.Fail(exitFor(err), errKind(err), err.Error())
			kind := wire.Classify(err)
			var se *smtp.Error
			var ne *smtp.NotOfferedError
			if !dropped && (errors.As(err, &se) || errors.As(err, &ne) || kind == wire.KindInput) {
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
		if c.TLS() != nil && c.TLS().Version != "" && opts.TLS == wire.TLSStartTLS && stage >= stageTLS {
			r.CapsAfter = c.Caps().Strings()
		}
		return r
	}

	if stage >= stageEHLO {
		if _, err := c.Hello(ctx, opts.Helo); err != nil {
			return finish(err)
		}
	}
	if opts.TLS == wire.TLSStartTLS && stage >= stageTLS {
		if err := c.StartTLS(ctx); err != nil {
			return finish(err)
		}
	}
	if opts.User != "" && stage >= stageAuth {
		if _, err := c.Auth(ctx, opts.User, opts.Password, opts.AuthMech); err != nil {
			return finish(err)
		}
	}
	mo := &smtp.MailOptions{Ret: strings.ToUpper(opts.Ret), EnvID: opts.EnvID, Extra: opts.MailParams}
	switch {
	case stage == stageMail:
		if _, err := c.Mail(ctx, opts.From, mo); err != nil {
			return finish(err)
		}
		if _, err := c.Rset(ctx); err != nil {
			return finish(err)
		}
	case stage >= stageRcpt && len(opts.To) > 0:
		tx := smtp.Tx{From: opts.From, To: opts.To, Mail: mo, DropAfterData: stage == stageData}
		if opts.Notify != "" || len(opts.RcptParams) > 0 {
			n, _ := smtp.ParseNotify(opts.Notify)
			tx.Rcpt = &smtp.RcptOptions{Notify: n, Extra: opts.RcptParams}
		}
		if stage == stageSend {
			r.MessageID = NewMessageID(helloDomain(opts))
			tx.Data = TestMessage(opts.From, opts.To, opts.Subject, r.MessageID, time.Now())
			if _, ok := c.Caps().Size(); ok {
				tx.Mail.Size = int64(len(tx.Data))
			}
		}
		res, err := c.Transaction(ctx, tx)
		dropped = tx.DropAfterData && res.Data.Code == 354
		if err != nil {
			return finish(err)
		}
		if dropped {
			return finish(nil)
		}
	}
	if _, err := c.Quit(ctx); err != nil {
		return finish(err)
	}
	return finish(nil)
}

// connectOnly is --quit-after connect: the TCP connection (and the TLS
// handshake for implicit TLS) and nothing else. The connection is closed
// before the banner, without QUIT: a command sent before the greeting
// breaks RFC 5321 §3.1 and is what postscreen's pregreet test catches.
func connectOnly(ctx context.Context, r *Result, target string, opts Options) *Result {
	start := time.Now()
	conn, err := wire.Dial(ctx, target, wire.Options{
		Proto: "smtp", Transcript: r.Transcript, Limits: opts.Limits, TLS: opts.TLS,
		TLSOptions: opts.TLSOptions, Network: opts.Network, Dialer: opts.Dialer,
	})
	if err != nil {
		r.AddStep(Step{Name: "connect", Err: err.Error(), ErrKind: errKind(err)})
		r.TLS = tlsFacts(nil, err, target, opts)
		r.Fail(exitFor(err), errKind(err), err.Error())
		return r
	}
	s := Step{Name: "connect", OK: true}
	s.SetRTT(time.Since(start))
	r.AddStep(s)
	r.Address = conn.RemoteAddr().String()
	r.TLS = conn.TLS()
	conn.Note(transcript.Info, "--quit-after connect: closing before the banner, without QUIT")
	conn.Close()
	return r
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
