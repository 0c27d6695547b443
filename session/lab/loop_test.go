package lab

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/miekg/dns"
)

// TestFullLoop sends a message over SMTP and reads the same message over
// POP3 and IMAP; a POP3 deletion is then visible over IMAP.
func TestFullLoop(t *testing.T) {
	l := startLab(t, Healthy)
	e := l.Endpoints()

	d := smtpReady(t, l, e.SMTP, true)
	d.expect("MAIL FROM:<chris@lab.test>", 250, "")
	d.expect("RCPT TO:<kate@lab.test>", 250, "")
	d.expect("DATA", 354, "")
	d.send(strings.TrimSuffix(testMessage, "\r\n"))
	d.expect("", 250, "")
	// And one through authenticated submission over implicit TLS.
	s := dialTLS(t, l, e.SMTPS)
	s.expect("", 220, "")
	s.expect("EHLO client.example.org", 250, "")
	s.expect(plainAuth("chris@lab.test", "chris-pass"), 235, "")
	s.expect("MAIL FROM:<chris@lab.test>", 250, "")
	s.expect("RCPT TO:<kate@lab.test>", 250, "")
	s.expect("DATA", 354, "")
	s.send("Subject: second\r\n\r\nbody two\r\n.")
	s.expect("", 250, "")

	// POP3 with STLS.
	p := dial(t, e.POP3)
	p.want("", "+OK")
	p.want("STLS", "+OK")
	p.upgrade(l)
	p.want("USER kate", "+OK")
	p.want("PASS kate-pass", "+OK")
	p.want("STAT", "+OK 2 ")
	p.want("RETR 1", "+OK")
	var lines []string
	for {
		line := p.line()
		if line == "." {
			break
		}
		lines = append(lines, line)
	}
	body := strings.Join(lines, "\n")
	for _, want := range []string{"Received: from client.example.org", "with ESMTPS", "Subject: hello", "first line", "\n..leading dot"} {
		if !strings.Contains(body, want) {
			t.Errorf("RETR 1 lacks %q:\n%s", want, body)
		}
	}

	// IMAP over implicit TLS sees both messages, with the dot unstuffed.
	c, err := imapclient.DialTLS(e.IMAPS, &imapclient.Options{TLSConfig: &tls.Config{RootCAs: l.CAPool(), ServerName: "mail.lab.test"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("kate@lab.test", "kate-pass").Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages != 2 {
		t.Fatalf("IMAP INBOX has %d messages, want 2", sel.NumMessages)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || len(msgs[0].BodySection) != 1 {
		t.Fatalf("FETCH returned %+v", msgs)
	}
	got := string(msgs[0].BodySection[0].Bytes)
	if !strings.Contains(got, "\r\n.leading dot\r\n") || !strings.Contains(got, "Subject: hello") {
		t.Errorf("IMAP body:\n%s", got)
	}

	// POP3 deletes message 1; IMAP must see only one message afterwards.
	p.want("DELE 1", "+OK")
	p.want("QUIT", "+OK")
	if !p.closed() {
		t.Error("POP3 still open after QUIT")
	}
	if err := c.Unselect().Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err = c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages != 1 {
		t.Errorf("after POP3 DELE, IMAP INBOX has %d messages, want 1", sel.NumMessages)
	}
	if m, _ := l.Messages("kate"); len(m) != 1 || !strings.Contains(string(m[0]), "Subject: second") {
		t.Errorf("Messages(kate) = %q", m)
	}
}

// TestIMAPAppendVisibleOverPOP3 checks the other direction of the shared
// store.
func TestIMAPAppendVisibleOverPOP3(t *testing.T) {
	l := startLab(t, Healthy)
	i := dial(t, l.Endpoints().IMAP)
	i.want("", "* OK")
	i.want("a LOGIN chris chris-pass", "a OK")
	msg := "Subject: appended\r\n\r\nvia IMAP\r\n"
	i.want(fmt.Sprintf("b APPEND INBOX {%d}", len(msg)), "+")
	i.conn.Write([]byte(msg + "\r\n"))
	i.want("", "b OK")
	p := dial(t, l.Endpoints().POP3)
	p.want("", "+OK")
	p.want("USER chris", "+OK")
	if l := p.want("PASS chris-pass", "+OK"); !strings.Contains(l, " 1 messages") {
		t.Errorf("PASS reply %q does not count 1 message", l)
	}
	p.want("TOP 1 0", "+OK")
	p.want("", "Subject: appended")
}

func TestSubmissionPolicy(t *testing.T) {
	l := startLab(t, Healthy)
	e := l.Endpoints()
	d := dial(t, e.Submission)
	d.expect("", 220, "")
	d.expect("EHLO client.example.org", 250, "")
	d.expect("MAIL FROM:<kate@lab.test>", 530, "5.7.0 Must issue a STARTTLS command first")
	d.expect(plainAuth("kate", "kate-pass"), 523, "") // go-smtp: TLS required for AUTH
	d.expect("STARTTLS", 220, "")
	d.upgrade(l)
	d.expect("EHLO client.example.org", 250, "")
	d.expect("MAIL FROM:<kate@lab.test>", 530, "5.7.0 Authentication required")
	d.expect(plainAuth("kate", "wrong"), 535, "5.7.8")
	d.expect("AUTH LOGIN a2F0ZQ==", 334, "UGFzc3dvcmQ6")
	d.expect("a2F0ZS1wYXNz", 235, "")
	d.expect("MAIL FROM:<kate@lab.test>", 250, "")
	// Authenticated users may relay in the healthy lab.
	d.expect("RCPT TO:<friend@example.net>", 250, "")
}

func TestCATrust(t *testing.T) {
	l := startLab(t, Healthy)
	e := l.Endpoints()
	for _, addr := range []string{e.SMTPS, e.POP3S, e.IMAPS} {
		for _, name := range []string{"mx1.lab.test", "mx2.lab.test", "mail.lab.test", "localhost"} {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{RootCAs: l.CAPool(), ServerName: name})
			if err != nil {
				t.Errorf("%s as %s: %v", addr, name, err)
				continue
			}
			c.Close()
		}
		// An empty pool (no lab CA) must fail verification.
		if c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "mail.lab.test"}); err == nil {
			c.Close()
			t.Errorf("%s verified without the lab CA", addr)
		}
	}
	// Verify by IP address SAN, too.
	c, err := tls.Dial("tcp", e.SMTPS, &tls.Config{RootCAs: l.CAPool()})
	if err != nil {
		t.Fatalf("verify by IP: %v", err)
	}
	leaf := c.ConnectionState().PeerCertificates[0]
	c.Close()
	if leaf.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("leaf key %v, want ECDSA", leaf.PublicKeyAlgorithm)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(l.CAPEM()) {
		t.Fatal("CAPEM is not a PEM certificate")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "mx1.lab.test"}); err != nil {
		t.Errorf("leaf does not verify against CAPEM: %v", err)
	}
}

