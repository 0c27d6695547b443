package realpeers

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

const ioTimeout = 20 * time.Second

// marker returns a unique string to find a message again.
func marker(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "realpeers-" + hex.EncodeToString(b)
}

// smtpDialog is a raw SMTP dialogue for checking exact replies.
type smtpDialog struct {
	t    *testing.T
	conn net.Conn
	text *textproto.Conn
}

func dialSMTP(t *testing.T, addr string) (*smtpDialog, int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	d := &smtpDialog{t: t, conn: c, text: textproto.NewConn(c)}
	code, msg := d.reply()
	return d, code, msg
}

func (d *smtpDialog) reply() (int, string) {
	d.t.Helper()
	code, msg, err := d.text.ReadResponse(0)
	var perr *textproto.Error
	if err != nil && !errors.As(err, &perr) {
		d.t.Fatalf("read reply: %v", err)
	}
	return code, msg
}

func (d *smtpDialog) cmd(format string, args ...any) (int, string) {
	d.t.Helper()
	if err := d.text.PrintfLine(format, args...); err != nil {
		d.t.Fatalf("write %q: %v", format, err)
	}
	return d.reply()
}

func (d *smtpDialog) expect(want int, format string, args ...any) string {
	d.t.Helper()
	code, msg := d.cmd(format, args...)
	if code != want {
		d.t.Fatalf("%s: got %d %s, want %d", fmt.Sprintf(format, args...), code, msg, want)
	}
	return msg
}

// starttls upgrades the dialogue and returns the handshake error, if any.
func (d *smtpDialog) starttls(cfg *tls.Config) error {
	d.t.Helper()
	d.expect(220, "STARTTLS")
	tc := tls.Client(d.conn, cfg)
	_ = tc.SetDeadline(time.Now().Add(ioTimeout))
	if err := tc.Handshake(); err != nil {
		return err
	}
	d.conn = tc
	d.text = textproto.NewConn(tc)
	return nil
}

