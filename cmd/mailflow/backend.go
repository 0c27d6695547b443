package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailflow/mailflow/diag/checklist"
	"github.com/mailflow/mailflow/diag/mx"
	"github.com/mailflow/mailflow/diag/replycode"
	"github.com/mailflow/mailflow/session/imap"
	"github.com/mailflow/mailflow/session/pop3"
	"github.com/mailflow/mailflow/session/smtp"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
	"github.com/mailflow/mailflow/tui"
)

// This file adapts diag and session to tui.Backend: the MX picture with a
// banner probe per address, sessions over the recording clients with a
// journal, the reply explainer and the failure checklist.

func init() {
	newBackend = func(cfg tuiBackendConfig) tui.Backend { return newRealBackend(cfg) }
	exportTranscript = writeExport
}

// Probe limits: a banner probe is a quick look, not a delivery attempt.
const (
	probeTimeout     = 4 * time.Second
	probeConcurrency = 4
)

// realBackend is the tui.Backend built on the real packages.
type realBackend struct {
	cfg tuiBackendConfig
	now func() time.Time
	// stateDir returns where journals go; tests replace it.
	stateDir func() (string, error)
}

func newRealBackend(cfg tuiBackendConfig) *realBackend {
	b := &realBackend{cfg: cfg, now: time.Now, stateDir: transcript.StateDir}
	if cfg.StateDir != "" {
		b.stateDir = func() (string, error) { return cfg.StateDir, nil }
	}
	return b
}

// writeExport is the TUI's export hook: an atomic write in the chosen
// format. The dialog already asked before overwriting.
func writeExport(path, format string, meta transcript.Meta, es []transcript.Entry) error {
	f, err := transcript.ParseFormat(format)
	if err != nil {
		return err
	}
	return transcript.WriteFileAtomic(path, f, meta, es, true)
}

// resolver returns the DNS client: --resolver, or the system's.
func (b *realBackend) resolver() (*mx.Client, error) {
	var c *mx.Client
	if b.cfg.Resolver != "" {
		c = mx.NewClient(b.cfg.Resolver)
	} else {
		var err error
		if c, err = mx.NewSystemClient(""); err != nil {
			return nil, err
		}
	}
	c.Timeout, c.Retries = 2*time.Second, 1
	return c, nil
}

// mxRows keeps the rows of one lookup; the lookup's callbacks and the
// probes update them from several goroutines.
type mxRows struct {
	mu    sync.Mutex
	rows  map[string]*tui.MXRow
	ptr   map[string]map[string]string // host -> address -> verdict text
	ptrOK map[string]map[string]bool
	probe map[string]map[string]probeResult
	emit  func(tui.MXEvent)
}

type probeResult struct {
	text    string
	verdict tui.Verdict
}

// send emits a copy of host's row (the feed copies it again; the copy
// here keeps the map's row out of other goroutines' hands).
func (r *mxRows) send(host string) {
	row := *r.rows[host]
	row.Addrs = slices.Clone(row.Addrs)
	r.emit(tui.MXEvent{Row: &row})
}

func (r *mxRows) update(host string, f func(*tui.MXRow)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	row, ok := r.rows[host]
	if !ok {
		return
	}
	f(row)
	r.send(host)
}

