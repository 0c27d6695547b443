package wizard

import (
	"slices"
	"strings"
	"testing"
)

func ids(steps []Step) string {
	var out []string
	for _, s := range steps {
		out = append(out, s.ID)
	}
	return strings.Join(out, " ")
}

// TestPlanned walks runs to a point and checks the steps still planned
// from there, and that they agree with Progress.
func TestPlanned(t *testing.T) {
	ehloTLS := lines("250-mx.example Hello", "250-STARTTLS", "250 AUTH LOGIN PLAIN")
	ehloPlain := lines("250-mx.example Hello", "250 SIZE 1000")
	smtp := func(mod func(*Params)) Params {
		p := Params{From: "a@example.org", To: "b@example.net", Helo: "client.example.org"}
		if mod != nil {
			mod(&p)
		}
		return p
	}
	for _, tt := range []struct {
		name  string
		proto Proto
		p     Params
		run   func(t *testing.T, m *Machine)
		want  string
	}{
		{name: "smtp fresh", proto: SMTP, p: smtp(nil),
			want: "mx connect ehlo mail rcpt data subject blank body dot quit evaluate"},
		{name: "smtp host given", proto: SMTP, p: smtp(func(p *Params) { p.Host = "mx.example.net" }),
			want: "connect ehlo mail rcpt data subject blank body dot quit evaluate"},
		{name: "smtp STARTTLS offered", proto: SMTP, p: smtp(func(p *Params) { p.Host = "mx" }),
			run:  func(t *testing.T, m *Machine) { m.Observe(lines("220 hi")); m.Observe(ehloTLS) },
			want: "starttls tls ehlo-tls mail rcpt data subject blank body dot quit evaluate"},
		{name: "smtp STARTTLS offered, NoTLS", proto: SMTP, p: smtp(func(p *Params) { p.Host = "mx"; p.NoTLS = true }),
			run:  func(t *testing.T, m *Machine) { m.Observe(lines("220 hi")); m.Observe(ehloTLS) },
			want: "mail rcpt data subject blank body dot quit evaluate"},
		{name: "smtp not offered", proto: SMTP, p: smtp(func(p *Params) { p.Host = "mx" }),
			run:  func(t *testing.T, m *Machine) { m.Observe(lines("220 hi")); m.Observe(ehloPlain) },
			want: "mail rcpt data subject blank body dot quit evaluate"},
		{name: "smtp auth after STARTTLS accepted", proto: SMTP, p: smtp(func(p *Params) { p.Host = "mx"; p.UseAuth = true; p.User = "u" }),
			run: func(t *testing.T, m *Machine) {
				m.Observe(lines("220 hi"))
				m.Observe(ehloTLS)
				m.Observe(lines("220 go ahead"))
			},
			want: "tls ehlo-tls auth auth-user auth-pass mail rcpt data subject blank body dot quit evaluate"},
		{name: "smtp EHLO refused", proto: SMTP, p: smtp(func(p *Params) { p.Host = "mx" }),
			run:  func(t *testing.T, m *Machine) { m.Observe(lines("220 hi")); m.Observe(lines("502 no")) },
			want: "helo mail rcpt data subject blank body dot quit evaluate"},
		{name: "smtp quit jump", proto: SMTP, p: smtp(func(p *Params) { p.Host = "mx" }),
			run: func(t *testing.T, m *Machine) {
				m.Observe(lines("220 hi"))
				if !m.Quit() {
					t.Fatal("Quit refused")
				}
			},
			want: "quit evaluate"},
		{name: "pop3 tls", proto: POP3, p: Params{Host: "h", User: "u", UseTLS: true},
			want: "connect stls tls user pass stat list retr quit evaluate"},
		{name: "pop3 empty mailbox", proto: POP3, p: Params{Host: "h", User: "u"},
			run: func(t *testing.T, m *Machine) {
				for _, r := range []Reply{lines("+OK hi"), lines("+OK"), lines("+OK"), lines("+OK 0 0")} {
					m.Observe(r)
				}
			},
			want: "list quit evaluate"},
		{name: "imap implicit", proto: IMAP, p: Params{Host: "h", User: "u", ImplicitTLS: true},
			want: "connect login capability list select fetch logout evaluate"},
		{name: "done", proto: POP3, p: Params{Host: "h", User: "u"},
			run: func(t *testing.T, m *Machine) {
				for _, r := range []Reply{lines("+OK hi"), lines("+OK"), lines("+OK"), lines("+OK 0 0"), lines("+OK"), lines("+OK bye")} {
					m.Observe(r)
				}
			},
			want: "evaluate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := mustNew(t, tt.proto, tt.p)
			if tt.run != nil {
				tt.run(t, &m)
			}
			got := m.Planned()
			if ids(got) != tt.want {
				t.Errorf("Planned = %q, want %q", ids(got), tt.want)
			}
			if len(got) > 0 && got[0].ID != m.Current().ID {
				t.Errorf("Planned starts at %s, current is %s", got[0].ID, m.Current().ID)
			}
			n, total := m.Progress()
			if total-n+1 != len(got) {
				t.Errorf("Progress %d/%d disagrees with %d planned steps", n, total, len(got))
			}
		})
	}
}

func TestNoTLSContradiction(t *testing.T) {
	for _, p := range []Params{{Host: "h", User: "u", NoTLS: true, UseTLS: true}, {Host: "h", User: "u", NoTLS: true, ImplicitTLS: true}} {
		if _, err := New(POP3, p); err == nil || !strings.Contains(err.Error(), "NoTLS") {
			t.Errorf("New(%+v) = %v, want a contradiction error", p, err)
		}
	}
	if !slices.Contains(knownWhen, "tls") {
		t.Fatal("the tls condition is gone")
	}
}
