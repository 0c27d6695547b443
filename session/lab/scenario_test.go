package lab

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// TestScenarios drives each scenario with a raw dialogue and checks the
// exact reply it is meant to produce.
func TestScenarios(t *testing.T) {
	tests := []struct {
		scenario string
		run      func(t *testing.T, l *Lab)
	}{
		{Healthy, func(t *testing.T, l *Lab) {
			d := smtpReady(t, l, l.Endpoints().SMTP, false)
			d.expect("MAIL FROM:<chris@example.org>", 250, "")
			d.expect("RCPT TO:<nobody@lab.test>", 550, "5.1.1")
			d.expect("RCPT TO:<someone@example.net>", 554, "5.7.1")
			d.expect("RCPT TO:<kate@lab.test>", 250, "")
			d.expect("DATA", 354, "")
			d.send(strings.TrimSuffix(testMessage, "\r\n"))
			d.expect("", 250, "")
			d.expect("QUIT", 221, "")
		}},
		{UserUnknown, func(t *testing.T, l *Lab) {
			d := smtpReady(t, l, l.Endpoints().SMTP, false)
			d.expect("MAIL FROM:<chris@example.org>", 250, "")
			d.expect("RCPT TO:<kate@lab.test>", 550, "5.1.1 <kate@lab.test>: Recipient address rejected: User unknown")
		}},
		{RelayDenied, func(t *testing.T, l *Lab) {
			d := submissionReady(t, l)
			d.expect("MAIL FROM:<kate@lab.test>", 250, "")
			d.expect("RCPT TO:<someone@example.net>", 554, "5.7.1 <someone@example.net>: Relay access denied")
			d.expect("RCPT TO:<chris@lab.test>", 250, "")
		}},
		{AnonymousRejected, func(t *testing.T, l *Lab) {
			d := smtpReady(t, l, l.Endpoints().SMTP, false)
			d.expect("MAIL FROM:<chris@example.org>", 530, "5.7.1 Client was not authenticated")
		}},
		{BadHelo, func(t *testing.T, l *Lab) {
			d := dial(t, l.Endpoints().SMTP)
			d.expect("", 220, "")
			d.expect("EHLO localhost", 501, "5.5.4 Invalid domain name")
			d.expect("HELO 192.0.2.1", 501, "5.5.4 Invalid domain name")
			d.expect("EHLO [127.0.0.1]", 250, "")
		}},
		{StartTLSRequired, func(t *testing.T, l *Lab) {
			d := smtpReady(t, l, l.Endpoints().SMTP, false)
			d.expect("MAIL FROM:<chris@example.org>", 530, "5.7.0 Must issue a STARTTLS command first")
			d.expect("STARTTLS", 220, "")
			d.upgrade(l)
			d.expect("EHLO client.example.org", 250, "")
			d.expect("MAIL FROM:<chris@example.org>", 250, "")
		}},
		{AuthFailed, func(t *testing.T, l *Lab) {
			d := smtpReady(t, l, l.Endpoints().Submission, true)
			d.expect(plainAuth("kate", "kate-pass"), 535, "5.7.8")
			d.expect("AUTH LOGIN", 334, "VXNlcm5hbWU6") // "Username:"
			d.expect("a2F0ZQ==", 334, "UGFzc3dvcmQ6")   // "Password:"
			d.expect("a2F0ZS1wYXNz", 535, "5.7.8")
		}},
		{Greylisted, func(t *testing.T, l *Lab) {
			d := smtpReady(t, l, l.Endpoints().SMTP, false)
			d.expect("MAIL FROM:<chris@example.org>", 250, "")
			d.expect("RCPT TO:<kate@lab.test>", 451, "4.7.1")
			d.expect("RCPT TO:<kate@lab.test>", 451, "4.7.1") // too early
			time.Sleep(400 * time.Millisecond)
			d.expect("RCPT TO:<kate@lab.test>", 250, "")
			d.expect("RCPT TO:<chris@lab.test>", 451, "4.7.1") // new triplet
		}},
		{MailboxFull, func(t *testing.T, l *Lab) {
			d := smtpReady(t, l, l.Endpoints().SMTP, false)
			d.expect("MAIL FROM:<x@example.org>", 250, "")
			d.expect("RCPT TO:<kate@lab.test>", 452, "4.2.2")
			d.expect("RCPT TO:<chris@lab.test>", 250, "")
			d.expect("DATA", 354, "")
			d.send("Subject: big\r\n\r\n" + strings.Repeat(strings.Repeat("x", 70)+"\r\n", 30) + ".")
			d.expect("", 552, "5.2.2")
			// A small message still fits.
			d.expect("MAIL FROM:<x@example.org>", 250, "")
			d.expect("RCPT TO:<chris@lab.test>", 250, "")
			d.expect("DATA", 354, "")
			d.send("Subject: small\r\n\r\nhi\r\n.")
			d.expect("", 250, "")
		}},
		{MessageTooBig, func(t *testing.T, l *Lab) {
			d := dial(t, l.Endpoints().SMTP)
			d.expect("", 220, "")
			d.send("EHLO client.example.org")
			sawSize := false
			for {
				line := d.line()
				if strings.Contains(line, "SIZE 10240") {
					sawSize = true
				}
				if line[3] == ' ' {
					break
				}
			}
			if !sawSize {
				t.Error("EHLO does not advertise SIZE 10240")
			}
			d.expect("MAIL FROM:<x@example.org> SIZE=20000", 552, "5.3.4")
			d.expect("MAIL FROM:<x@example.org>", 250, "")
			d.expect("RCPT TO:<kate@lab.test>", 250, "")
			d.expect("DATA", 354, "")
			d.send("Subject: big\r\n\r\n" + strings.Repeat(strings.Repeat("y", 70)+"\r\n", 200) + ".")
			d.expect("", 552, "5.3.4")
		}},
		{Blocklisted, func(t *testing.T, l *Lab) {
			d := smtpReady(t, l, l.Endpoints().SMTP, false)
			d.expect("MAIL FROM:<x@example.org>", 250, "")
			text := d.expect("RCPT TO:<kate@lab.test>", 554, "5.7.1")
			if !strings.Contains(text, "bl.lab.test") || !strings.Contains(text, "127.0.0.1") {
				t.Errorf("blocklist reply %q does not name the list and the IP", text)
			}
		}},
		{SPFFail, func(t *testing.T, l *Lab) {
			d := smtpReady(t, l, l.Endpoints().SMTP, false)
			d.expect("MAIL FROM:<x@example.org>", 250, "")
			d.expect("RCPT TO:<kate@lab.test>", 250, "")
			d.expect("DATA", 354, "")
			d.send("Subject: spf\r\n\r\nhi\r\n.")
			d.expect("", 550, "5.7.23")
		}},
		{SlowBanner, func(t *testing.T, l *Lab) {
			d := dial(t, l.Endpoints().SMTP)
			start := time.Now()
			d.expect("", 220, "mx1.lab.test")
			if el := time.Since(start); el < 250*time.Millisecond {
				t.Errorf("banner after %v, want at least the configured 300ms", el)
			}
			// Submission is not delayed.
			d2 := dial(t, l.Endpoints().Submission)
			d2.expect("", 220, "mail.lab.test")
		}},
		{NoBanner, func(t *testing.T, l *Lab) {
			d := dial(t, l.Endpoints().SMTP)
			d.conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			n, err := d.r.ReadByte()
			var ne net.Error
			if err == nil || !(errors.As(err, &ne) && ne.Timeout()) {
				t.Fatalf("no-banner: read %q, %v; want a timeout", n, err)
			}
		}},
		{ConnRefused, func(t *testing.T, l *Lab) {
			if c, err := net.DialTimeout("tcp", l.Endpoints().SMTP, 2*time.Second); err == nil {
				c.Close()
				t.Fatal("SMTP port accepted a connection under connection-refused")
			}
			// The other services still run.
			dial(t, l.Endpoints().Submission).expect("", 220, "")
		}},
		{DeadPrimary, func(t *testing.T, l *Lab) {
			mx := l.Endpoints().MX
			if len(mx) != 2 || mx[0].Preference != 10 || mx[1].Preference != 20 {
				t.Fatalf("MX = %+v", mx)
			}
			if c, err := net.DialTimeout("tcp", mx[0].Addr, 2*time.Second); err == nil {
				c.Close()
				t.Fatal("MX 10 address accepts connections")
			}
			dial(t, mx[1].Addr).expect("", 220, "")
		}},
		{NullMX, func(t *testing.T, l *Lab) {
			e := l.Endpoints()
			if !e.NullMX || len(e.MX) != 0 {
				t.Fatalf("null-mx endpoints: %+v %v", e.MX, e.NullMX)
			}
		}},
		{NoMX, func(t *testing.T, l *Lab) {
			e := l.Endpoints()
			if len(e.MX) != 1 || !e.MX[0].Implicit || e.MX[0].Addr != e.SMTP {
				t.Fatalf("no-mx endpoints: %+v", e.MX)
			}
		}},
		{UntrustedCert, func(t *testing.T, l *Lab) { expectBadCert(t, l, "unknown authority") }},
		{ExpiredCert, func(t *testing.T, l *Lab) { expectBadCert(t, l, "expired") }},
		{POP3LoginFailed, func(t *testing.T, l *Lab) {
			d := dial(t, l.Endpoints().POP3)
			d.want("", "+OK")
			d.want("USER kate", "+OK")
			d.want("PASS kate-pass", "-ERR [AUTH]")
			// IMAP still works in this scenario.
			i := dial(t, l.Endpoints().IMAP)
			i.want("", "* OK")
			i.want("a1 LOGIN kate kate-pass", "a1 OK")
		}},
		{IMAPLoginFailed, func(t *testing.T, l *Lab) {
			d := dial(t, l.Endpoints().IMAP)
			d.want("", "* OK")
			d.want("a1 LOGIN kate kate-pass", "a1 NO [AUTHENTICATIONFAILED]")
			p := dial(t, l.Endpoints().POP3)
			p.want("", "+OK")
			p.want("USER kate", "+OK")
			p.want("PASS kate-pass", "+OK")
		}},
		{DisconnectMidData, func(t *testing.T, l *Lab) {
			d := smtpReady(t, l, l.Endpoints().SMTP, false)
			d.expect("MAIL FROM:<x@example.org>", 250, "")
			d.expect("RCPT TO:<kate@lab.test>", 250, "")
			d.expect("DATA", 354, "")
			d.send("Subject: cut\r\n\r\nsome text")
			if !d.closed() {
				t.Fatal("connection still open during DATA")
			}
			if msgs, _ := l.Messages("kate"); len(msgs) != 0 {
				t.Errorf("%d messages delivered despite the drop", len(msgs))
			}
		}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.scenario] = true
		t.Run(tt.scenario, func(t *testing.T) {
			t.Parallel()
			l := startLab(t, tt.scenario)
			if got := l.Scenario(); got != tt.scenario {
				t.Fatalf("Scenario() = %q", got)
			}
			tt.run(t, l)
		})
	}
	for _, s := range Scenarios() {
		if !covered[s.Name] {
			t.Errorf("scenario %s has no test", s.Name)
		}
	}
}