func TestSMTPGreetingAndTLS(t *testing.T) {
	t.Parallel()
	m := Postfix(t)
	m.LogOnFailure(t)
	tests := []struct {
		name    string
		addr    string
		wantErr string // substring of the TLS verification error; "" = success
	}{
		{"smtp", m.SMTP, ""},
		{"expired", m.ExpiredCertSMTP, "expired"},
		{"self-signed", m.SelfSignedSMTP, "unknown authority"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, code, banner := dialSMTP(t, tc.addr)
			if code != 220 || !strings.HasPrefix(banner, m.ServerName+" ESMTP") {
				t.Fatalf("banner: %d %q", code, banner)
			}
			ehlo := d.expect(250, "EHLO client.realpeers.test")
			for _, want := range []string{"STARTTLS", "SIZE 1048576", "DSN", "ENHANCEDSTATUSCODES"} {
				if !hasLine(ehlo, want) {
					t.Errorf("EHLO lacks %q:\n%s", want, ehlo)
				}
			}
			if hasLine(ehlo, "AUTH") {
				t.Errorf("plain SMTP must not offer AUTH:\n%s", ehlo)
			}
			err := d.starttls(m.TLSConfig())
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("STARTTLS with the test CA: %v", err)
				}
				d.expect(250, "EHLO client.realpeers.test")
				d.expect(221, "QUIT")
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("STARTTLS error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// hasLine reports whether an EHLO reply has a line equal to keyword or
// starting with keyword and a space.
func hasLine(reply, keyword string) bool {
	for _, l := range strings.Split(reply, "\n") {
		if l == keyword || strings.HasPrefix(l, keyword+" ") {
			return true
		}
	}
	return false
}

func TestSMTPRejections(t *testing.T) {
	t.Parallel()
	m := Postfix(t)
	m.LogOnFailure(t)
	tests := []struct {
		name     string
		mailFrom string
		rcpt     string
		wantCode int
		wantEnh  string // enhanced status code, RFC 3463
		atMail   bool   // refused at MAIL FROM rather than RCPT TO
	}{
		{"unknown user", "<sender@example.org>", "<nobody@" + m.Domain + ">", 550, "5.1.1", false},
		{"relay", "<sender@example.org>", "<someone@example.org>", 554, "5.7.1", false},
		{"relay from local sender", "<kate@" + m.Domain + ">", "<someone@example.net>", 554, "5.7.1", false},
		{"too big (SIZE)", "<sender@example.org> SIZE=2000000", "", 552, "5.3.4", true},
		{"known user", "<sender@example.org>", "<kate@" + m.Domain + ">", 250, "2.1.5", false},
		{"user+tag", "<sender@example.org>", "<chris+tag@" + m.Domain + ">", 250, "2.1.5", false},
		{"DSN parameters", "<sender@example.org> RET=HDRS ENVID=realpeers1", "<kate@" + m.Domain + "> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;kate@" + m.Domain, 250, "2.1.5", false},
		{"null sender", "<>", "<kate@" + m.Domain + ">", 250, "2.1.5", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, _, _ := dialSMTP(t, m.SMTP)
			d.expect(250, "EHLO client.realpeers.test")
			code, msg := d.cmd("MAIL FROM:%s", tc.mailFrom)
			if !tc.atMail {
				if code != 250 {
					t.Fatalf("MAIL FROM: %d %s", code, msg)
				}
				code, msg = d.cmd("RCPT TO:%s", tc.rcpt)
			}
			if code != tc.wantCode || !strings.HasPrefix(msg, tc.wantEnh+" ") {
				t.Fatalf("got %d %s, want %d %s ...", code, msg, tc.wantCode, tc.wantEnh)
			}
		})
	}
}

func TestSMTPOversizeData(t *testing.T) {
	t.Parallel()
	m := Postfix(t)
	m.LogOnFailure(t)
	d, _, _ := dialSMTP(t, m.SMTP)
	d.expect(250, "EHLO client.realpeers.test")
	d.expect(250, "MAIL FROM:<sender@example.org>")
	d.expect(250, "RCPT TO:<kate@%s>", m.Domain)
	d.expect(354, "DATA")
	line := strings.Repeat("x", 998)
	w := d.text.DotWriter()
	fmt.Fprintf(w, "Subject: %s\r\n\r\n", marker(t))
	for i := 0; i < 1200; i++ { // about 1.2 MB
		fmt.Fprintf(w, "%s\r\n", line)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	code, msg := d.reply()
	if code != 552 || !strings.HasPrefix(msg, "5.3.4 ") {
		t.Fatalf("oversized DATA: %d %s, want 552 5.3.4", code, msg)
	}
}

func TestDeliverAndReadBack(t *testing.T) {
	t.Parallel()
	m := Postfix(t)
	m.LogOnFailure(t)
	mark := marker(t)
	body := "To: kate@" + m.Domain + "\r\nFrom: sender@example.org\r\nSubject: " + mark + "\r\n\r\nhello from realpeers\r\n"
	m.Send(t, m.Address("kate"), body)
	msg := m.WaitMessage(t, "kate", mark, 15*time.Second)
	if !strings.Contains(msg, "Delivered-To: kate@"+m.Domain) || !strings.Contains(msg, "hello from realpeers") {
		t.Fatalf("delivered message looks wrong:\n%s", msg)
	}
	if got := m.Delivered("kate"); got < 1 {
		t.Fatalf("Delivered(kate) = %d", got)
	}

	tests := []struct {
		name, addr, tls, user string
		check                 func(t *testing.T, m *Mail, addr, tlsMode, user, mark string)
	}{
		{"pop3 plaintext", m.POP3, "none", "kate", checkPOP3},
		{"pop3 STLS", m.POP3, "starttls", "kate", checkPOP3},
		{"pop3s", m.POP3S, "implicit", "kate", checkPOP3},
		{"pop3 full address", m.POP3, "none", m.Address("kate"), checkPOP3},
		{"imap plaintext", m.IMAP, "none", "kate", checkIMAP},
		{"imap STARTTLS", m.IMAP, "starttls", "kate", checkIMAP},
		{"imaps", m.IMAPS, "implicit", "kate", checkIMAP},
		{"imap full address", m.IMAP, "none", m.Address("kate"), checkIMAP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, m, tc.addr, tc.tls, tc.user, mark) })
	}
}

// lineConn is a line-oriented client for POP3 and IMAP dialogues.
type lineConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialLines(t *testing.T, m *Mail, addr string, implicitTLS bool) *lineConn {
	t.Helper()
	var c net.Conn
	var err error
	if implicitTLS {
		c, err = tls.DialWithDialer(&net.Dialer{Timeout: ioTimeout}, "tcp", addr, m.TLSConfig())
	} else {
		c, err = net.DialTimeout("tcp", addr, ioTimeout)
	}
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	return &lineConn{t: t, c: c, r: bufio.NewReader(c)}
}

func (l *lineConn) line() string {
	l.t.Helper()
	s, err := l.r.ReadString('\n')
	if err != nil {
		l.t.Fatalf("read: %v (got %q)", err, s)
	}
	return strings.TrimRight(s, "\r\n")
}

func (l *lineConn) send(s string) {
	l.t.Helper()
	if _, err := l.c.Write([]byte(s + "\r\n")); err != nil {
		l.t.Fatalf("write: %v", err)
	}
}

// pop3 sends a command and returns its status line, failing unless +OK.
func (l *lineConn) pop3(cmd string) string {
	l.t.Helper()
	l.send(cmd)
	s := l.line()
	if !strings.HasPrefix(s, "+OK") {
		l.t.Fatalf("%s: %s", strings.Fields(cmd)[0], s)
	}
	return s
}

// multiline reads a POP3 multi-line body up to the terminating dot.
func (l *lineConn) multiline() string {
	var b strings.Builder
	for {
		s := l.line()
		if s == "." {
			return b.String()
		}
		b.WriteString(strings.TrimPrefix(s, ".") + "\n")
	}
}

// upgrade switches l to TLS after a STARTTLS/STLS that the server accepted.
func (l *lineConn) upgrade(m *Mail) {
	l.t.Helper()
	tc := tls.Client(l.c, m.TLSConfig())
	_ = tc.SetDeadline(time.Now().Add(ioTimeout))
	if err := tc.Handshake(); err != nil {
		l.t.Fatalf("TLS handshake after STARTTLS: %v", err)
	}
	l.c, l.r = tc, bufio.NewReader(tc)
}

func checkPOP3(t *testing.T, m *Mail, addr, tlsMode, user, mark string) {
	l := dialLines(t, m, addr, tlsMode == "implicit")
	if g := l.line(); !strings.HasPrefix(g, "+OK") {
		t.Fatalf("greeting: %s", g)
	}
	l.send("CAPA")
	if s := l.line(); !strings.HasPrefix(s, "+OK") {
		t.Fatalf("CAPA: %s", s)
	}
	capa := l.multiline()
	if tlsMode != "implicit" && !hasLine(capa, "STLS") {
		t.Errorf("CAPA lacks STLS:\n%s", capa)
	}
	if tlsMode == "starttls" {
		l.pop3("STLS")
		l.upgrade(m)
	}
	l.pop3("USER " + user)
	l.pop3("PASS " + m.Users["kate"])
	stat := strings.Fields(l.pop3("STAT"))
	if len(stat) < 2 {
		t.Fatalf("STAT: %v", stat)
	}
	n, err := strconv.Atoi(stat[1])
	if err != nil || n < 1 {
		t.Fatalf("STAT count %q, want >= 1", stat[1])
	}
	found := false
	for i := n; i >= 1 && !found; i-- {
		l.pop3(fmt.Sprintf("TOP %d 0", i))
		found = strings.Contains(l.multiline(), "Subject: "+mark)
	}
	if !found {
		t.Errorf("no message with Subject %s among %d", mark, n)
	}
	l.pop3("QUIT")
}

// imap sends a tagged command and returns the untagged lines, failing unless
// the tagged status is OK.
func (l *lineConn) imap(tag, cmd string) []string {
	l.t.Helper()
	l.send(tag + " " + cmd)
	var lines []string
	for {
		s := l.line()
		if strings.HasPrefix(s, tag+" ") {
			if !strings.HasPrefix(s, tag+" OK") {
				l.t.Fatalf("%s: %s", strings.Fields(cmd)[0], s)
			}
			return lines
		}
		lines = append(lines, s)
	}
}

var existsRE = regexp.MustCompile(`^\* (\d+) EXISTS$`)

func checkIMAP(t *testing.T, m *Mail, addr, tlsMode, user, mark string) {
	l := dialLines(t, m, addr, tlsMode == "implicit")
	if g := l.line(); !strings.HasPrefix(g, "* OK") {
		t.Fatalf("greeting: %s", g)
	}
	capa := strings.Join(l.imap("a0", "CAPABILITY"), "\n")
	if tlsMode != "implicit" && !strings.Contains(capa, "STARTTLS") {
		t.Errorf("CAPABILITY lacks STARTTLS: %s", capa)
	}
	if tlsMode == "starttls" {
		l.imap("s0", "STARTTLS")
		l.upgrade(m)
	}
	l.imap("a1", "LOGIN "+user+" "+m.Users["kate"])
	exists := -1
	for _, s := range l.imap("a2", "SELECT INBOX") {
		if mm := existsRE.FindStringSubmatch(s); mm != nil {
			exists, _ = strconv.Atoi(mm[1])
		}
	}
	if exists < 1 {
		t.Fatalf("SELECT INBOX: EXISTS = %d, want >= 1", exists)
	}
	search := l.imap("a3", "SEARCH HEADER Subject "+mark)
	if len(search) != 1 || len(strings.Fields(search[0])) != 3 {
		t.Fatalf("SEARCH for %s: %q, want exactly one hit", mark, search)
	}
	l.imap("a4", "LOGOUT")
}

// TestDovecotLoopbackSecurity pins down a Dovecot rule the package comment
// documents: 127.0.0.1 -> 127.0.0.1 counts as secured, other loopback
// addresses do not.
func TestDovecotLoopbackSecurity(t *testing.T) {
	t.Parallel()
	m := Postfix(t)
	m.LogOnFailure(t)
	tests := []struct {
		name          string
		local         string
		wantPlaintext bool
	}{
		{"same address", "127.0.0.1", true},
		{"other loopback address", "127.0.0.2", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dialer := net.Dialer{Timeout: ioTimeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(tc.local)}}
			c, err := dialer.Dial("tcp", m.IMAP)
			if err != nil {
				t.Fatalf("dial from %s: %v", tc.local, err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(ioTimeout))
			l := &lineConn{t: t, c: c, r: bufio.NewReader(c)}
			l.line()
			capa := strings.Join(l.imap("a0", "CAPABILITY"), " ")
			if got := !strings.Contains(capa, "LOGINDISABLED"); got != tc.wantPlaintext {
				t.Fatalf("plaintext login allowed = %v, want %v (capability: %s)", got, tc.wantPlaintext, capa)
			}
		})
	}
}