// LookupMX draws the MX picture of domain and probes each address's
// banner. It returns when the lookup and every probe are done.
func (b *realBackend) LookupMX(ctx context.Context, domain string, emit func(tui.MXEvent)) error {
	res, err := b.resolver()
	if err != nil {
		emit(tui.MXEvent{Problem: "no DNS resolver: " + err.Error() + " (use --resolver HOST:PORT)"})
		return err
	}
	rs := &mxRows{rows: map[string]*tui.MXRow{}, ptr: map[string]map[string]string{},
		ptrOK: map[string]map[string]bool{}, probe: map[string]map[string]probeResult{}, emit: emit}
	var probes sync.WaitGroup
	sem := make(chan struct{}, probeConcurrency)
	startProbe := func(host, addr string) {
		probes.Add(1)
		go func() {
			defer probes.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			pr := b.probe(ctx, host, addr)
			rs.update(host, func(row *tui.MXRow) {
				if rs.probe[host] == nil {
					rs.probe[host] = map[string]probeResult{}
				}
				rs.probe[host][addr] = pr
				row.Probe, row.ProbeVerdict = combineProbes(rs.probe[host])
			})
		}()
	}
	onEvent := func(ev mx.Event) {
		switch ev.Kind {
		case mx.EventMX:
			switch {
			case ev.Err != nil:
				emit(tui.MXEvent{Problem: "MX lookup: " + ev.Err.Message})
			case ev.NullMX:
				emit(tui.MXEvent{NullMX: true, Problem: "null MX (MX 0 .): the domain accepts no mail (RFC 7505)"})
			case ev.ImplicitMX:
				emit(tui.MXEvent{Problem: "no MX record: mail goes to the domain's own address (implicit MX)"})
			}
			rs.mu.Lock()
			for _, h := range ev.MX {
				rs.rows[h.Host] = &tui.MXRow{Pref: int(h.Preference), Host: h.Host}
				rs.send(h.Host)
			}
			rs.mu.Unlock()
		case mx.EventHost:
			var addrs []string
			for _, a := range ev.Addresses {
				addrs = append(addrs, a.String())
			}
			rs.update(ev.Host, func(row *tui.MXRow) {
				row.Addrs = addrs
				if ev.Err != nil {
					row.RDNS, row.RDNSVerdict = "no address", tui.Bad
					row.Probe, row.ProbeVerdict = "not probed", tui.Bad
				}
			})
			for _, p := range ev.Problems {
				emit(tui.MXEvent{Problem: p.Host + ": " + p.Message})
			}
			if ev.Err == nil {
				for _, addr := range b.probeAddrs(ev.Host, ev.Addresses) {
					startProbe(ev.Host, addr)
				}
			}
		case mx.EventPTR:
			rs.update(ev.Host, func(row *tui.MXRow) {
				if rs.ptr[ev.Host] == nil {
					rs.ptr[ev.Host], rs.ptrOK[ev.Host] = map[string]string{}, map[string]bool{}
				}
				a := ev.Addr.String()
				switch {
				case ev.Err != nil || len(ev.PTR) == 0:
					rs.ptr[ev.Host][a] = "no PTR"
				case ev.FCrDNS:
					rs.ptr[ev.Host][a] = ev.PTR[0]
				default:
					rs.ptr[ev.Host][a] = ev.PTR[0] + " (not confirmed)"
				}
				rs.ptrOK[ev.Host][a] = ev.Err == nil && ev.FCrDNS
				row.RDNS, row.RDNSVerdict = combinePTR(rs.ptr[ev.Host], rs.ptrOK[ev.Host])
			})
		case mx.EventDone:
			if ev.Picture != nil {
				for _, p := range ev.Picture.Problems {
					emit(tui.MXEvent{Problem: p.Message})
				}
			}
		}
	}
	_, err = mx.Lookup(ctx, domain, mx.Options{Resolver: res, OnEvent: onEvent})
	probes.Wait()
	if err != nil {
		return fmt.Errorf("mx: %w", err)
	}
	return nil
}

// probeAddrs returns where to probe host: the lab's endpoint for the
// host when one is mapped, else port 25 of each address.
func (b *realBackend) probeAddrs(host string, addrs []netip.Addr) []string {
	if b.cfg.HostAddr != nil {
		if a, ok := b.cfg.HostAddr(host); ok {
			return []string{a}
		}
	}
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, net.JoinHostPort(a.String(), "25"))
	}
	return out
}

