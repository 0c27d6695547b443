package wizard

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Severity says whether a practice-mode hint blocks sending.
type Severity string

// Hint severities.
const (
	SeverityError   Severity = "error"   // the line is wrong: do not send it
	SeverityWarning Severity = "warning" // the line may work, but something is off
)

// Hint is one remark about a line typed in practice mode.
type Hint struct {
	Severity Severity
	// Code is a stable name for the mistake, such as "missing-colon".
	Code string
	// Message is one or two sentences for a junior operator.
	Message string
}

// Blocks reports whether any hint is an error, so the line should not be
// sent as typed.
func Blocks(hints []Hint) bool {
	return slices.ContainsFunc(hints, func(h Hint) bool { return h.Severity == SeverityError })
}

func errHint(code, format string, a ...any) Hint {
	return Hint{Severity: SeverityError, Code: code, Message: fmt.Sprintf(format, a...)}
}

func warnHint(code, format string, a ...any) Hint {
	return Hint{Severity: SeverityWarning, Code: code, Message: fmt.Sprintf(format, a...)}
}

// CheckTyped looks at a line typed by hand for step before it is sent and
// returns the mistakes it spots, errors first. An empty result means the
// line looks right; commands are case-insensitive, so lower case is fine
// (RFC 5321 section 2.4).
func CheckTyped(step Step, line string) []Hint {
	line = strings.TrimRight(line, "\r\n")
	var hs []Hint
	switch step.Input {
	case InputHeader:
		hs = checkHeader(line)
	case InputBlank:
		if line != "" {
			hs = append(hs, warnHint("not-blank", "This step is the empty line between headers and body. Text here is read as another header line."))
		}
	case InputBody:
		hs = checkBody(line)
	case InputEnd:
		if line != "." {
			hs = append(hs, errHint("not-dot", "End the message with a line holding only a dot; anything else is more message text."))
		}
	case InputCommand:
		switch step.Proto {
		case SMTP:
			hs = checkSMTP(step, line)
		case POP3:
			hs = checkPOP3(step, line)
		case IMAP:
			hs = checkIMAP(step, line)
		}
	}
	sort.SliceStable(hs, func(i, j int) bool { return hs[i].Severity == SeverityError && hs[j].Severity != SeverityError })
	return hs
}

func checkHeader(line string) []Hint {
	switch {
	case line == "":
		return []Hint{warnHint("early-blank", "An empty line here ends the headers; the Subject header would be missing.")}
	case strings.HasPrefix(line, "."):
		return checkBody(line)
	case !headerRE.MatchString(line):
		return []Hint{errHint("header-syntax", "A header line is Name: value, such as \"Subject: Test\" (RFC 5322 section 2.2).")}
	}
	return nil
}

func checkBody(line string) []Hint {
	switch {
	case line == ".":
		return []Hint{errHint("early-end", "A line with only a dot ends the message now. Type \"..\" if you want a dot line in the text.")}
	case strings.HasPrefix(line, "."):
		return []Hint{warnHint("dot-stuffing", "The server removes one leading dot (dot-stuffing, RFC 5321 section 4.5.2). Type an extra dot in front to keep it.")}
	}
	return nil
}

// smtpOrder is the order of the transaction commands; a command later than
// the step's one is out of sequence and gets 503 5.5.1.
var smtpOrder = map[string]int{"EHLO": 1, "HELO": 1, "STARTTLS": 2, "AUTH": 3, "MAIL": 4, "RCPT": 5, "DATA": 6, "BDAT": 6}

// smtpAnytime are commands a server accepts at any point of a session.
var smtpAnytime = []string{"NOOP", "RSET", "HELP", "VRFY", "EXPN", "QUIT"}

