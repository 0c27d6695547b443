package lab

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startLab starts a lab with short delays and closes it after the test.
func startLab(t *testing.T, scenario string) *Lab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := Start(ctx, Config{Scenario: scenario, GreylistDelay: 300 * time.Millisecond, BannerDelay: 300 * time.Millisecond})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// dialog is a raw line-oriented client for SMTP, POP3 and IMAP tests.
type dialog struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr string) *dialog {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(15 * time.Second))
	return &dialog{t: t, conn: c, r: bufio.NewReader(c)}
}

func dialTLS(t *testing.T, l *Lab, addr string) *dialog {
	t.Helper()
	d := dial(t, addr)
	d.upgrade(l)
	return d
}

func (d *dialog) upgrade(l *Lab) {
	d.t.Helper()
	tc := tls.Client(d.conn, &tls.Config{RootCAs: l.CAPool(), ServerName: "mail.lab.test"})
	if err := tc.Handshake(); err != nil {
		d.t.Fatalf("TLS handshake: %v", err)
	}
	d.conn, d.r = tc, bufio.NewReader(tc)
}

func (d *dialog) send(line string) {
	d.t.Helper()
	if _, err := d.conn.Write([]byte(line + "\r\n")); err != nil {
		d.t.Fatalf("write %q: %v", line, err)
	}
}

func (d *dialog) line() string {
	d.t.Helper()
	l, err := d.r.ReadString('\n')
	if err != nil {
		d.t.Fatalf("read: %v (partial %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

// reply reads one SMTP reply (all lines) and returns its code and the
// text of its last line.
func (d *dialog) reply() (int, string) {
	d.t.Helper()
	for {
		l := d.line()
		if len(l) < 4 {
			d.t.Fatalf("short SMTP reply line %q", l)
		}
		code, err := strconv.Atoi(l[:3])
		if err != nil {
			d.t.Fatalf("bad SMTP reply line %q", l)
		}
		if l[3] == ' ' {
			return code, l[4:]
		}
	}
}

// expect sends cmd (if not empty) and checks the SMTP reply's code and,
// when given, that its text starts with prefix.
func (d *dialog) expect(cmd string, code int, prefix string) string {
	d.t.Helper()
	if cmd != "" {
		d.send(cmd)
	}
	got, text := d.reply()
	if got != code || !strings.HasPrefix(text, prefix) {
		d.t.Fatalf("%q: got %d %q, want %d %q", cmd, got, text, code, prefix)
	}
	return text
}

// want reads one line and checks its prefix (POP3, IMAP).
func (d *dialog) want(cmd, prefix string) string {
	d.t.Helper()
	if cmd != "" {
		d.send(cmd)
	}
	l := d.line()
	if !strings.HasPrefix(l, prefix) {
		d.t.Fatalf("%q: got %q, want prefix %q", cmd, l, prefix)
	}
	return l
}

// closed reports whether the peer has closed the connection (a read
// timeout is not a close).
func (d *dialog) closed() bool {
	d.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := d.r.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func plainAuth(user, pass string) string {
	return "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pass))
}

// smtpReady greets and upgrades an SMTP dialog on the given endpoint.
func smtpReady(t *testing.T, l *Lab, addr string, tlsUp bool) *dialog {
	t.Helper()
	d := dial(t, addr)
	d.expect("", 220, "")
	d.expect("EHLO client.example.org", 250, "")
	if tlsUp {
		d.expect("STARTTLS", 220, "")
		d.upgrade(l)
		d.expect("EHLO client.example.org", 250, "")
	}
	return d
}

// submissionReady returns an authenticated submission dialog.
func submissionReady(t *testing.T, l *Lab) *dialog {
	t.Helper()
	d := smtpReady(t, l, l.Endpoints().Submission, true)
	d.expect(plainAuth("kate", "kate-pass"), 235, "")
	return d
}

const testMessage = "From: chris@lab.test\r\nTo: kate@lab.test\r\nSubject: hello\r\n\r\nfirst line\r\n..leading dot\r\n.\r\n"

func tlsClient(c net.Conn, l *Lab) *tls.Conn {
	return tls.Client(c, &tls.Config{RootCAs: l.CAPool(), ServerName: "mail.lab.test"})
}