// probe dials addr, reads the greeting and says goodbye, recording into
// a throwaway transcript.
func (b *realBackend) probe(ctx context.Context, host, addr string) probeResult {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	start := time.Now()
	c, err := smtp.Dial(ctx, addr, smtp.Options{
		Transcript: transcript.NewStore(),
		Limits:     wire.Limits{ConnectTimeout: probeTimeout, StepTimeout: probeTimeout},
		TLSOptions: wire.TLSOptions{ServerName: host, RootCAs: b.cfg.RootCAs},
		LocalName:  "probe.invalid",
	})
	if err != nil {
		var se *smtp.Error
		if errors.As(err, &se) && se.Reply.Code != 0 {
			return probeResult{text: ansiCutPlain(transcript.PrintableString(se.Reply.String()), 40), verdict: tui.Bad}
		}
		return probeResult{text: probeFailure(err), verdict: tui.Bad}
	}
	rtt := time.Since(start)
	g := c.Greeting()
	qctx, qcancel := context.WithTimeout(ctx, time.Second)
	_, _ = c.Quit(qctx) // a polite goodbye; the verdict is the greeting
	qcancel()
	c.Close()
	return probeResult{text: fmt.Sprintf("%d in %s", g.Code, rtt.Round(time.Millisecond)), verdict: tui.Good}
}

// probeFailure names a failed probe the way people say it.
func probeFailure(err error) string {
	switch wire.Classify(err) {
	case wire.KindRefused:
		return "refused"
	case wire.KindTimeout:
		return "timed out"
	case wire.KindUnreachable:
		return "unreachable"
	case wire.KindReset:
		return "reset"
	case wire.KindClosed:
		return "closed"
	case wire.KindCanceled:
		return "cancelled"
	}
	return "failed"
}

func combineProbes(m map[string]probeResult) (string, tui.Verdict) {
	keys := slices.Sorted(mapKeys(m))
	var parts []string
	v := tui.Good
	for _, k := range keys {
		parts = append(parts, m[k].text)
		v = max(v, m[k].verdict)
	}
	return strings.Join(parts, ", "), v
}

