package wizard

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/mailflow/mailflow/diag/checklist"
)

var (
	smtpLineRE = regexp.MustCompile(`^([2-5][0-9][0-9])([ -]|$)(([245]\.[0-9]{1,3}\.[0-9]{1,3})( |$))?`)
	existsRE   = regexp.MustCompile(`^\* ([0-9]+) EXISTS`)
	enhancedRE = regexp.MustCompile(`^[245]\.[0-9]{1,3}\.[0-9]{1,3}$`)
)

// normalize fills Code, Enhanced and Status from Lines when the caller left
// them empty.
func (r Reply) normalize(p Proto) Reply {
	if r.Code != 0 || r.Status != "" || len(r.Lines) == 0 {
		r.Status = strings.ToUpper(r.Status)
		return r
	}
	last := r.Lines[len(r.Lines)-1]
	switch p {
	case SMTP:
		if mm := smtpLineRE.FindStringSubmatch(last); mm != nil {
			r.Code, _ = strconv.Atoi(mm[1])
			r.Enhanced = mm[4]
		}
	case POP3:
		f := strings.Fields(r.Lines[0])
		if len(f) > 0 {
			r.Status = strings.ToUpper(f[0])
		}
	case IMAP:
		f := strings.Fields(last)
		if len(f) > 1 {
			r.Status = strings.ToUpper(f[1])
		}
	}
	return r
}

// label is the trusted, printable name of a reply for Reason sentences.
func (r Reply) label() string {
	if r.Code != 0 {
		if enhancedRE.MatchString(r.Enhanced) {
			return fmt.Sprintf("%d %s", r.Code, r.Enhanced)
		}
		return strconv.Itoa(r.Code)
	}
	switch r.Status {
	case "+OK", "-ERR", "OK", "NO", "BAD", "BYE", "PREAUTH":
		return r.Status
	}
	return "an unreadable reply"
}

// text joins the reply's lines for keyword matching (never for display).
func (r Reply) text() string { return strings.ToUpper(strings.Join(r.Lines, "\n")) }

// temporaryWords are POP3 (RFC 2449/3206) and IMAP (RFC 5530) response
// codes that mean "try again later".
var temporaryWords = []string{"[SYS/TEMP]", "[IN-USE]", "[LOGIN-DELAY]", "[UNAVAILABLE]", "[INUSE]", "[TEMPFAIL]"}

// Observe feeds the server's reply to the current step and returns the
// verdict and the step the run is now on. On success the run moves on; a
// 4xx (or a temporary POP3/IMAP code) stays for a retry; a 5xx, -ERR, NO
// or BAD stops the run on the step with a pointer to its checklist. An
// EHLO answered with 500/502 switches to HELO.
func (m *Machine) Observe(r Reply) (Verdict, Step) {
	r = r.normalize(m.proto)
	if m.Done() {
		return Verdict{Kind: VerdictRetry, Reason: "The run is finished; the reply changes nothing."}, m.Current()
	}
	s := m.steps[m.cur]
	if !s.ExpectsReply() {
		if m.closing(r) {
			m.closed, m.failed = true, true
			m.record(s.ID, VerdictFail, r.label())
			return Verdict{Kind: VerdictFail, Closing: true, Checklist: s.Checklist,
				Reason: fmt.Sprintf("The server sent %s and is closing the connection.", r.label())}, s
		}
		return Verdict{Kind: VerdictRetry, Reason: "This step expects no reply; nothing changes."}, s
	}
	m.last = r
	if strings.Contains(s.Send, "{tag}") {
		m.tag++
	}
	if m.success(s, r) {
		return m.succeed(s, r), m.Current()
	}
	v := Verdict{Checklist: s.Checklist}
	switch {
	case s.ID == "ehlo" && (r.Code == 500 || r.Code == 502):
		m.heloFallback = true
		m.record(s.ID, VerdictRetry, r.label())
		m.cur = slices.IndexFunc(m.steps, func(x Step) bool { return x.When == "helo-fallback" })
		v.Kind, v.Offer = VerdictRetry, "HELO"
		v.Reason = fmt.Sprintf("The server answered %s to EHLO: it does not speak ESMTP. Send HELO instead; it works, but no extensions (STARTTLS, AUTH) will be offered.", r.label())
		return v, m.Current()
	case m.closing(r):
		m.closed, m.failed = true, true
		v.Kind, v.Closing = VerdictFail, true
		v.Reason = fmt.Sprintf("The server answered %s and is closing the connection; try again later.", r.label())
	case r.Code >= 400 && r.Code < 500 || r.Code == 0 && hasAny(r.text(), temporaryWords):
		v.Kind = VerdictRetry
		v.Reason = fmt.Sprintf("%s is a temporary failure: the same step may work later (RFC 5321 section 4.2.1 for SMTP).", r.label())
	case r.Code >= 500 || r.Code == 0:
		m.failed = true
		v.Kind = VerdictFail
		v.Reason = fmt.Sprintf("%s at %q is a permanent failure: the run stops here. Open the %s checklist for the likely reasons.", r.label(), s.Title, s.Checklist)
	default:
		m.failed = true
		v.Kind = VerdictFail
		v.Reason = fmt.Sprintf("%s is not what this step expects (%s).", r.label(), strings.Join(s.Expect, " or "))
	}
	m.record(s.ID, v.Kind, r.label())
	return v, m.Current()
}

