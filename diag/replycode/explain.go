package replycode

import (
	"strconv"
	"strings"
)

// answer is the winning knowledge-base row, whatever table it came from.
type answer struct {
	category  Category
	summary   string
	meaning   string
	causes    []string
	steps     []string
	note      string
	matched   string
	vendor    string
	generic   bool
	classes   []Class // a pattern's classes, to allow a category on success
	isPattern bool
}

// answer starts an answer with the advice's text.
func (a *advice) answer() *answer {
	return &answer{
		category: a.Category, summary: a.Summary, meaning: a.Meaning,
		causes: a.Causes, steps: a.NextSteps, note: a.Note,
	}
}

func fromEntry(e *entry) *answer {
	a := e.answer()
	a.matched = e.table + ":" + entryKey(e)
	return a
}

func entryKey(e *entry) string {
	if e.Command != "" {
		return e.Key + "|" + e.Command
	}
	return e.Key
}

func fromPattern(p *pattern) *answer {
	a := p.answer()
	a.matched, a.vendor, a.classes, a.isPattern = p.table+":"+p.ID, p.Vendor, p.Classes, true
	return a
}

// mctx is what patterns are matched against.
type mctx struct {
	proto  Protocol
	status string
	r      *reply
	cmd    string
	class  Class
	low    string // lower-case text
	text   string
}

var defaultPatternClasses = []Class{ClassTransient, ClassPermanent, ClassUnknown}

