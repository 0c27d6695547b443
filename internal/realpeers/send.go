package realpeers

import (
	"net/smtp"
	"testing"
)

// Send delivers message (header and body with CRLF line ends, without the
// terminating dot) to rcpt at Mail.SMTP, with STARTTLS against the test CA,
// from sender@example.org, using the standard library's SMTP client so
// that a test of mailflow's own client does not depend on it. It fails
// the test at the first refused step. Combine it with WaitMessage to know
// the message has reached the mailbox.
func (m *Mail) Send(t testing.TB, rcpt, message string) {
	t.Helper()
	c, err := smtp.Dial(m.SMTP)
	if err != nil {
		t.Fatalf("realpeers: dial %s: %v", m.SMTP, err)
	}
	defer c.Close()
	steps := []struct {
		name string
		do   func() error
	}{
		{"EHLO", func() error { return c.Hello("client.realpeers.test") }},
		{"STARTTLS", func() error { return c.StartTLS(m.TLSConfig()) }},
		{"MAIL", func() error { return c.Mail("sender@example.org") }},
		{"RCPT", func() error { return c.Rcpt(rcpt) }},
		{"DATA", func() error {
			w, err := c.Data()
			if err != nil {
				return err
			}
			if _, err := w.Write([]byte(message)); err != nil {
				return err
			}
			return w.Close()
		}},
		{"QUIT", c.Quit},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("realpeers: send to %s: %s: %v", rcpt, s.name, err)
		}
	}
}