func (m Machine) closing(r Reply) bool {
	return r.Code == 421 || r.Status == "BYE"
}

func hasAny(s string, words []string) bool {
	return slices.ContainsFunc(words, func(w string) bool { return strings.Contains(s, w) })
}

func (m Machine) success(s Step, r Reply) bool {
	if r.Code != 0 {
		return slices.Contains(s.Expect, strconv.Itoa(r.Code))
	}
	return r.Status != "" && slices.Contains(s.Expect, r.Status)
}

func (m *Machine) succeed(s Step, r Reply) Verdict {
	v := Verdict{Kind: VerdictOK, Reason: fmt.Sprintf("%s: %s", r.label(), s.Success)}
	switch s.ID {
	case "connect":
		if m.proto == IMAP {
			m.parseIMAPCaps(r)
			if r.Status == "PREAUTH" {
				m.authenticated = true
			}
		}
	case "ehlo", "ehlo-tls", "helo":
		m.caps = caps{}
		if s.ID != "helo" {
			m.parseEHLO(r)
		}
		if m.p.UseTLS && !m.tlsActive && m.caps.seen && !m.caps.starttls {
			v.Reason += " Note: STARTTLS is required but not offered."
		}
	case "starttls", "stls":
		m.tlsStarted = true
		v.StartTLS = true
		v.Reason = fmt.Sprintf("%s: start the TLS handshake now; nothing more is sent in clear text.", r.label())
	case "auth", "auth-user":
		if c := challenge(r); c != "" {
			v.Reason = fmt.Sprintf("%s: the server asks for %q (base64-decoded).", r.label(), c)
		}
	case "auth-pass", "pass", "login":
		m.authenticated = true
		if m.proto == IMAP {
			m.parseIMAPCaps(r)
		}
	case "stat":
		if f := strings.Fields(firstLine(r)); len(f) >= 2 {
			if n, err := strconv.Atoi(f[1]); err == nil && n >= 0 {
				m.msgs = n
			}
		}
	case "capability":
		m.parseIMAPCaps(r)
	case "select":
		for _, l := range r.Lines {
			if mm := existsRE.FindStringSubmatch(l); mm != nil {
				m.msgs, _ = strconv.Atoi(mm[1])
			}
		}
	case "data":
		m.inData = true
	case "dot":
		m.inData = false
	case "quit", "logout":
		m.closed = true
		v.Closing = true
	}
	m.failed = false
	m.record(s.ID, VerdictOK, r.label())
	m.advance()
	return v
}

func firstLine(r Reply) string {
	if len(r.Lines) == 0 {
		return ""
	}
	return r.Lines[0]
}

var printableWord = regexp.MustCompile(`^[A-Za-z: ]{1,20}$`)

// challenge decodes an AUTH LOGIN 334 challenge ("VXNlcm5hbWU6" is
// "Username:") when it decodes to a short plain word; anything else is
// not shown, because it is server data.
func challenge(r Reply) string {
	f := strings.Fields(firstLine(r))
	if len(f) < 2 {
		return ""
	}
	b, err := base64.StdEncoding.DecodeString(f[1])
	if err != nil || !printableWord.Match(b) {
		return ""
	}
	return string(b)
}