func TestDNS(t *testing.T) {
	l := startLab(t, Healthy)
	addr := l.Endpoints().DNS
	ask := func(t *testing.T, net, name string, qtype uint16) *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		c := &dns.Client{Net: net, Timeout: 5 * time.Second}
		r, _, err := c.Exchange(m, addr)
		if err != nil {
			t.Fatalf("%s %s over %s: %v", name, dns.TypeToString[qtype], net, err)
		}
		return r
	}
	answers := func(r *dns.Msg) []string {
		var out []string
		for _, rr := range r.Answer {
			h := rr.Header()
			out = append(out, strings.TrimPrefix(rr.String(), h.String()))
		}
		return out
	}
	tests := []struct {
		scenario string
		name     string
		qtype    uint16
		rcode    int
		want     []string
	}{
		{Healthy, "lab.test.", dns.TypeMX, dns.RcodeSuccess, []string{"10 mx1.lab.test.", "20 mx2.lab.test."}},
		{Healthy, "mx1.lab.test.", dns.TypeA, dns.RcodeSuccess, []string{"127.0.0.1"}},
		{Healthy, "MX2.Lab.Test.", dns.TypeA, dns.RcodeSuccess, []string{"127.0.0.1"}},
		{Healthy, "lab.test.", dns.TypeTXT, dns.RcodeSuccess, []string{`"v=spf1 ip4:127.0.0.0/8 -all"`}},
		{Healthy, "_dmarc.lab.test.", dns.TypeTXT, dns.RcodeSuccess, []string{`"v=DMARC1; p=reject; rua=mailto:dmarc@lab.test"`}},
		{Healthy, "1.0.0.127.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"mx1.lab.test."}},
		{Healthy, "nope.lab.test.", dns.TypeA, dns.RcodeNameError, nil},
		{Healthy, "mx1.lab.test.", dns.TypeAAAA, dns.RcodeSuccess, nil},
		{Healthy, "example.com.", dns.TypeA, dns.RcodeRefused, nil},
		{Healthy, "1.0.0.127.bl.lab.test.", dns.TypeA, dns.RcodeNameError, nil},
		{NullMX, "lab.test.", dns.TypeMX, dns.RcodeSuccess, []string{"0 ."}},
		{NoMX, "lab.test.", dns.TypeMX, dns.RcodeSuccess, nil},
		{NoMX, "lab.test.", dns.TypeA, dns.RcodeSuccess, []string{"127.0.0.1"}},
		{SPFFail, "lab.test.", dns.TypeTXT, dns.RcodeSuccess, []string{`"v=spf1 ip4:192.0.2.0/24 -all"`}},
		{Blocklisted, "1.0.0.127.bl.lab.test.", dns.TypeA, dns.RcodeSuccess, []string{"127.0.0.2"}},
		{DeadPrimary, "lab.test.", dns.TypeMX, dns.RcodeSuccess, []string{"10 mx1.lab.test.", "20 mx2.lab.test."}},
	}
	for _, tt := range tests {
		for _, proto := range []string{"udp", "tcp"} {
			t.Run(fmt.Sprintf("%s/%s/%s/%s", tt.scenario, tt.name, dns.TypeToString[tt.qtype], proto), func(t *testing.T) {
				if err := l.SetScenario(tt.scenario); err != nil {
					t.Fatal(err)
				}
				r := ask(t, proto, tt.name, tt.qtype)
				if r.Rcode != tt.rcode {
					t.Fatalf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tt.rcode])
				}
				if got := answers(r); strings.Join(got, "|") != strings.Join(tt.want, "|") {
					t.Errorf("answers %q, want %q", got, tt.want)
				}
				if tt.rcode != dns.RcodeRefused && !r.Authoritative {
					t.Error("answer not authoritative")
				}
				if len(tt.want) == 0 && tt.rcode != dns.RcodeRefused && len(r.Ns) != 1 {
					t.Errorf("negative answer without SOA: %v", r.Ns)
				}
			})
		}
	}
}

