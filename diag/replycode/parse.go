package replycode

import (
	"encoding/base64"
	"strings"
	"unicode"
	"unicode/utf8"
)

// reply is the parsed form of a reply, whatever its protocol.
type reply struct {
	proto Protocol
	// status is the SMTP code ("550"), the POP3 indicator ("+OK", "-ERR",
	// "+ERR", "+") or the IMAP status ("OK", "NO", "BAD", "BYE",
	// "PREAUTH", "+"). Empty when none was found.
	status string
	// enh is the enhanced status code as sent ("5.7.26"); enhClass etc.
	// are its numbers. enhOK is false when there is none.
	enh                          string
	enhClass, enhSubj, enhDetail int
	enhOK                        bool
	// resp is the POP3/IMAP bracketed response code, upper case, without
	// brackets and arguments ("IN-USE", "AUTHENTICATIONFAILED").
	resp string
	// tagged is true for an IMAP tagged completion.
	tagged bool
	text   string
	// hint is a command found in log text ("in reply to RCPT TO command").
	hint string
	// challenges are the raw texts of continuation lines (for base64).
	challenges []string
}

// Infer guesses the protocol of a reply from its first non-empty line:
// "+OK" and "-ERR" are POP3, a tagged or "*" status line is IMAP, and a
// three-digit code (also one embedded in a log line) is SMTP. A bare "+ "
// continuation is ambiguous and reported as IMAP. It returns
// ProtocolUnknown when nothing fits.
func Infer(lines []string) Protocol {
	p, _ := infer(lines)
	return p
}

func infer(lines []string) (Protocol, bool) {
	for _, l := range lines {
		for _, l := range strings.Split(l, "\n") {
			l = strings.TrimSpace(l)
			if l == "" {
				continue
			}
			u := strings.ToUpper(l)
			switch {
			case strings.HasPrefix(u, "+OK"), strings.HasPrefix(u, "-ERR"), strings.HasPrefix(u, "+ERR"):
				return ProtocolPOP3, true
			case len(l) >= 3 && isDigit(l[0]) && isDigit(l[1]) && isDigit(l[2]) && (len(l) == 3 || l[3] == ' ' || l[3] == '-'):
				return ProtocolSMTP, true
			case strings.HasPrefix(l, "* "), u == "*":
				return ProtocolIMAP, true
			case l == "+" || strings.HasPrefix(l, "+ "):
				return ProtocolIMAP, false
			}
			if _, word, _ := imapTagged(l); word != "" {
				return ProtocolIMAP, true
			}
			if bareIMAPStatus(u) {
				return ProtocolIMAP, false
			}
			if c, _, _ := findEmbeddedCode(l); c >= 0 {
				return ProtocolSMTP, true
			}
			// A log prefix such as "SMTP error from remote mail server
			// after RCPT TO:<a@b>:" may precede the reply: keep looking.
		}
	}
	return ProtocolUnknown, false
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// bareIMAPStatus reports whether an upper-cased line starts with an IMAP
// status word and no tag, as replies pasted from client error messages do.
func bareIMAPStatus(u string) bool {
	for _, w := range []string{"OK ", "NO ", "BAD "} {
		if strings.HasPrefix(u, w) {
			return true
		}
	}
	return u == "OK" || u == "NO" || u == "BAD"
}

// splitLines turns the input into trimmed, non-empty lines.
func splitLines(in []string) []string {
	out := make([]string, 0, len(in)+2)
	for _, l := range in {
		for {
			i := strings.IndexByte(l, '\n')
			part := l
			if i >= 0 {
				part = l[:i]
			}
			part = strings.TrimRight(part, "\r \t")
			part = strings.TrimLeft(part, " \t")
			if part != "" {
				out = append(out, part)
			}
			if i < 0 {
				break
			}
			l = l[i+1:]
		}
	}
	return out
}

// leadingCode reports whether s starts with an SMTP reply code: three
// digits followed by a space, a hyphen or the end of the line.
func leadingCode(s string) bool {
	return len(s) >= 3 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) &&
		(len(s) == 3 || s[3] == ' ' || s[3] == '-')
}