func TestSubmission(t *testing.T) {
	t.Parallel()
	m := Postfix(t)
	m.LogOnFailure(t)

	t.Run("before STARTTLS", func(t *testing.T) {
		d, code, _ := dialSMTP(t, m.Submission)
		if code != 220 {
			t.Fatalf("banner code %d", code)
		}
		ehlo := d.expect(250, "EHLO client.realpeers.test")
		if hasLine(ehlo, "AUTH") || !hasLine(ehlo, "STARTTLS") {
			t.Fatalf("EHLO before TLS must offer STARTTLS and no AUTH:\n%s", ehlo)
		}
		plain := base64.StdEncoding.EncodeToString([]byte("\x00kate\x00" + m.Users["kate"]))
		if code, msg := d.cmd("AUTH PLAIN %s", plain); code != 530 || !strings.HasPrefix(msg, "5.7.0 ") {
			t.Fatalf("AUTH before STARTTLS: %d %s, want 530 5.7.0", code, msg)
		}
		if code, msg := d.cmd("MAIL FROM:<kate@%s>", m.Domain); code != 530 {
			t.Fatalf("MAIL before STARTTLS: %d %s, want 530", code, msg)
		}
	})

	tests := []struct {
		name     string
		auth     func(d *smtpDialog) (int, string)
		wantCode int
	}{
		{"AUTH PLAIN", func(d *smtpDialog) (int, string) {
			return d.cmd("AUTH PLAIN %s", base64.StdEncoding.EncodeToString([]byte("\x00kate\x00"+m.Users["kate"])))
		}, 235},
		{"AUTH LOGIN", func(d *smtpDialog) (int, string) {
			d.expect(334, "AUTH LOGIN")
			d.expect(334, "%s", base64.StdEncoding.EncodeToString([]byte("chris")))
			return d.cmd("%s", base64.StdEncoding.EncodeToString([]byte(m.Users["chris"])))
		}, 235},
		{"wrong password", func(d *smtpDialog) (int, string) {
			return d.cmd("AUTH PLAIN %s", base64.StdEncoding.EncodeToString([]byte("\x00kate\x00wrong")))
		}, 535},
		{"no AUTH", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, _, _ := dialSMTP(t, m.Submission)
			d.expect(250, "EHLO client.realpeers.test")
			if err := d.starttls(m.TLSConfig()); err != nil {
				t.Fatalf("STARTTLS: %v", err)
			}
			ehlo := d.expect(250, "EHLO client.realpeers.test")
			if !hasLine(ehlo, "AUTH PLAIN LOGIN") && !hasLine(ehlo, "AUTH LOGIN PLAIN") {
				t.Fatalf("EHLO after TLS must offer AUTH PLAIN LOGIN:\n%s", ehlo)
			}
			if tc.auth != nil {
				code, msg := tc.auth(d)
				if code != tc.wantCode {
					t.Fatalf("auth: %d %s, want %d", code, msg, tc.wantCode)
				}
			}
			d.expect(250, "MAIL FROM:<kate@%s>", m.Domain)
			code, msg := d.cmd("RCPT TO:<kate@%s>", m.Domain)
			if tc.wantCode == 235 {
				if code != 250 {
					t.Fatalf("authenticated RCPT: %d %s", code, msg)
				}
				mark := marker(t)
				d.expect(354, "DATA")
				w := d.text.DotWriter()
				fmt.Fprintf(w, "Subject: %s\r\n\r\nsubmitted\r\n", mark)
				w.Close()
				if code, msg := d.reply(); code != 250 {
					t.Fatalf("end of DATA: %d %s", code, msg)
				}
				m.WaitMessage(t, "kate", mark, 15*time.Second)
				return
			}
			if code/100 != 5 {
				t.Fatalf("unauthenticated RCPT: %d %s, want a 5xx refusal", code, msg)
			}
		})
	}
}