func (m *Machine) parseEHLO(r Reply) {
	m.caps.seen = true
	for i, l := range r.Lines {
		if i == 0 || len(l) < 4 {
			continue // the first line is the server's name, not an extension
		}
		f := strings.Fields(strings.ToUpper(l[4:]))
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "STARTTLS":
			m.caps.starttls = true
		case "DSN":
			m.caps.dsn = true
		case "AUTH":
			m.caps.auth = append(m.caps.auth, f[1:]...)
		case "SIZE":
			if len(f) > 1 {
				m.caps.size, _ = strconv.ParseInt(f[1], 10, 64)
			}
		}
	}
}

func (m *Machine) parseIMAPCaps(r Reply) {
	for _, l := range r.Lines {
		u := strings.ToUpper(l)
		i := strings.Index(u, "CAPABILITY ")
		if i < 0 {
			continue
		}
		m.caps = caps{seen: true}
		for _, w := range strings.Fields(u[i+len("CAPABILITY "):]) {
			end := strings.HasSuffix(w, "]") // a [CAPABILITY ...] response code ends here
			w = strings.TrimSuffix(w, "]")
			switch {
			case w == "STARTTLS":
				m.caps.starttls = true
			case w == "LOGINDISABLED":
				m.caps.loginDisabled = true
			case strings.HasPrefix(w, "AUTH="):
				m.caps.auth = append(m.caps.auth, w[5:])
			}
			if end {
				break
			}
		}
	}
}

// ObserveMX feeds the result of the MX lookup (hosts sorted by preference,
// lowest first). No hosts means the domain's own address is used (RFC 5321
// section 5.1); a single "." is a null MX (RFC 7505) and stops the run.
func (m *Machine) ObserveMX(hosts []string, err error) (Verdict, Step) {
	s := m.Current()
	if m.Done() || s.Action != ActLookupMX {
		return Verdict{Kind: VerdictRetry, Reason: "The run is not at the MX lookup."}, s
	}
	v := Verdict{Checklist: checklist.StepConnect}
	switch {
	case err != nil:
		m.failed = true
		v.Kind, v.Reason = VerdictFail, fmt.Sprintf("The MX lookup failed (%v); check the domain name and your DNS server.", err)
	case len(hosts) == 1 && (hosts[0] == "." || hosts[0] == ""):
		m.failed = true
		v.Kind, v.Reason = VerdictFail, "The domain publishes a null MX (RFC 7505): it accepts no mail at all."
	case len(hosts) == 0:
		m.host = domainOf(m.p.To)
		v.Kind, v.Reason, v.Checklist = VerdictOK, "No MX record: mail goes to the domain's own address (RFC 5321 section 5.1).", ""
	default:
		m.host = strings.TrimSuffix(hosts[0], ".")
		v.Kind, v.Checklist = VerdictOK, ""
		v.Reason = fmt.Sprintf("%d mail server(s) found; the one with the lowest preference is tried first.", len(hosts))
	}
	m.record(s.ID, v.Kind, "")
	if v.Kind == VerdictOK {
		m.failed = false
		m.advance()
	}
	return v, m.Current()
}

// Sent tells the machine that a step that gets no reply is complete: the
// header, blank and body lines of DATA were sent, or the TLS handshake
// succeeded.
func (m *Machine) Sent() (Verdict, Step) {
	s := m.Current()
	if m.Done() || s.ExpectsReply() || s.Action == ActLookupMX || s.Action == ActConnect {
		return Verdict{Kind: VerdictRetry, Reason: "This step waits for a reply; call Observe with it."}, s
	}
	v := Verdict{Kind: VerdictOK, Reason: s.Success}
	if s.Action == ActHandshake {
		m.tlsActive = true
		// RFC 3207 section 4.2: after TLS the client must forget what it
		// learnt before and ask again.
		m.caps = caps{}
		v.Reason = "TLS is active: everything from now on is encrypted."
	}
	m.failed = false
	m.record(s.ID, VerdictOK, "")
	m.advance()
	return v, m.Current()
}

// ObserveFailure reports a failure that is not a reply: the connection was
// refused or timed out, the TLS handshake failed, or the server closed the
// connection. reason is the caller's short description (shown as is). The
// run stops on the step.
func (m *Machine) ObserveFailure(reason string) (Verdict, Step) {
	s := m.Current()
	cl := s.Checklist
	switch s.Action {
	case ActConnect:
		cl = checklist.StepConnect
	case ActHandshake:
		cl = checklist.StepSTARTTLS
	}
	m.failed = true
	if s.Action != ActLookupMX {
		m.closed = true
	}
	m.record(s.ID, VerdictFail, "")
	return Verdict{Kind: VerdictFail, Checklist: cl, Closing: m.closed,
		Reason: fmt.Sprintf("%s failed: %s. Open the %s checklist for the likely reasons.", s.Title, reason, cl)}, s
}