// findEmbeddedCode finds an SMTP reply inside a log or bounce line, such
// as Postfix's "host x[1.2.3.4] said: 550 5.1.1 ..." or Exim's "SMTP error
// from remote mail server after RCPT TO:<a@b>: 550 ...". It returns the
// index of the code, or -1, preferring a code followed by an enhanced code.
func findEmbeddedCode(s string) (idx int, _ string, _ bool) {
	first := -1
	for i := 0; i+3 <= len(s); i++ {
		if !isDigit(s[i]) || s[i] < '2' || s[i] > '5' || !isDigit(s[i+1]) || !isDigit(s[i+2]) {
			continue
		}
		if i > 0 {
			switch s[i-1] {
			case ' ', '\t', '(', '"', '\'', ':', ';', '#', '=':
			default:
				continue
			}
		}
		if i+3 < len(s) && s[i+3] != ' ' && s[i+3] != '-' {
			continue
		}
		rest := s[i+3:]
		if strings.HasPrefix(rest, " said") || strings.HasPrefix(rest, " (") {
			continue // a port number: "[192.0.2.1]:587 said:"
		}
		if len(rest) > 1 {
			if _, _, _, n := parseEnhanced(rest[1:]); n > 0 {
				return i, "", true
			}
		}
		if first < 0 {
			first = i
		}
	}
	return first, "", false
}

// parseEnhanced reads an enhanced status code (RFC 3463 §2) at the start of
// s: class "." subject "." detail, followed by a space, ";", "," or the end.
// A leading "#" (old Exchange NDRs) is accepted. n is the length consumed,
// 0 when there is no code.
func parseEnhanced(s string) (class, subj, detail, n int) {
	i := 0
	if strings.HasPrefix(s, "#") {
		i = 1
	}
	var nums [3]int
	for part := 0; part < 3; part++ {
		start := i
		v := 0
		for i < len(s) && isDigit(s[i]) && i-start < 3 {
			v = v*10 + int(s[i]-'0')
			i++
		}
		if i == start || (part == 0 && i-start != 1) {
			return 0, 0, 0, 0
		}
		nums[part] = v
		if part < 2 {
			if i >= len(s) || s[i] != '.' {
				return 0, 0, 0, 0
			}
			i++
		}
	}
	if i < len(s) {
		switch s[i] {
		case ' ', ';', ',', ')', '\t', ':':
		default:
			return 0, 0, 0, 0
		}
	}
	return nums[0], nums[1], nums[2], i
}

// parseSMTP reads SMTP reply lines, including replies embedded in log
// lines and flattened multi-line replies.
func parseSMTP(lines []string) reply {
	r := reply{proto: ProtocolSMTP}
	texts := make([]string, 0, len(lines))
	for _, l := range lines {
		if r.hint == "" {
			r.hint = commandHint(l)
		}
		if !leadingCode(l) {
			i, _, _ := findEmbeddedCode(l)
			if i < 0 {
				if r.status != "" {
					texts = append(texts, l) // a wrapped continuation
				}
				continue
			}
			l = l[i:]
		}
		code := l[:3]
		rest := ""
		if len(l) > 4 {
			rest = l[4:]
		}
		r.status = code
		if c, s, d, n := parseEnhanced(rest); n > 0 {
			enh := strings.TrimPrefix(rest[:n], "#")
			if !r.enhOK || enh != r.enh {
				r.enh, r.enhClass, r.enhSubj, r.enhDetail, r.enhOK = enh, c, s, d, true
			}
			rest = strings.TrimLeft(rest[n:], " ;,:")
		}
		if code == "334" {
			r.challenges = append(r.challenges, strings.TrimSpace(rest))
		}
		texts = append(texts, rest)
	}
	text := strings.Join(texts, " ")
	if r.status != "" {
		text = stripRepeats(text, r.status, r.enh)
	} else {
		text = strings.Join(lines, " ")
	}
	r.text = strings.TrimSpace(text)
	return r
}