func expectBadCert(t *testing.T, l *Lab, want string) {
	t.Helper()
	e := l.Endpoints()
	for _, addr := range []string{e.SMTPS, e.POP3S, e.IMAPS} {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		tc := tlsClient(c, l)
		err = tc.Handshake()
		c.Close()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: handshake error %v, want one mentioning %q", addr, err, want)
		}
	}
	// STARTTLS on the SMTP endpoint presents the same certificate.
	d := smtpReady(t, l, e.SMTP, false)
	d.expect("STARTTLS", 220, "")
	if err := tlsClient(d.conn, l).Handshake(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("STARTTLS: handshake error %v, want %q", err, want)
	}
}

func TestSetScenarioAtRuntime(t *testing.T) {
	l := startLab(t, Healthy)
	addr := l.Endpoints().SMTP
	if err := l.SetScenario("no-such"); err == nil {
		t.Fatal("SetScenario accepted an unknown name")
	}
	// A connection opened under healthy keeps healthy.
	old := smtpReady(t, l, addr, false)
	if err := l.SetScenario(UserUnknown); err != nil {
		t.Fatal(err)
	}
	old.expect("MAIL FROM:<x@example.org>", 250, "")
	old.expect("RCPT TO:<kate@lab.test>", 250, "")
	d := smtpReady(t, l, addr, false)
	d.expect("MAIL FROM:<x@example.org>", 250, "")
	d.expect("RCPT TO:<kate@lab.test>", 550, "5.1.1")

	if err := l.SetScenario(ConnRefused); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", addr, 2*time.Second); err == nil {
		c.Close()
		t.Fatal("SMTP still listening under connection-refused")
	}
	if err := l.SetScenario(Healthy); err != nil {
		t.Fatal(err)
	}
	if l.Endpoints().SMTP != addr {
		t.Fatalf("SMTP moved from %s to %s", addr, l.Endpoints().SMTP)
	}
	smtpReady(t, l, addr, false).expect("QUIT", 221, "")
}

