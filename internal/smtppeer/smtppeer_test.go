package smtppeer

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

func dialerLines(t *testing.T, addr string, send ...string) []string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	var replies []string
	read := func() {
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			replies = append(replies, strings.TrimRight(l, "\r\n"))
			if len(l) < 4 || l[3] != '-' {
				return
			}
		}
	}
	read()
	for _, s := range send {
		c.Write([]byte(s + "\r\n"))
		if s != "hello" && s != "." { // message lines get no reply
			read()
		}
		if s == "." {
			read()
		}
	}
	return replies
}

func TestScriptedSession(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := Serve(t, Config{EHLO: []string{"DSN"}, Rcpt: func(to string) string {
		if strings.Contains(to, "nobody") {
			return "550 5.1.1 no such user"
		}
		return "250 ok"
	}}, ln)
	got := dialerLines(t, ln.Addr().String(), "EHLO c.test", "MAIL FROM:<a@b.test>", "RCPT TO:<nobody@x.test>",
		"RCPT TO:<kate@x.test>", "DATA", "hello", ".", "QUIT")
	want := []string{"220 peer.test ESMTP", "250-peer.test", "250 DSN", "250 2.0.0 ok", "550 5.1.1 no such user",
		"250 ok", "354 go ahead", "250 2.0.0 queued", "221 2.0.0 bye"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("replies:\n%q\nwant\n%q", got, want)
	}
	lines := p.Conn(t)
	if strings.Join(lines, "|") != "EHLO c.test|MAIL FROM:<a@b.test>|RCPT TO:<nobody@x.test>|RCPT TO:<kate@x.test>|DATA|<message>|QUIT" {
		t.Fatalf("recorded %q", lines)
	}
}

func TestRefusingGreeting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := Serve(t, Config{Greeting: "554 5.7.1 go away"}, ln)
	got := dialerLines(t, ln.Addr().String(), "QUIT")
	if strings.Join(got, "|") != "554 5.7.1 go away|221 bye" {
		t.Fatalf("replies %q", got)
	}
	if lines := p.Conn(t); len(lines) != 1 || lines[0] != "QUIT" {
		t.Fatalf("recorded %q", lines)
	}
}