const testZone = `$TTL 300
@       SOA  ns1 hostmaster 2024010101 3600 600 86400 300
@       NS   ns1
ns1     A    127.0.0.1
@       MX   10 mx1
@       MX   20 mx2
mx1     A    127.0.0.1
mx2     A    127.0.0.2
`

func TestNSD(t *testing.T) {
	t.Parallel()
	d := NSD(t, map[string]string{
		"example.test":      testZone,
		"nullmx.test.":      "$TTL 300\n@ SOA ns1.example.test. h.example.test. 1 3600 600 86400 300\n@ NS ns1.example.test.\n@ MX 0 .\n",
		"127.in-addr.arpa":  "$TTL 300\n@ SOA ns1.example.test. h.example.test. 1 3600 600 86400 300\n@ NS ns1.example.test.\n1.0.0 PTR mx1.example.test.\n",
		"empty-origin.test": "$TTL 300\n@ SOA ns1.example.test. h.example.test. 1 3600 600 86400 300\n@ NS ns1.example.test.\n",
	})
	tests := []struct {
		name   string
		qname  string
		qtype  uint16
		rcode  int
		answer []string // expected answer records, in presentation format, any order
	}{
		{"mx", "example.test.", dns.TypeMX, dns.RcodeSuccess, []string{"10 mx1.example.test.", "20 mx2.example.test."}},
		{"a", "mx2.example.test.", dns.TypeA, dns.RcodeSuccess, []string{"127.0.0.2"}},
		{"null mx", "nullmx.test.", dns.TypeMX, dns.RcodeSuccess, []string{"0 ."}},
		{"ptr", "1.0.0.127.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"mx1.example.test."}},
		{"nxdomain", "nope.example.test.", dns.TypeMX, dns.RcodeNameError, nil},
		{"other zone refused", "example.org.", dns.TypeMX, dns.RcodeRefused, nil},
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, tc := range tests {
			t.Run(network+"/"+tc.name, func(t *testing.T) {
				c := &dns.Client{Net: network, Timeout: 5 * time.Second}
				q := new(dns.Msg)
				q.SetQuestion(tc.qname, tc.qtype)
				r, _, err := c.Exchange(q, d.Addr)
				if err != nil {
					t.Fatalf("query: %v", err)
				}
				if r.Rcode != tc.rcode {
					t.Fatalf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
				}
				var got []string
				for _, rr := range r.Answer {
					f := strings.Fields(rr.String())
					got = append(got, strings.Join(f[4:], " "))
				}
				if strings.Join(sorted(got), "|") != strings.Join(sorted(tc.answer), "|") {
					t.Fatalf("answer %q, want %q", got, tc.answer)
				}
			})
		}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestNSDInvalidZone(t *testing.T) {
	t.Parallel()
	Require(t)
	_, err := startNSD(map[string]string{"bad.test": "$TTL 300\n@ MX 10\n"})
	if err == nil || !strings.Contains(err.Error(), "nsd-checkzone bad.test") {
		t.Fatalf("startNSD with a broken zone: err = %v, want an nsd-checkzone failure", err)
	}
}

func TestNSDStop(t *testing.T) {
	t.Parallel()
	Require(t)
	d, err := startNSD(map[string]string{"example.test": testZone})
	if err != nil {
		t.Fatal(err)
	}
	pidfile := d.Dir + "/nsd.pid"
	pid := readPID(pidfile, nsdExe)
	if pid == 0 {
		t.Fatalf("no live NSD behind %s", pidfile)
	}
	d.Stop()
	if alive(pid, nsdExe) {
		t.Fatalf("NSD %d still running after Stop", pid)
	}
	if _, err := os.Stat(d.Dir); !keepDirs() && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("base dir %s not removed: %v", d.Dir, err)
	}
	d.Stop() // second call is a no-op
}

// fakeTB records how require ended a test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped, f.msg = true, fmt.Sprintf(format, args...)
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
}

func TestRequireSkipOrFail(t *testing.T) {
	tests := []struct {
		name, ci, realPeers string
		bins                []string
		wantSkip, wantFail  bool
	}{
		{"missing locally", "", "", []string{"realpeers-no-such-binary"}, true, false},
		{"missing in CI", "true", "", []string{"realpeers-no-such-binary"}, false, true},
		{"missing, forced", "", "1", []string{"realpeers-no-such-binary"}, false, true},
		{"present in CI", "true", "", []string{"sh"}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv("MAILFLOW_REAL_PEERS", tc.realPeers)
			f := &fakeTB{TB: t}
			ok := require(f, tc.bins)
			if os.Geteuid() != 0 && !tc.wantFail && !tc.wantSkip {
				t.Skip("needs root for the positive case")
			}
			if ok != (!tc.wantSkip && !tc.wantFail) {
				t.Errorf("require returned %v", ok)
			}
			if f.skipped != tc.wantSkip || f.failed != tc.wantFail {
				t.Fatalf("skipped=%v failed=%v (%s), want skipped=%v failed=%v", f.skipped, f.failed, f.msg, tc.wantSkip, tc.wantFail)
			}
		})
	}
}