func combinePTR(names map[string]string, ok map[string]bool) (string, tui.Verdict) {
	keys := slices.Sorted(mapKeys(names))
	var parts []string
	v := tui.Good
	for _, k := range keys {
		parts = append(parts, names[k])
		switch {
		case names[k] == "no PTR":
			v = tui.Bad
		case !ok[k]:
			v = max(v, tui.Warn)
		}
	}
	return strings.Join(parts, ", "), v
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func ansiCutPlain(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// defaultPort is the protocol's port for a TLS mode.
func defaultPort(proto, tlsMode string) string {
	implicit := tlsMode == "implicit"
	switch {
	case proto == "pop3" && implicit:
		return "995"
	case proto == "pop3":
		return "110"
	case proto == "imap" && implicit:
		return "993"
	case proto == "imap":
		return "143"
	case implicit:
		return "465"
	}
	return "25"
}

// dialAddr says where to connect for t: a lab endpoint standing in for
// an MX host's port 25, the address given, or the host on the default
// port.
func (b *realBackend) dialAddr(t tui.Target) string {
	addr := t.Addr
	_, port, _ := net.SplitHostPort(addr)
	if b.cfg.HostAddr != nil && t.Protocol == "smtp" && (addr == "" || port == "25") {
		if a, ok := b.cfg.HostAddr(t.Host); ok {
			return a
		}
	}
	if addr == "" {
		addr = net.JoinHostPort(t.Host, defaultPort(t.Protocol, t.TLS))
	}
	return addr
}

// openStore makes the session's transcript with a journal sink. A state
// directory that cannot be written costs the journal, not the session:
// a warning note says so.
func (b *realBackend) openStore(proto, target string) (*transcript.Store, *transcript.Journal) {
	var j *transcript.Journal
	dir, err := b.stateDir()
	if err == nil {
		j, err = transcript.OpenJournal(dir, target, b.now())
	}
	if err != nil {
		st := transcript.NewStore()
		st.Notef(transcript.Warning, proto, "journal", "no journal for this session: "+err.Error())
		return st, nil
	}
	st := transcript.NewStore(transcript.WithSink(j))
	st.Notef(transcript.Info, proto, "journal", "journal: "+j.Path())
	return st, j
}

// Connect opens a session to t and reads the greeting.
func (b *realBackend) Connect(ctx context.Context, t tui.Target) (tui.Session, error) {
	addr := b.dialAddr(t)
	st, j := b.openStore(t.Protocol, addr)
	fail := func(err error) (tui.Session, error) {
		st.Close()
		if j != nil {
			j.Close()
		}
		return nil, err
	}
	mode := wire.TLSNone
	if t.TLS == "implicit" {
		mode = wire.TLSImplicit
	}
	tlsOpts := wire.TLSOptions{ServerName: t.Host, RootCAs: b.cfg.RootCAs, CAFile: b.cfg.CAFile, Insecure: b.cfg.Insecure}
	if ip := net.ParseIP(t.Host); ip != nil || t.Host == "" {
		tlsOpts.ServerName = "" // the dialled address's host is used
	}
	s := &session{proto: t.Protocol, st: st, journal: j}
	switch t.Protocol {
	case "smtp":
		c, err := smtp.Dial(ctx, addr, smtp.Options{Transcript: st, TLS: mode, TLSOptions: tlsOpts, LocalName: b.cfg.HELO})
		if err != nil {
			var se *smtp.Error
			if errors.As(err, &se) && se.Command == "greeting" && se.Reply.Code != 0 {
				// The server answered and refused: a session with that
				// greeting lets the wizard explain it. The client has
				// already closed the connection.
				s.greeting, s.closed = se.Reply.Transcript(), true
				return s, nil
			}
			return fail(err)
		}
		s.smtp, s.greeting = c, c.Greeting().Transcript()
	case "pop3":
		c, err := pop3.Dial(ctx, addr, wire.Options{Proto: "pop3", Transcript: st, TLS: mode, TLSOptions: tlsOpts})
		if err != nil {
			return fail(err)
		}
		s.pop3, s.greeting = c, pop3Reply(c.Greeting())
	case "imap":
		c, err := imap.Dial(ctx, addr, wire.Options{Proto: "imap", Transcript: st, TLS: mode, TLSOptions: tlsOpts})
		if err != nil {
			return fail(err)
		}
		s.imap, s.greeting = c, imapReply(nil, c.Greeting())
	default:
		return fail(fmt.Errorf("tui: unknown protocol %q", t.Protocol))
	}
	return s, nil
}

// session is one open conversation over a recording client.
type session struct {
	proto    string
	st       *transcript.Store
	journal  *transcript.Journal
	greeting transcript.Reply
	smtp     *smtp.Client
	pop3     *pop3.Client
	imap     *imap.Client
	closed   bool // the server refused at the greeting
	// tlsErr is the handshake error of an upgrade the client started on
	// its own after a positive answer to STARTTLS/STLS; StartTLS reports
	// it, so that the wizard sees the command accepted and the handshake
	// failed as two steps.
	tlsErr    error
	closeOnce sync.Once
}

func (s *session) Transcript() *transcript.Store { return s.st }
func (s *session) Greeting() transcript.Reply    { return s.greeting }

// isTLSCommand reports whether line asks for a TLS upgrade.
func isTLSCommand(proto, line string) bool {
	f := strings.Fields(strings.ToUpper(line))
	switch {
	case len(f) == 0:
		return false
	case proto == "imap":
		return len(f) >= 2 && f[1] == "STARTTLS"
	case proto == "pop3":
		return f[0] == "STLS"
	}
	return f[0] == "STARTTLS"
}

// Send writes lines with the client's raw mode and returns the reply to
// the last. SMTP's raw mode knows DATA: the message lines it sends get no
// reply (a zero Reply) until the line ".", which gets the final one.
func (s *session) Send(ctx context.Context, lines ...string) (transcript.Reply, error) {
	if s.closed {
		return transcript.Reply{}, errors.New("tui: the server closed the connection after its greeting")
	}
	var r transcript.Reply
	var err error
	for _, l := range lines {
		if r, err = s.do(ctx, l); err != nil {
			break
		}
	}
	if err != nil && r.OK && len(lines) == 1 && isTLSCommand(s.proto, lines[0]) {
		s.tlsErr = err
		return r, nil
	}
	return r, err
}

func (s *session) do(ctx context.Context, line string) (transcript.Reply, error) {
	switch {
	case s.smtp != nil:
		r, err := s.smtp.Do(ctx, line)
		if r.Code == 0 {
			return transcript.Reply{}, err
		}
		return r.Transcript(), err
	case s.pop3 != nil:
		resp, err := s.pop3.Do(ctx, line)
		var pe *pop3.Error
		if resp != nil && errors.As(err, &pe) {
			err = nil // -ERR is an answer, not a failure of the session
		}
		if resp == nil {
			return transcript.Reply{}, err
		}
		return pop3Reply(resp), err
	case s.imap != nil:
		comp, err := s.imap.Do(ctx, line)
		var ie *imap.Error
		if comp != nil && comp.Final != nil && errors.As(err, &ie) {
			err = nil // NO and BAD are answers
		}
		if comp == nil || comp.Final == nil {
			return transcript.Reply{}, err
		}
		return imapReply(comp.Untagged, comp.Final), err
	}
	return transcript.Reply{}, errors.New("tui: no connection")
}

// pop3Reply is the neutral form of a POP3 response: the status line
// rebuilt from its parts, then any body lines.
func pop3Reply(r *pop3.Response) transcript.Reply {
	if r == nil {
		return transcript.Reply{}
	}
	status := r.Status
	if r.Code != "" {
		status += " [" + r.Code + "]"
	}
	if r.Text != "" {
		status += " " + r.Text
	}
	return *r.Reply(append([]string{status}, r.Lines...))
}

// imapReply is the neutral form of an IMAP completion: the untagged
// lines, then the tagged one.
func imapReply(untagged []*imap.Response, final *imap.Response) transcript.Reply {
	if final == nil {
		return transcript.Reply{}
	}
	var lines []string
	for _, u := range untagged {
		lines = append(lines, u.Lines...)
	}
	lines = append(lines, final.Lines...)
	code := final.Status
	if final.Tag == "+" {
		code = "+"
	}
	return transcript.Reply{
		Code: code, RespCode: strings.TrimSpace(final.Code + " " + final.CodeArg), Lines: lines,
		OK: code == "+" || code == "OK" || code == "PREAUTH",
	}
}

// tlsInfo returns the TLS facts of the connection.
func (s *session) tlsInfo() *wire.TLSInfo {
	switch {
	case s.smtp != nil:
		return s.smtp.TLS()
	case s.pop3 != nil:
		return s.pop3.Conn().TLS()
	case s.imap != nil:
		return s.imap.Conn().TLS()
	}
	return nil
}

// StartTLS reports how the upgrade went. The clients upgrade in place as
// soon as the server accepts STARTTLS/STLS (the command went through
// Send), so this only reports the handshake's outcome.
func (s *session) StartTLS(ctx context.Context) error {
	if err := s.tlsErr; err != nil {
		s.tlsErr = nil
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	info := s.tlsInfo()
	switch {
	case info == nil:
		return errors.New("tls: no handshake took place: the server did not accept the upgrade")
	case !info.Verified && !info.Insecure:
		return &wire.VerifyError{Reason: info.VerifyReason, Err: errors.New(info.VerifyError)}
	}
	return nil
}

// Close ends the connection without a goodbye, closes the transcript and
// the journal. It is safe to call more than once.
func (s *session) Close() error {
	var err error
	s.closeOnce.Do(func() {
		switch {
		case s.smtp != nil:
			err = s.smtp.Close()
		case s.pop3 != nil:
			err = s.pop3.Close()
		case s.imap != nil:
			err = s.imap.Close()
		}
		s.st.Close()
		if s.journal != nil {
			if jerr := s.journal.Close(); err == nil {
				err = jerr
			}
		}
	})
	return err
}

// Explain runs the reply-code explainer.
func (b *realBackend) Explain(protocol, command string, r transcript.Reply) tui.Explanation {
	ex := replycode.Explain(replycode.Input{Protocol: replycode.Protocol(protocol), Command: command, Lines: r.Lines})
	return tui.Explanation{
		Command: command, Code: ex.Code, Enhanced: ex.EnhancedCode, Class: string(ex.Class),
		Category: string(ex.Category), Summary: ex.Summary, Causes: ex.Causes, NextSteps: ex.NextSteps,
		Decoded: strings.Join(ex.Decoded, " / "), Lines: r.Lines,
	}
}

// tlsReasons maps wire's verification reasons onto the checklist's.
var tlsReasons = map[string]checklist.TLSReason{
	"expired": checklist.TLSExpired, "not-yet-valid": checklist.TLSExpired,
	"unknown-authority": checklist.TLSUnknownAuthority, "name-mismatch": checklist.TLSNameMismatch,
}

// connectOutcomes maps transport failures onto the checklist's connect
// outcomes.
var connectOutcomes = map[wire.Kind]checklist.ConnectOutcome{
	wire.KindRefused: checklist.ConnectRefused, wire.KindTimeout: checklist.ConnectTimeout,
	wire.KindReset: checklist.ConnectReset, wire.KindUnreachable: checklist.ConnectUnreachable,
	wire.KindDNS: checklist.ConnectDNSError,
}

// evidence adds what the session layer knows to what the wizard learnt.
func (b *realBackend) evidence(e tui.Evidence) checklist.Evidence {
	ev := e.Facts
	if _, p, err := net.SplitHostPort(b.dialAddr(e.Target)); err == nil && e.Target.Host != "" {
		ev.Port, _ = strconv.Atoi(p)
	}
	atConnect := e.Step == string(checklist.StepConnect) || e.Step == string(checklist.StepBanner)
	if e.Err != nil {
		kind := wire.Classify(e.Err)
		var ve *wire.VerifyError
		switch {
		case errors.As(e.Err, &ve):
			ev.TLSError = tlsReasons[ve.Reason]
			if ev.TLSError == "" {
				ev.TLSError = checklist.TLSHandshake
			}
		case kind == wire.KindTLS || kind == wire.KindTLSVerify:
			ev.TLSError = checklist.TLSHandshake
		}
		if ev.TLSError != "" && atConnect {
			ev.Connect = checklist.ConnectTLSError
		}
		if o, ok := connectOutcomes[kind]; ok && atConnect && ev.Connect == "" {
			ev.Connect = o
		}
		if !atConnect && (kind == wire.KindClosed || kind == wire.KindReset) {
			ev.Closed = true
		}
		switch mx.KindOf(e.Err) {
		case mx.KindNXDomain:
			ev.DNS.DomainExists = checklist.FactNo
		case mx.KindNoData:
			ev.DNS.MXFound = checklist.FactNo
		}
	}
	if ev.Connect == "" && (e.Reply != nil || !atConnect) && e.Target.Host != "" {
		ev.Connect = checklist.ConnectOK
	}
	if r := e.Reply; r != nil {
		cr := checklist.Reply{Enhanced: r.Enhanced, Text: strings.Join(r.Lines, "\n")}
		if n, err := strconv.Atoi(r.Code); err == nil {
			cr.Code = n
		} else {
			cr.Status = r.Code
		}
		cr.Category = b.Explain(e.Protocol, e.Command, *r).Category
		ev.Reply = cr
	}
	return ev
}

// Checklist evaluates the failure checklist of ev.Step.
func (b *realBackend) Checklist(e tui.Evidence) []tui.ChecklistItem {
	items := checklist.Evaluate(checklist.Step(e.Step), b.evidence(e))
	out := make([]tui.ChecklistItem, 0, len(items))
	for _, it := range items {
		st := tui.StatusUnknown
		switch it.Status {
		case checklist.Likely:
			st = tui.StatusLikely
		case checklist.RuledOut:
			st = tui.StatusRuledOut
		}
		out = append(out, tui.ChecklistItem{Title: it.Title, Status: st, Why: it.Why, Check: it.Check})
	}
	return out
}