// Skip leaves out the current step, and the rest of its group (skipping
// STARTTLS skips the handshake and the second EHLO; skipping AUTH skips
// the user name and password), and returns the new current step.
func (m *Machine) Skip() Step {
	if m.cur >= len(m.steps) {
		return m.Current()
	}
	s := m.steps[m.cur]
	m.record(s.ID, "skipped", "")
	m.failed = false
	m.cur++
	for s.Group != "" && m.cur < len(m.steps) && m.steps[m.cur].Group == s.Group {
		m.record(m.steps[m.cur].ID, "skipped", "")
		m.cur++
	}
	m.settle()
	return m.Current()
}

// Quit jumps to the goodbye step (QUIT, LOGOUT), for example after a
// failure. It returns false inside SMTP DATA, where a QUIT line would
// become part of the message (the only ways out are the final dot or
// closing the connection), and after the connection was closed.
func (m *Machine) Quit() bool {
	if m.inData || m.closed {
		return false
	}
	i := slices.IndexFunc(m.steps, func(s Step) bool { return s.ID == "quit" || s.ID == "logout" })
	if i < 0 || i < m.cur {
		return false
	}
	for j := m.cur; j < i; j++ {
		if m.applies(j) {
			m.record(m.steps[j].ID, "skipped", "")
		}
	}
	m.failed = false
	m.cur = i
	return true
}

// summary turns the results into lines for the evaluate step: one per step
// that ran, then a conclusion.
func (m Machine) summary() []string {
	var out []string
	var firstBad *Result
	for i, r := range m.results {
		mark := map[VerdictKind]string{VerdictOK: "ok", VerdictFail: "FAIL", VerdictRetry: "retry", "skipped": "skipped"}[r.Verdict]
		line := fmt.Sprintf("%-10s %-7s %s", r.StepID, mark, r.Code)
		out = append(out, strings.TrimRight(line, " "))
		if r.Verdict == VerdictFail && firstBad == nil {
			firstBad = &m.results[i]
		}
	}
	switch {
	case firstBad != nil:
		out = append(out, fmt.Sprintf("The run failed at %s (%s); see the checklist for that step.", firstBad.StepID, firstBad.Code))
	case m.proto == SMTP && slices.ContainsFunc(m.results, func(r Result) bool { return r.StepID == "dot" && r.Verdict == VerdictOK }):
		msg := "The message was accepted for delivery (250 after the final dot)."
		if m.p.Notify != "" && m.caps.dsn {
			msg += " A delivery report should reach the sender."
		}
		out = append(out, msg)
	case m.authenticated:
		out = append(out, "Logged in and read the mailbox without errors.")
	default:
		out = append(out, "The run ended without an error, but parts of it were skipped.")
	}
	return out
}

// Evidence returns what the run has learnt, as checklist evidence: the last
// reply, capabilities, TLS and login state, the HELO name and the message
// size. The caller adds what only it knows (DNS details, the connect
// outcome, timings, TLS error reasons, the explainer's category).
func (m Machine) Evidence() checklist.Evidence {
	ev := checklist.Evidence{
		Port:          m.p.Port,
		TLSActive:     m.tlsActive,
		Authenticated: m.authenticated,
		Closed:        m.closed && m.last.Code == 0 && m.last.Status == "",
		Caps: checklist.Capabilities{
			Seen: m.caps.seen, STARTTLS: m.caps.starttls, Auth: slices.Clone(m.caps.auth),
			Size: m.caps.size, LoginDisabled: m.caps.loginDisabled,
		},
		Reply: checklist.Reply{Code: m.last.Code, Enhanced: m.last.Enhanced, Status: m.last.Status, Text: strings.Join(m.last.Lines, "\n")},
	}
	if m.proto == SMTP {
		ev.Helo = m.p.Helo
		ev.MessageSize = int64(len("Subject: " + m.p.Subject + "\r\n\r\n" + m.p.Body + "\r\n"))
		if m.p.UseAuth {
			ev.AuthMechanism = "LOGIN"
		}
	}
	return ev
}