var smtpVerbs = []string{"EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "BDAT", "NOOP", "RSET", "HELP", "VRFY", "EXPN", "QUIT", "ETRN", "TURN", "ATRN"}

var (
	mailRE      = regexp.MustCompile(`(?i)^(MAIL)\s+(FROM)(\s*)(:?)(\s*)(.*)$`)
	rcptRE      = regexp.MustCompile(`(?i)^(RCPT)\s+(TO)(\s*)(:?)(\s*)(.*)$`)
	pathRE      = regexp.MustCompile(`^<[^<>\s]*>(\s|$)`)
	base64LineR = regexp.MustCompile(`^[A-Za-z0-9+/]*={0,2}$`)
	headerRE    = regexp.MustCompile(`^[!-9;-~]+:`)
)

func checkSMTP(step Step, line string) []Hint {
	if strings.TrimSpace(line) == "" {
		return []Hint{errHint("empty", "The line is empty; type the command for this step.")}
	}
	if step.Verb == "" { // AUTH LOGIN answers: one base64 line
		return checkBase64(line)
	}
	f := strings.Fields(line)
	verb := strings.ToUpper(f[0])
	if !slices.Contains(smtpVerbs, verb) {
		return []Hint{unknownVerb(verb, smtpVerbs, "The server would answer 500 5.5.1 (Exchange: 500 5.3.3 Unrecognized command) and nothing would happen.")}
	}
	var hs []Hint
	if verb != step.Verb {
		hs = append(hs, wrongSMTPVerb(step.Verb, verb))
		if Blocks(hs) {
			return hs
		}
	}
	switch verb {
	case "EHLO", "HELO":
		switch {
		case len(f) < 2:
			hs = append(hs, errHint("missing-domain", "%s needs your host name after it, such as \"%s mail.example.com\"; without it the server answers 501.", verb, verb))
		case !strings.HasPrefix(f[1], "[") && !strings.Contains(strings.Trim(f[1], "."), "."):
			hs = append(hs, warnHint("not-fqdn", "%q is not a fully qualified domain name; many servers refuse it. Use your full host name or an address literal like [192.0.2.1].", f[1]))
		}
	case "MAIL":
		hs = append(hs, checkPath(line, mailRE, "MAIL FROM", true)...)
	case "RCPT":
		hs = append(hs, checkPath(line, rcptRE, "RCPT TO", false)...)
	}
	return hs
}

func wrongSMTPVerb(want, got string) Hint {
	switch {
	case want == "EHLO" && got == "HELO":
		return warnHint("helo-not-ehlo", "HELO works, but the server then lists no extensions (no STARTTLS, no AUTH). This step uses EHLO.")
	case slices.Contains(smtpAnytime, got):
		return warnHint("wrong-step", "%s is allowed at any time, but this step expects %s.", got, want)
	case smtpOrder[got] > smtpOrder[want]:
		return errHint("out-of-order", "%s comes after %s; sent now, the server answers 503 5.5.1 (bad sequence of commands).", got, want)
	}
	return errHint("wrong-step", "This step expects %s; %s belongs to an earlier step.", want, got)
}

func checkPath(line string, re *regexp.Regexp, name string, nullOK bool) []Hint {
	m := re.FindStringSubmatch(line)
	if m == nil {
		return []Hint{errHint("syntax", "Write it as \"%s:<user@example.com>\".", name)}
	}
	var hs []Hint
	if m[4] == "" {
		return []Hint{errHint("missing-colon", "%s needs a colon before the address: \"%s:<user@example.com>\". Without it the server answers 501.", name, name)}
	}
	if m[3] != "" {
		hs = append(hs, warnHint("space-before-colon", "Remove the space before the colon: \"%s:<...>\".", name))
	}
	if m[5] != "" {
		hs = append(hs, warnHint("space-after-colon", "RFC 5321 allows no space after the colon. Many servers accept it anyway, but strict ones answer 501."))
	}
	arg := m[6]
	if !pathRE.MatchString(arg) {
		return append([]Hint{errHint("missing-brackets", "Put the address in angle brackets: \"%s:<user@example.com>\" (RFC 5321 section 4.1.2).", name)}, hs...)
	}
	addr := arg[1:strings.IndexByte(arg, '>')]
	switch {
	case addr == "" && !nullOK:
		hs = append(hs, errHint("empty-address", "RCPT TO needs an address; <> is only valid as a sender."))
	case addr != "" && !strings.Contains(addr, "@") && !strings.EqualFold(addr, "postmaster"):
		hs = append(hs, warnHint("no-domain", "The address has no @domain part; the server will probably refuse it."))
	}
	return hs
}

func checkBase64(line string) []Hint {
	s := strings.TrimSpace(line)
	b, err := base64.StdEncoding.DecodeString(s)
	if !base64LineR.MatchString(s) || err != nil {
		return []Hint{errHint("not-base64", "This answer must be base64, such as the output of: printf %%s 'name' | base64. The server would answer 501.")}
	}
	if strings.HasSuffix(string(b), "\n") {
		return []Hint{warnHint("trailing-newline", "The value decodes with a line break at the end, as \"echo\" adds one. Encode with printf %%s instead, or the login will fail.")}
	}
	return nil
}

// unknownVerb explains an unknown command and suggests the verb with the
// same letters (RCTP for RCPT), the most common typing slip.
func unknownVerb(verb string, known []string, consequence string) Hint {
	sorted := func(s string) string { r := []rune(s); slices.Sort(r); return string(r) }
	for _, k := range known {
		if sorted(k) == sorted(verb) {
			return errHint("unknown-verb", "%s is not a command; did you mean %s? %s", verb, k, consequence)
		}
	}
	return errHint("unknown-verb", "%s is not a command this server knows. %s", verb, consequence)
}

var pop3Order = map[string]int{"STLS": 1, "USER": 2, "PASS": 3, "APOP": 3, "STAT": 4, "LIST": 4, "UIDL": 4, "RETR": 5, "TOP": 5, "DELE": 5}
var pop3Verbs = []string{"USER", "PASS", "APOP", "STAT", "LIST", "RETR", "DELE", "NOOP", "RSET", "QUIT", "TOP", "UIDL", "CAPA", "STLS", "AUTH"}

func checkPOP3(step Step, line string) []Hint {
	f := strings.Fields(line)
	if len(f) == 0 {
		return []Hint{errHint("empty", "The line is empty; type the command for this step.")}
	}
	verb := strings.ToUpper(f[0])
	if !slices.Contains(pop3Verbs, verb) {
		return []Hint{unknownVerb(verb, pop3Verbs, "The server would answer -ERR.")}
	}
	if verb != step.Verb {
		switch {
		case verb == "NOOP" || verb == "CAPA" || verb == "QUIT" && step.Verb != "QUIT":
			return []Hint{warnHint("wrong-step", "%s is allowed now, but this step expects %s.", verb, step.Verb)}
		case pop3Order[verb] > pop3Order[step.Verb]:
			return []Hint{errHint("out-of-order", "%s comes after %s; sent now, the server answers -ERR.", verb, step.Verb)}
		}
		return []Hint{errHint("wrong-step", "This step expects %s.", step.Verb)}
	}
	if (verb == "USER" || verb == "PASS" || verb == "RETR") && len(f) < 2 {
		return []Hint{errHint("missing-argument", "%s needs an argument, such as \"%s\".", verb, map[string]string{"USER": "USER alice", "PASS": "PASS secret", "RETR": "RETR 1"}[verb])}
	}
	return nil
}

var imapVerbs = []string{"CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "AUTHENTICATE", "LOGIN", "SELECT", "EXAMINE", "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE", "LIST", "LSUB", "STATUS", "APPEND", "CHECK", "CLOSE", "EXPUNGE", "SEARCH", "FETCH", "STORE", "COPY", "MOVE", "UID", "IDLE", "ENABLE", "NAMESPACE", "UNSELECT"}

var imapTagRE = regexp.MustCompile(`^[A-Za-z0-9.]+$`)

func checkIMAP(step Step, line string) []Hint {
	f := strings.Fields(line)
	if len(f) == 0 {
		return []Hint{errHint("empty", "The line is empty; type a tag and the command, such as \"a001 %s\".", step.Verb)}
	}
	if slices.Contains(imapVerbs, strings.ToUpper(f[0])) {
		return []Hint{errHint("missing-tag", "IMAP commands start with a tag of your choice, such as \"a001 %s\"; without one the server answers BAD.", strings.ToUpper(f[0]))}
	}
	if !imapTagRE.MatchString(f[0]) {
		return []Hint{errHint("bad-tag", "The tag may only hold letters, digits and dots, such as a001.")}
	}
	if len(f) < 2 {
		return []Hint{errHint("missing-command", "After the tag comes the command, such as \"%s %s\".", f[0], step.Verb)}
	}
	verb := strings.ToUpper(f[1])
	if !slices.Contains(imapVerbs, verb) {
		return []Hint{unknownVerb(verb, imapVerbs, "The server would answer BAD.")}
	}
	if verb != step.Verb {
		if verb == "NOOP" || verb == "CAPABILITY" {
			return []Hint{warnHint("wrong-step", "%s is allowed now, but this step expects %s.", verb, step.Verb)}
		}
		return []Hint{errHint("wrong-step", "This step expects %s.", step.Verb)}
	}
	switch {
	case verb == "LOGIN" && len(f) < 4:
		return []Hint{errHint("missing-argument", "LOGIN needs a user name and a password: \"%s LOGIN alice \\\"secret\\\"\".", f[0])}
	case (verb == "SELECT" || verb == "EXAMINE") && len(f) < 3:
		return []Hint{errHint("missing-argument", "%s needs a folder name, such as INBOX.", verb)}
	}
	return nil
}