// stripRepeats removes the "550-5.7.26 " style prefixes that appear in the
// middle of a line when a log flattened a multi-line reply.
func stripRepeats(text, code, enh string) string {
	if !strings.Contains(text, code) {
		return text
	}
	fields := strings.Fields(text)
	out := fields[:0]
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if f == code+"-" || (f == code && i+1 < len(fields) && enh != "" && fields[i+1] == enh) {
			if enh != "" && i+1 < len(fields) && fields[i+1] == enh {
				i++
			}
			continue
		}
		if strings.HasPrefix(f, code+"-") && enh != "" && f == code+"-"+enh {
			continue
		}
		out = append(out, f)
	}
	return strings.Join(out, " ")
}

// commandHint finds the command a bounce or log line says the reply
// answered: Postfix "(in reply to RCPT TO command)", Exim "after RCPT
// TO:<a@b>:", "while receiving the initial server greeting".
func commandHint(l string) string {
	low := strings.ToLower(l)
	if i := strings.Index(low, "in reply to "); i >= 0 {
		s := low[i+len("in reply to "):]
		for _, h := range hintWords {
			if strings.HasPrefix(s, h.word) {
				return h.cmd
			}
		}
	}
	if strings.Contains(low, "initial server greeting") || strings.Contains(low, "after initial connection") {
		return "CONNECT"
	}
	for _, pre := range []string{"after pipelined ", "after "} {
		if i := strings.Index(low, pre); i >= 0 {
			s := low[i+len(pre):]
			for _, h := range hintWords {
				if strings.HasPrefix(s, h.word) {
					return h.cmd
				}
			}
		}
	}
	return ""
}

var hintWords = []struct{ word, cmd string }{
	{"end of data", "."}, {"end of message", "."}, {"rcpt to", "RCPT"}, {"mail from", "MAIL"},
	{"data", "DATA"}, {"ehlo", "EHLO"}, {"helo", "HELO"}, {"starttls", "STARTTLS"},
	{"auth", "AUTH"}, {"quit", "QUIT"},
}

// parsePOP3 reads a POP3 status line (RFC 1939 §3) and its optional
// response code (RFC 2449 §8).
func parsePOP3(lines []string) reply {
	r := reply{proto: ProtocolPOP3}
	for _, l := range lines {
		u := strings.ToUpper(l)
		var rest string
		switch {
		case strings.HasPrefix(u, "+OK"):
			r.status, rest = "+OK", l[3:]
		case strings.HasPrefix(u, "-ERR"):
			r.status, rest = "-ERR", l[4:]
		case strings.HasPrefix(u, "+ERR"):
			r.status, rest = "+ERR", l[4:]
		case l == "+" || strings.HasPrefix(l, "+ "):
			r.status, rest = "+", strings.TrimPrefix(l, "+")
			r.challenges = append(r.challenges, strings.TrimSpace(rest))
		default:
			if r.hint == "" {
				r.hint = commandHint(l)
			}
			continue
		}
		rest = strings.TrimLeft(rest, " ")
		r.resp, rest = bracketCode(rest)
		r.text = strings.TrimSpace(rest)
		return r
	}
	r.text = strings.Join(lines, " ")
	return r
}

// bracketCode splits a leading "[CODE args]" off s and returns CODE in
// upper case.
func bracketCode(s string) (string, string) {
	if !strings.HasPrefix(s, "[") {
		return "", s
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return "", s
	}
	in := s[1:end]
	if sp := strings.IndexByte(in, ' '); sp >= 0 {
		in = in[:sp]
	}
	return strings.ToUpper(in), strings.TrimLeft(s[end+1:], " ")
}

var imapStatuses = []string{"OK", "NO", "BAD", "BYE", "PREAUTH"}