func TestValidHelo(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"mail.example.org", true},
		{"mail.example.org.", true},
		{"[127.0.0.1]", true},
		{"[IPv6:::1]", true},
		{"localhost", false},
		{"127.0.0.1", false},
		{"bad_name.example", false},
		{"-a.example", false},
		{"a..example", false},
		{"[not-an-ip]", false},
	}
	for _, tt := range tests {
		if got := validHelo(tt.name); got != tt.ok {
			t.Errorf("validHelo(%q) = %v, want %v", tt.name, got, tt.ok)
		}
	}
}

func TestScenarioCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Scenarios() {
		if s.Name == "" || s.Description == "" || s.Conclusion == "" || strings.Contains(s.Description, "\n") {
			t.Errorf("incomplete scenario %+v", s)
		}
		if seen[s.Name] {
			t.Errorf("duplicate scenario %s", s.Name)
		}
		seen[s.Name] = true
		if _, err := LookupScenario(s.Name); err != nil {
			t.Error(err)
		}
	}
	if len(seen) != 23 {
		t.Errorf("%d scenarios, want 23", len(seen))
	}
	if _, err := LookupScenario("nope"); err == nil {
		t.Error("LookupScenario accepted an unknown name")
	}
	if _, err := Start(t.Context(), Config{Scenario: "nope"}); err == nil {
		t.Error("Start accepted an unknown scenario")
	}
}