func TestEndpointsJSON(t *testing.T) {
	l := startLab(t, Healthy)
	b, err := json.Marshal(l.Endpoints())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"dns", "smtp", "submission", "smtps", "pop3", "pop3s", "imap", "imaps", "mx", "users", "ca_pem", "scenario"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	seen := map[string]bool{}
	e := l.Endpoints()
	for _, a := range []string{e.SMTP, e.Submission, e.SMTPS, e.POP3, e.POP3S, e.IMAP, e.IMAPS} {
		if seen[a] {
			t.Errorf("address %s used twice", a)
		}
		seen[a] = true
		host, _, err := net.SplitHostPort(a)
		if err != nil || !net.ParseIP(host).IsLoopback() {
			t.Errorf("endpoint %q is not on loopback", a)
		}
	}
}

func TestConfiguredAddresses(t *testing.T) {
	free := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	smtpAddr, popAddr := free(), free()
	l, err := Start(t.Context(), Config{SMTP: smtpAddr, POP3: popAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if e := l.Endpoints(); e.SMTP != smtpAddr || e.POP3 != popAddr {
		t.Errorf("endpoints %s %s, want %s %s", e.SMTP, e.POP3, smtpAddr, popAddr)
	}
	// A taken address is an error, and the half-started lab cleans up.
	if _, err := Start(t.Context(), Config{SMTP: smtpAddr}); err == nil || !strings.Contains(err.Error(), "listen smtp") {
		t.Errorf("Start on a taken port: %v", err)
	}
}

// TestCloseNoLeak checks that Close ends every goroutine the lab started,
// including held connections (no-banner, slow-banner) and open sessions.
func TestCloseNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, sc := range []string{Healthy, NoBanner, SlowBanner} {
		l, err := Start(t.Context(), Config{Scenario: sc, BannerDelay: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		e := l.Endpoints()
		var conns []net.Conn
		for _, a := range []string{e.SMTP, e.Submission, e.SMTPS, e.POP3, e.POP3S, e.IMAP, e.IMAPS} {
			c, err := net.Dial("tcp", a)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		time.Sleep(50 * time.Millisecond)
		done := make(chan error, 1)
		go func() { done <- l.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: Close: %v", sc, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: Close hangs", sc)
		}
		if err := l.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		for _, c := range conns {
			c.Close()
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines: %d before, %d after Close\n%s", before, runtime.NumGoroutine(), buf[:n])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCustomUsers(t *testing.T) {
	if _, err := Start(t.Context(), Config{Users: []User{{Login: "x"}}}); err == nil {
		t.Error("Start accepted a user without a password")
	}
	l, err := Start(t.Context(), Config{Users: []User{{Login: "zoe", Password: "zoe-pass"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if u := l.Endpoints().Users; len(u) != 1 || u[0].Address != "zoe@lab.test" {
		t.Fatalf("users %+v", u)
	}
	p := dial(t, l.Endpoints().POP3)
	p.want("", "+OK")
	p.want("USER zoe@lab.test", "+OK")
	p.want("PASS zoe-pass", "+OK")
	p.want("QUIT", "+OK")
	d := smtpReady(t, l, l.Endpoints().SMTP, false)
	d.expect("MAIL FROM:<a@example.org>", 250, "")
	d.expect("RCPT TO:<kate@lab.test>", 550, "5.1.1")
}