// imapTagged splits "tag STATUS rest" (RFC 9051 §7.1); word is empty when
// the line is not a status response.
func imapTagged(l string) (tag, word, rest string) {
	sp := strings.IndexByte(l, ' ')
	if sp <= 0 {
		return "", "", ""
	}
	tag = l[:sp]
	if strings.ContainsAny(tag, "+(){%\"\\]") && tag != "*" {
		return "", "", ""
	}
	after := l[sp+1:]
	w := after
	if sp2 := strings.IndexByte(after, ' '); sp2 >= 0 {
		w, rest = after[:sp2], after[sp2+1:]
	}
	w = strings.ToUpper(w)
	for _, s := range imapStatuses {
		if w == s {
			if tag != "*" && (s == "BYE" || s == "PREAUTH") {
				return "", "", "" // only untagged
			}
			return tag, s, rest
		}
	}
	return "", "", ""
}

// parseIMAP picks the status that answers the command: the tagged
// completion if present, else a continuation request, else an untagged BYE,
// else the first untagged status (the greeting).
func parseIMAP(lines []string, cmd string) reply {
	r := reply{proto: ProtocolIMAP}
	var tagged, bye, first, cont string
	var taggedW, byeW, firstW string
	var extra []string
	for _, l := range lines {
		if l == "+" || strings.HasPrefix(l, "+ ") {
			if cont == "" {
				cont = strings.TrimSpace(strings.TrimPrefix(l, "+"))
				r.challenges = append(r.challenges, cont)
				if cont == "" {
					cont = " "
				}
			}
			continue
		}
		tag, w, rest := imapTagged(l)
		if w == "" && bareIMAPStatus(strings.ToUpper(l)) {
			// "NO [ALERT] ..." without its tag, as client errors quote it.
			tag = ""
			w, rest, _ = strings.Cut(l, " ")
			w = strings.ToUpper(w)
		}
		switch {
		case w == "":
			if r.hint == "" {
				r.hint = commandHint(l)
			}
		case tag != "*":
			tagged, taggedW = rest, w
		case w == "BYE":
			bye, byeW = rest, w
		default:
			if first == "" {
				first, firstW = rest, w
			}
			if w == "NO" || w == "BAD" {
				extra = append(extra, rest)
			}
		}
	}
	var rest string
	switch {
	case taggedW != "":
		r.status, rest, r.tagged = taggedW, tagged, true
		if byeW != "" && cmd != "LOGOUT" && taggedW != "OK" {
			extra = append(extra, bye)
		}
	case cont != "":
		r.status, rest = "+", strings.TrimSpace(cont)
	case byeW != "":
		r.status, rest = byeW, bye
	case firstW != "":
		r.status, rest = firstW, first
	default:
		r.text = strings.Join(lines, " ")
		return r
	}
	r.resp, rest = bracketCode(rest)
	texts := append([]string{rest}, extra...)
	if r.resp == "" {
		// An untagged NO [ALERT] or [WEBALERT] often carries the reason.
		for _, x := range extra {
			if c, _ := bracketCode(x); c != "" && c != "ALERT" {
				r.resp = c
				break
			}
		}
	}
	r.text = strings.TrimSpace(strings.Join(texts, " "))
	return r
}

// decodeChallenges returns the printable base64 decodings of continuation
// texts: SMTP 334 (RFC 4954 §4), POP3 "+ " (RFC 5034) and IMAP "+ "
// (RFC 9051 §7.5).
func decodeChallenges(cs []string) []string {
	var out []string
	for _, c := range cs {
		c = strings.TrimSpace(c)
		if c == "" || strings.ContainsAny(c, " \t") {
			continue
		}
		var b []byte
		var err error
		if len(c)%4 == 0 {
			b, err = base64.StdEncoding.DecodeString(c)
		} else {
			b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(c, "="))
		}
		if err != nil || len(b) == 0 || !printable(b) {
			continue
		}
		out = append(out, string(b))
	}
	return out
}

// printable accepts valid UTF-8 text without control characters, which is
// what a human-readable challenge ("Username:") or a JSON error looks like.
func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	letters := 0
	for _, r := range string(b) {
		if unicode.IsLetter(r) {
			letters++
		}
		if r != ' ' && !unicode.IsPrint(r) {
			return false
		}
	}
	return letters > 0
}