// TestWatchdogAfterCrash runs this test binary as a child that starts an NSD
// and then dies by SIGKILL (no Shutdown, no cleanups); the watchdog must stop
// that NSD and remove its directory.
func TestWatchdogAfterCrash(t *testing.T) {
	t.Parallel()
	if os.Getenv("REALPEERS_CRASH_CHILD") == "1" {
		d := NSD(t, map[string]string{"example.test": testZone})
		fmt.Printf("nsd %d %s\n", readPID(d.Dir+"/nsd.pid", nsdExe), d.Dir)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	Require(t)
	if keepDirs() {
		t.Skip("MAILFLOW_REAL_PEERS_KEEP=1 keeps directories on purpose")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWatchdogAfterCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), "REALPEERS_CRASH_CHILD=1")
	out, err := cmd.Output() // returns when the child dies: nothing else holds its stdout
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child: err = %v, want death by SIGKILL; output:\n%s", err, out)
	}
	var pid int
	var dir string
	if _, err := fmt.Sscanf(string(out), "nsd %d %s", &pid, &dir); err != nil || pid == 0 {
		t.Fatalf("child output %q: %v", out, err)
	}
	t.Cleanup(func() { // only does something when the watchdog failed
		if alive(pid, nsdExe) {
			_ = syscall.Kill(pid, syscall.SIGTERM)
		}
		if strings.HasPrefix(dir, "/tmp/realpeers-nsd-") {
			os.RemoveAll(dir)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for alive(pid, nsdExe) || exists(dir) {
		if time.Now().After(deadline) {
			t.Fatalf("after the crash: NSD %d alive=%v, %s exists=%v", pid, alive(pid, nsdExe), dir, exists(dir))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestStartMailPortTaken checks that a port grabbed by someone else between
// picking and binding makes the attempt fail with retry = true (so that
// Postfix picks other ports), for Dovecot's and for Postfix's listeners.
func TestStartMailPortTaken(t *testing.T) {
	t.Parallel()
	Require(t)
	tests := []struct {
		name  string
		taken func(p *mailPorts) *int
		want  string
	}{
		{"dovecot imap", func(p *mailPorts) *int { return &p.imap }, "dovecot"},
		{"postfix smtp", func(p *mailPorts) *int { return &p.smtp }, "postfix"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := freePorts(10, false)
			if err != nil {
				t.Fatal(err)
			}
			ports := mailPorts{ps[0], ps[1], ps[2], ps[3], ps[4], ps[5], ps[6], ps[7], ps[8]}
			l, err := net.Listen("tcp4", addr(ps[9]))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			*tc.taken(&ports) = ps[9]
			m, retry, err := startMailOnce(ports)
			if err == nil {
				t.Fatalf("started on a taken port: %+v", m)
			}
			t.Logf("err: %v", err)
			if !retry || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("retry = %v, err = %v; want retry and an error naming %s", retry, err, tc.want)
			}
		})
	}
}

func TestSubmissionsImplicitTLS(t *testing.T) {
	t.Parallel()
	m := Postfix(t)
	m.LogOnFailure(t)
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: ioTimeout}, "tcp", m.Submissions, m.TLSConfig())
	if err != nil {
		t.Fatalf("TLS dial %s: %v", m.Submissions, err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	d := &smtpDialog{t: t, conn: c, text: textproto.NewConn(c)}
	if code, msg := d.reply(); code != 220 {
		t.Fatalf("banner: %d %s", code, msg)
	}
	ehlo := d.expect(250, "EHLO client.realpeers.test")
	if hasLine(ehlo, "STARTTLS") || !hasLine(ehlo, "AUTH PLAIN LOGIN") && !hasLine(ehlo, "AUTH LOGIN PLAIN") {
		t.Fatalf("EHLO on implicit TLS must offer AUTH and no STARTTLS:\n%s", ehlo)
	}
	d.expect(235, "AUTH PLAIN %s", base64.StdEncoding.EncodeToString([]byte("\x00chris\x00"+m.Users["chris"])))
	d.expect(250, "MAIL FROM:<chris@%s>", m.Domain)
	d.expect(250, "RCPT TO:<chris@%s>", m.Domain)
	d.expect(221, "QUIT")
}