func (p *pattern) match(m *mctx) bool {
	if len(p.Protocols) > 0 && !containsStr(p.Protocols, string(m.proto)) {
		return false
	}
	classes := p.Classes
	if len(classes) == 0 {
		classes = defaultPatternClasses
	}
	ok := false
	for _, c := range classes {
		if c == m.class {
			ok = true
			break
		}
	}
	if !ok {
		return false
	}
	if len(p.Codes) > 0 {
		ok = false
		for _, c := range p.Codes {
			if m.proto == ProtocolSMTP && isDigit(c[0]) {
				if strings.HasPrefix(m.status, c) {
					ok = true
					break
				}
			} else if c == m.status || (c[0] == '[' && c[1:len(c)-1] == m.r.resp) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(p.enh) > 0 {
		if !m.r.enhOK {
			return false
		}
		ok = false
		for _, e := range p.enh {
			if (e.class == 0 || e.class == m.r.enhClass) && e.subject == m.r.enhSubj &&
				m.r.enhDetail >= e.lo && m.r.enhDetail <= e.hi {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(p.Commands) > 0 && !containsStr(p.Commands, m.cmd) {
		return false
	}
	if len(p.Any) > 0 {
		ok = false
		for _, s := range p.Any {
			if strings.Contains(m.low, s) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, s := range p.All {
		if !strings.Contains(m.low, s) {
			return false
		}
	}
	for _, s := range p.None {
		if strings.Contains(m.low, s) {
			return false
		}
	}
	if p.re != nil && ((p.lits != nil && !anyIn(m.low, p.lits)) || !p.re.MatchString(m.low)) {
		return false
	}
	return true
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func firstMatch(ps []*pattern, m *mctx) *pattern {
	for _, p := range ps {
		if p.match(m) {
			return p
		}
	}
	return nil
}

// Explain explains one reply. It never fails: input without any status
// yields ClassUnknown and CategoryOther (unless a keyword pattern
// recognises the text), with Generic set.
func Explain(in Input) Explanation {
	k := load()
	lines := splitLines(in.Lines)
	cmd, cmdProto := k.normCommand(in.Command)
	proto := in.Protocol
	if proto == ProtocolUnknown {
		p, sure := infer(lines)
		if !sure && cmdProto != ProtocolUnknown {
			p = cmdProto
		}
		proto = p
	}
	var r reply
	switch proto {
	case ProtocolSMTP:
		r = parseSMTP(lines)
	case ProtocolPOP3:
		r = parsePOP3(lines)
	case ProtocolIMAP:
		r = parseIMAP(lines, cmd)
	default:
		r = reply{text: strings.Join(lines, " ")}
		for _, l := range lines {
			if r.hint = commandHint(l); r.hint != "" {
				break
			}
		}
	}
	if cmd == "" && r.hint != "" {
		cmd = r.hint
	}
	ex := Explanation{
		Protocol: proto, Command: cmd, Code: r.status, Text: r.text,
		Causes: []string{}, NextSteps: []string{}, Decoded: []string{},
	}
	if r.enhOK {
		ex.EnhancedCode = r.enh
	}
	if proto != ProtocolSMTP {
		ex.ResponseCode = r.resp
	}
	m := &mctx{proto: proto, status: r.status, r: &r, cmd: cmd, text: r.text, low: strings.ToLower(r.text)}
	var notes []string
	var ans *answer
	switch proto {
	case ProtocolSMTP:
		if r.status == "" {
			m.class = ClassUnknown
			break
		}
		m.class, notes = smtpClass(&r)
		ans = k.smtpAnswer(m)
	case ProtocolPOP3, ProtocolIMAP:
		var note string
		m.class, note = k.statusClass(&r, cmd)
		if note != "" {
			notes = append(notes, note)
		}
		ans = k.statusAnswer(m)
	default:
		m.class = ClassUnknown
	}
	if ans == nil && m.class == ClassUnknown {
		for _, list := range [][]*pattern{k.vendor, k.keywords, k.weak} {
			if p := firstMatch(list, m); p != nil {
				ans = fromPattern(p)
				break
			}
		}
	}
	if ans == nil {
		ans = k.noStatus(r.text)
	}
	ex.Class = m.class
	ex.Category = ans.category
	if (m.class == ClassSuccess || m.class == ClassIntermediate) && !(ans.isPattern && len(ans.classes) > 0) {
		ex.Category = CategoryOK
	}
	ex.Summary = ans.summary
	ex.Meaning = ans.meaning
	if !(ans.isPattern && (m.class == ClassSuccess || m.class == ClassIntermediate)) {
		// A pattern that fires on a success (Postfix's 221 after a
		// protocol violation) contradicts the normal reading of the step.
		ex.Meaning = k.meaning(ans.meaning, cmd, m.class)
	}
	fill := filler{text: r.text}
	ex.Causes = fill.all(ans.causes)
	ex.NextSteps = fill.all(ans.steps)
	ex.Generic = ans.generic
	ex.Matched = ans.matched
	ex.Vendor = ans.vendor
	if ans.note != "" {
		notes = append(notes, ans.note)
	}
	ex.Notes = notes
	if r.status == "334" || r.status == "+" {
		if d := decodeChallenges(r.challenges); d != nil {
			ex.Decoded = d
		}
	}
	return ex
}

// smtpClass applies RFC 5321 §4.2.1: the first digit of the basic code
// decides. The enhanced code is checked against it (RFC 2034 §4) and
// ignored when its class is not 2, 4 or 5 (RFC 3463 §2).
func smtpClass(r *reply) (Class, []string) {
	var notes []string
	var c Class
	switch r.status[0] {
	case '2':
		c = ClassSuccess
	case '3':
		c = ClassIntermediate
	case '4':
		c = ClassTransient
	default:
		c = ClassPermanent
		if r.status[0] != '5' {
			notes = append(notes, "The first digit "+r.status[:1]+" is outside the SMTP range 2-5; RFC 5321 §4.2 says to treat such a reply as a fatal error.")
		}
	}
	if r.enhOK {
		switch {
		case r.enhClass != 2 && r.enhClass != 4 && r.enhClass != 5:
			notes = append(notes, "The enhanced code "+r.enh+" has a class outside 2, 4 and 5, so it was ignored and the basic code "+r.status+" decides.")
			r.enhOK = false
		case int(r.status[0]-'0') != r.enhClass:
			notes = append(notes, "The basic code "+r.status+" and the enhanced code "+r.enh+" disagree (RFC 2034 requires the same class). The basic code decides retries: this reply is "+string(c)+", even if the fix needs a change.")
		}
	}
	return c, notes
}

func (k *kb) smtpAnswer(m *mctx) *answer {
	r := m.r
	var exact *entry
	if r.enhOK {
		key := "X." + strconv.Itoa(r.enhSubj) + "." + strconv.Itoa(r.enhDetail)
		if exact = k.enhanced[key+"|"+m.cmd]; exact == nil {
			exact = k.enhanced[key]
		}
	}
	basicCmd := k.smtp[r.status+"|"+m.cmd]
	basic := k.smtp[r.status]
	if m.class == ClassSuccess || m.class == ClassIntermediate {
		if p := firstMatch(k.vendor, m); p != nil {
			return fromPattern(p)
		}
		for _, e := range []*entry{basicCmd, basic, exact} {
			if e != nil {
				return fromEntry(e)
			}
		}
		return k.digits(r.status, m.class)
	}
	if p := firstMatch(k.vendor, m); p != nil {
		return fromPattern(p)
	}
	if exact != nil && !exact.Refine {
		return fromEntry(exact)
	}
	if p := firstMatch(k.keywords, m); p != nil {
		return fromPattern(p)
	}
	if exact != nil && (exact.Command != "" || r.enhDetail != 0) {
		return fromEntry(exact)
	}
	if basicCmd != nil {
		return fromEntry(basicCmd)
	}
	if p := firstMatch(k.weak, m); p != nil {
		return fromPattern(p)
	}
	if exact != nil && r.enhSubj != 0 {
		return fromEntry(exact)
	}
	if r.enhOK {
		if d := k.esubject["X."+strconv.Itoa(r.enhSubj)]; d != nil && d.Category != "" && len(d.Causes) > 0 {
			return &answer{
				category: d.Category, summary: d.Name, meaning: d.Meaning,
				causes: d.Causes, steps: d.NextSteps, matched: "smtp-digits:enhanced_subject " + d.Key,
			}
		}
	}
	if basic != nil {
		return fromEntry(basic)
	}
	if exact != nil {
		return fromEntry(exact)
	}
	return k.digits(r.status, m.class)
}

// digits builds the answer from the meaning of each digit position (RFC
// 5321 §4.2.1) when no table knows the code.
func (k *kb) digits(code string, c Class) *answer {
	f := k.first[code[:1]]
	s := k.second[code[1:2]]
	a := &answer{generic: true, category: CategoryOther, matched: "smtp-digits:" + code[:1] + "yz"}
	if f == nil {
		a.summary = "Reply code " + code + " is outside the SMTP range"
		a.meaning = "SMTP reply codes start with 2, 3, 4 or 5."
		a.causes = []string{"The peer is not an SMTP server, or it sent a malformed reply."}
		a.steps = []string{"Check that you connected to the right port and protocol."}
		return a
	}
	if f.Category != "" {
		a.category = f.Category
	}
	a.summary = f.Name + " (" + code[:1] + "yz)"
	a.meaning = f.Meaning
	if s != nil {
		a.summary += ", " + strings.ToLower(s.Name) + " (x" + code[1:2] + "z)"
		a.meaning += " " + s.Meaning
		a.matched += ",x" + code[1:2] + "z"
	}
	a.causes, a.steps = f.Causes, f.NextSteps
	return a
}

// noStatus is the answer when no status was found at all.
func (k *kb) noStatus(text string) *answer {
	a := &answer{generic: true, category: CategoryOther, matched: "none"}
	if text == "" {
		a.summary = "Empty reply"
		a.meaning = "There is nothing to explain: the reply is empty."
	} else {
		a.summary = "No reply code or status found"
		a.meaning = "The text carries no SMTP code, POP3 +OK/-ERR or IMAP OK/NO/BAD status, so its class is unknown."
	}
	a.causes = []string{"Only part of the reply was pasted, or the text is a client-side error rather than a server reply."}
	a.steps = []string{"Paste the whole server reply, starting with its code (for example `550 5.1.1 ...`).", "Say which protocol it came from with `--protocol smtp|pop3|imap`."}
	return a
}

// statusClass decides the class of a POP3 or IMAP reply. POP3 has only
// +OK/-ERR (RFC 1939 §3); response codes (RFC 2449 §8, RFC 3206, RFC
// 5530) tell temporary from permanent, and without one the text decides.
func (k *kb) statusClass(r *reply, cmd string) (Class, string) {
	table := k.pop3
	if r.proto == ProtocolIMAP {
		table = k.imap
	}
	var respClass Class
	if r.resp != "" {
		if e := table["["+r.resp+"]"]; e != nil {
			respClass = e.Class
		}
	}
	switch r.status {
	case "":
		return ClassUnknown, ""
	case "+OK", "OK", "PREAUTH":
		return ClassSuccess, ""
	case "+":
		return ClassIntermediate, ""
	case "BAD":
		return ClassPermanent, ""
	case "BYE":
		if cmd == "LOGOUT" || cmd == "QUIT" {
			return ClassSuccess, ""
		}
		if respClass == ClassPermanent {
			return ClassPermanent, ""
		}
		return ClassTransient, ""
	}
	note := ""
	if r.status == "+ERR" {
		note = "\"+ERR\" is not a POP3 status (RFC 1939 has only +OK and -ERR); the word ERR marks it as a failure, not a success."
	}
	if respClass == ClassTransient || respClass == ClassPermanent {
		return respClass, note
	}
	low := strings.ToLower(r.text)
	for _, w := range temporaryWords {
		if strings.Contains(low, w) {
			return ClassTransient, note
		}
	}
	return ClassPermanent, note
}

// temporaryWords mark a bare -ERR or NO as worth retrying unchanged.
var temporaryWords = []string{
	"temporar", "try again", "try later", "later", "in use", "locked", "lock ", "busy",
	"unavailable", "timeout", "timed out", "inactivity", "too many connections",
	"maintenance", "overloaded", "throttl",
}

func (k *kb) statusAnswer(m *mctx) *answer {
	r := m.r
	table := k.pop3
	if m.proto == ProtocolIMAP {
		table = k.imap
	}
	var resp *entry
	if r.resp != "" {
		resp = table["["+r.resp+"]"]
	}
	status := r.status
	if status == "+ERR" {
		status = "-ERR"
	}
	if status == "" {
		return nil
	}
	byCmd := table[status+"|"+m.cmd]
	bare := table[status]
	if m.class == ClassSuccess || m.class == ClassIntermediate {
		if p := firstMatch(k.vendor, m); p != nil {
			return fromPattern(p)
		}
		for _, e := range []*entry{byCmd, bare} {
			if e != nil {
				a := fromEntry(e)
				if resp != nil && resp.Note != "" {
					a.note = resp.Note
				}
				return a
			}
		}
		return nil
	}
	if p := firstMatch(k.vendor, m); p != nil {
		return fromPattern(p)
	}
	if resp != nil && !resp.Refine {
		return fromEntry(resp)
	}
	if p := firstMatch(k.keywords, m); p != nil {
		return fromPattern(p)
	}
	for _, e := range []*entry{resp, byCmd} {
		if e != nil {
			return fromEntry(e)
		}
	}
	if p := firstMatch(k.weak, m); p != nil {
		return fromPattern(p)
	}
	if bare != nil {
		a := fromEntry(bare)
		a.generic = true // only the status word was understood
		return a
	}
	return nil
}

// meaning adds what the class means at this step of the conversation.
func (k *kb) meaning(base, cmd string, c Class) string {
	co := k.commands[cmd]
	if co == nil {
		return base
	}
	var s string
	switch c {
	case ClassSuccess:
		s = co.Success
	case ClassIntermediate:
		s = co.Intermediate
	case ClassTransient:
		s = co.Transient
	case ClassPermanent:
		s = co.Permanent
	}
	if s == "" {
		return base
	}
	return base + " " + s
}

// normCommand maps a command name or a whole command line to its
// canonical key, and says which protocol it belongs to when only one.
func (k *kb) normCommand(s string) (string, Protocol) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ProtocolUnknown
	}
	u := strings.ToUpper(s)
	if i := strings.IndexByte(u, ':'); i > 0 {
		u = strings.TrimSpace(u[:i]) // "MAIL FROM:<a@b>"
	}
	u = strings.ReplaceAll(u, "_", " ")
	f := strings.Fields(u)
	try := []string{u, strings.ReplaceAll(u, "-", " ")}
	if len(f) >= 2 {
		try = append(try, f[0]+" "+f[1])
	}
	if len(f) >= 1 {
		try = append(try, f[0])
	}
	if len(f) >= 2 {
		try = append(try, f[1]) // IMAP: "a1 LOGIN user pass"
	}
	for _, t := range try {
		if key, ok := k.aliases[t]; ok {
			c := k.commands[key]
			if len(c.Protocols) == 1 {
				return key, Protocol(c.Protocols[0])
			}
			return key, ProtocolUnknown
		}
	}
	if len(f) == 0 {
		return "", ProtocolUnknown
	}
	return f[0], ProtocolUnknown
}

// filler replaces {domain}, {ip} and {revip} in next steps with values
// found in the reply text, so that a step can be pasted as is.
type filler struct {
	text       string
	done       bool
	domain, ip string
}

func (f *filler) all(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		if strings.IndexByte(s, '{') >= 0 {
			s = f.one(s)
		}
		out[i] = s
	}
	return out
}

func (f *filler) one(s string) string {
	if !f.done {
		f.done = true
		f.domain = findDomain(f.text)
		f.ip = findIPv4(f.text)
	}
	dom, ip, rev := "DOMAIN", "IP", "REVERSED-IP"
	if f.domain != "" {
		dom = f.domain
	}
	if f.ip != "" {
		ip = f.ip
		p := strings.Split(f.ip, ".")
		rev = p[3] + "." + p[2] + "." + p[1] + "." + p[0]
	}
	return strings.NewReplacer("{domain}", dom, "{ip}", ip, "{revip}", rev).Replace(s)
}

// findDomain returns the domain of the first e-mail address in s.
func findDomain(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] != '@' || i == 0 {
			continue
		}
		j := i + 1
		for j < len(s) && (isDigit(s[j]) || s[j] == '.' || s[j] == '-' ||
			(s[j]|0x20 >= 'a' && s[j]|0x20 <= 'z')) {
			j++
		}
		d := strings.Trim(s[i+1:j], ".-")
		if strings.IndexByte(d, '.') > 0 {
			return strings.ToLower(d)
		}
	}
	return ""
}

// findIPv4 returns the first dotted-quad IPv4 address in s.
func findIPv4(s string) string {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || (i > 0 && (isDigit(s[i-1]) || s[i-1] == '.')) {
			continue
		}
		j, parts := i, 0
		for parts < 4 {
			st := j
			v := 0
			for j < len(s) && isDigit(s[j]) && j-st < 3 {
				v = v*10 + int(s[j]-'0')
				j++
			}
			if j == st || v > 255 {
				break
			}
			parts++
			if parts < 4 {
				if j >= len(s) || s[j] != '.' {
					break
				}
				j++
			}
		}
		if parts == 4 && (j >= len(s) || (!isDigit(s[j]) && s[j] != '.')) {
			return s[i:j]
		}
	}
	return ""
}
