package imap

import (
	"encoding/base64"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailflow/mailflow/internal/clienttest"
	"github.com/mailflow/mailflow/internal/peertest"
	"github.com/mailflow/mailflow/internal/transcripttest"
	"github.com/mailflow/mailflow/session/wire"
)

const greeting = "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ STARTTLS AUTH=PLAIN] Dovecot ready."

func TestSession(t *testing.T) {
	msg := "Subject: hi\r\n\r\nline one\r\n"
	addr, p := peertest.Start(t, func(p *peertest.Peer) {
		p.Send(greeting)
		p.Expect("a001 CAPABILITY")
		p.Send("* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN ID", "a001 OK Pre-login capabilities listed, post-login capabilities have more.")
		p.Expect(`a002 LOGIN kate "s3cret pass"`)
		p.Send("a002 OK [CAPABILITY IMAP4rev1 MOVE IDLE] Logged in")
		p.Expect(`a003 LIST "" *`)
		p.Send(`* LIST (\HasNoChildren) "." INBOX`, `* LIST (\HasNoChildren \Sent) "." {9}`, "Sent Mail", "a003 OK List completed (0.001 + 0.000 secs).")
		p.Expect("a004 SELECT INBOX")
		p.Send(`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`,
			`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.`,
			"* 2 EXISTS", "* 0 RECENT", "* OK [UIDVALIDITY 1700000000] UIDs valid", "* OK [UIDNEXT 3] Predicted next UID",
			"a004 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).")
		p.Expect("a005 SEARCH SUBJECT hi")
		p.Send("* SEARCH 2", "a005 OK Search completed")
		p.Expect("a006 FETCH 2 (UID BODY.PEEK[])")
		p.Write("* 2 FETCH (UID 2 BODY[] {" + strconv.Itoa(len(msg)) + "}\r\n" + msg + ")\r\n")
		p.Send("a006 OK Fetch completed.")
		p.Expect("a007 NOOP")
		p.Send("* 3 EXISTS", "a007 OK NOOP completed.")
		p.Expect("a008 LOGOUT")
		p.Send("* BYE Logging out", "a008 OK Logout completed.")
	})
	c, ctx, ts := clienttest.Dial(t, Dial, addr, wire.Options{})
	if !c.HasCap("starttls") || c.Preauth() {
		t.Errorf("caps from greeting = %q", c.Caps())
	}
	caps, err := c.Capability(ctx)
	if err != nil || !reflect.DeepEqual(caps, []string{"IMAP4rev1", "LITERAL+", "SASL-IR", "AUTH=PLAIN", "ID"}) {
		t.Fatalf("Capability = %q, %v", caps, err)
	}
	if err := c.Login(ctx, "kate", "s3cret pass"); err != nil {
		t.Fatal(err)
	}
	if !c.HasCap("MOVE") {
		t.Errorf("caps after login = %q, want those of the OK response", c.Caps())
	}
	boxes, err := c.List(ctx, "", "*")
	want := []Mailbox{{Attrs: []string{`\HasNoChildren`}, Delim: ".", Name: "INBOX"}, {Attrs: []string{`\HasNoChildren`, `\Sent`}, Delim: ".", Name: "Sent Mail"}}
	if err != nil || !reflect.DeepEqual(boxes, want) {
		t.Fatalf("List = %+v, %v", boxes, err)
	}
	st, err := c.Select(ctx, "INBOX")
	if err != nil || st.Exists != 2 || st.UIDValidity != 1700000000 || st.UIDNext != 3 || len(st.Flags) != 5 || len(st.PermanentFlags) != 6 || st.ReadOnly {
		t.Fatalf("Select = %+v, %v", st, err)
	}
	nums, err := c.Search(ctx, "SUBJECT hi")
	if err != nil || !reflect.DeepEqual(nums, []uint32{2}) {
		t.Fatalf("Search = %v, %v", nums, err)
	}
	msgs, err := c.Fetch(ctx, "2", "(UID BODY.PEEK[])")
	if err != nil || len(msgs) != 1 || msgs[0].Seq != 2 {
		t.Fatalf("Fetch = %+v, %v", msgs, err)
	}
	if body, ok := msgs[0].Get("BODY[]"); !ok || body.Str != msg || !body.Literal {
		t.Fatalf("BODY[] = %+v", body)
	}
	upd, err := c.Noop(ctx)
	if err != nil || len(upd) != 1 || upd[0].Kind != "EXISTS" || upd[0].Num != 3 {
		t.Fatalf("Noop = %+v, %v", upd, err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	transcripttest.NoSecrets(t, ts, "s3cret")
	if e, ok := transcripttest.Find(ts, "a002 LOGIN kate <redacted>"); !ok || !e.Redacted || e.Step != "login" {
		t.Errorf("LOGIN entry = %+v %v", e, ok)
	}
	if !p.Received(`a002 LOGIN kate "s3cret pass"`) {
		t.Errorf("server did not get the quoted password: %q", p.Lines())
	}
	// The literal is recorded line by line, the first line annotated.
	e, ok := transcripttest.Find(ts, "Subject: hi")
	if !ok || !strings.Contains(e.Annotation, "literal data") || e.Step != "fetch" {
		t.Errorf("literal entry = %+v %v", e, ok)
	}
	if _, ok := transcripttest.Find(ts, "line one"); !ok {
		t.Error("literal body line not recorded")
	}
	// Tagged completions carry the parsed reply.
	if e, _ := transcripttest.Find(ts, "a004 OK [READ-WRITE] Select completed (0.001 + 0.000 secs)."); e.Reply == nil || e.Reply.Code != "OK" || e.Reply.RespCode != "READ-WRITE" || !e.Reply.OK {
		t.Errorf("SELECT completion = %+v", e.Reply)
	}
}

func TestLoginRefused(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send(greeting)
		p.Expect(`a001 LOGIN kate "wrong"`) // a password is always quoted: a bare NIL would be read as nil
		p.Send("a001 NO [AUTHENTICATIONFAILED] Authentication failed.")
	})
	c, ctx, ts := clienttest.Dial(t, Dial, addr, wire.Options{})
	err := c.Login(ctx, "kate", "wrong")
	var ie *Error
	if !errors.As(err, &ie) || ie.Status != "NO" || ie.Code != "AUTHENTICATIONFAILED" || ie.Command != "LOGIN" || ie.Step != "login" || ie.Temporary() {
		t.Fatalf("Login = %#v", err)
	}
	if got := err.Error(); got != "imap: LOGIN refused: NO [AUTHENTICATIONFAILED] Authentication failed." {
		t.Errorf("Error() = %q", got)
	}
	e, _ := transcripttest.Find(ts, "a001 NO [AUTHENTICATIONFAILED] Authentication failed.")
	if e.Reply == nil || e.Reply.OK || e.Annotation == "" {
		t.Errorf("refusal entry = %+v", e)
	}
}

func TestGreetings(t *testing.T) {
	tests := []struct {
		line    string
		status  string // "BYE" for an *Error, "protocol" for a protocol error
		preauth bool
	}{
		{"* OK ready", "", false},
		{"* PREAUTH [CAPABILITY IMAP4rev1] logged in as kate", "", true},
		{"* BYE [UNAVAILABLE] Too many connections", "BYE", false},
		{"+OK POP3 ready", "protocol", false},
		{"* NO go away", "protocol", false},
		{"220 smtp.example ESMTP", "protocol", false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			addr, _ := peertest.Start(t, func(p *peertest.Peer) { p.Send(tt.line) })
			c, err := Dial(clienttest.Context(t), addr, wire.Options{})
			switch tt.status {
			case "BYE":
				var ie *Error
				if !errors.As(err, &ie) || ie.Status != "BYE" || ie.Command != "greeting" || !ie.Temporary() {
					t.Fatalf("Dial = %v, want a BYE error", err)
				}
			case "protocol":
				if wire.Classify(err) != wire.KindProtocol {
					t.Fatalf("Dial = %v, want a protocol error", err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if c.Preauth() != tt.preauth {
					t.Errorf("Preauth = %v", c.Preauth())
				}
			}
		})
	}
}

func TestLoginLiterals(t *testing.T) {
	pw := "pässwörd"
	tests := []struct {
		name, caps, user string
		// script is the server's side after the greeting: a line
		// starting with "S: " is sent, any other is expected.
		script []string
	}{
		{"synchronizing", "IMAP4rev1", "kate", []string{"a001 LOGIN kate {10}", "S: + Ready for literal data", pw, "S: a001 OK Logged in"}},
		{"LITERAL+", "IMAP4rev1 LITERAL+", "kätè", []string{"a001 LOGIN {6+}", "kätè {10+}", pw, "S: a001 OK Logged in"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, p := peertest.Start(t, func(p *peertest.Peer) {
				p.Send("* OK [CAPABILITY " + tt.caps + "] ready")
				for _, l := range tt.script {
					if sent, ok := strings.CutPrefix(l, "S: "); ok {
						p.Send(sent)
					} else {
						p.Expect(l)
					}
				}
			})
			c, ctx, ts := clienttest.Dial(t, Dial, addr, wire.Options{})
			if err := c.Login(ctx, tt.user, pw); err != nil {
				t.Fatal(err)
			}
			transcripttest.NoSecrets(t, ts, pw)
			if e, ok := transcripttest.Find(ts, "<redacted>"); !ok || !e.Redacted {
				t.Errorf("literal password entry = %+v %v", e, ok)
			}
			if !p.Received(pw) {
				t.Errorf("server lines = %q", p.Lines())
			}
		})
	}
	t.Run("password with CRLF refused", func(t *testing.T) {
		addr, _ := peertest.Start(t, func(p *peertest.Peer) {
			p.Send("* OK [CAPABILITY IMAP4rev1 LITERAL+] ready")
			p.Read()
		})
		c, ctx, _ := clienttest.Dial(t, Dial, addr, wire.Options{})
		if err := c.Login(ctx, "kate", "a\r\nb"); wire.Classify(err) != wire.KindInput {
			t.Fatalf("Login = %v, want an input error", err)
		}
	})
}

func TestAuthenticatePlain(t *testing.T) {
	payload := base64.StdEncoding.EncodeToString([]byte("\x00kate\x00kate-pass"))
	for _, ir := range []bool{true, false} {
		name := map[bool]string{true: "SASL-IR", false: "continuation"}[ir]
		t.Run(name, func(t *testing.T) {
			addr, _ := peertest.Start(t, func(p *peertest.Peer) {
				if ir {
					p.Send("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready")
					p.Expect("a001 AUTHENTICATE PLAIN " + payload)
				} else {
					p.Send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready")
					p.Expect("a001 AUTHENTICATE PLAIN")
					p.Send("+ ")
					p.Expect(payload)
				}
				p.Send("a001 OK [CAPABILITY IMAP4rev1 IDLE] Logged in")
			})
			c, ctx, ts := clienttest.Dial(t, Dial, addr, wire.Options{})
			if err := c.AuthenticatePlain(ctx, "kate", "kate-pass"); err != nil {
				t.Fatal(err)
			}
			transcripttest.NoSecrets(t, ts, "kate-pass", payload)
		})
	}
}

func TestStartTLS(t *testing.T) {
	cert, pool := peertest.ServerCert(t)
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send(greeting)
		p.Expect("a001 STARTTLS")
		p.Send("a001 OK Begin TLS negotiation now.")
		p.StartTLS(cert)
		p.Expect("a002 CAPABILITY")
		p.Send("* CAPABILITY IMAP4rev1 AUTH=PLAIN", "a002 OK done")
	})
	c, ctx, ts := clienttest.Dial(t, Dial, addr, wire.Options{TLSOptions: wire.TLSOptions{RootCAs: pool}})
	info, err := c.StartTLS(ctx)
	if err != nil || !info.Verified {
		t.Fatalf("StartTLS = %+v, %v", info, err)
	}
	if c.Caps() != nil {
		t.Errorf("capabilities kept across STARTTLS: %q", c.Caps())
	}
	caps, err := c.Capability(ctx)
	if err != nil || c.HasCap("STARTTLS") || len(caps) != 2 {
		t.Fatalf("Capability = %q, %v", caps, err)
	}
	if e, _ := transcripttest.Find(ts, "a002 CAPABILITY"); !e.Secure {
		t.Error("CAPABILITY after STARTTLS not marked secure")
	}
}

func TestHugeLiteralRefused(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send(greeting)
		p.Expect("a001 FETCH 1 BODY[]")
		p.Send("* 1 FETCH (BODY[] {1099511627776}")
		p.Read() // until the client closes
	})
	c, ctx, ts := clienttest.Dial(t, Dial, addr, wire.Options{})
	start := time.Now()
	_, err := c.Fetch(ctx, "1", "BODY[]")
	var le *wire.LimitError
	if !errors.As(err, &le) || le.Limit != "message data" || le.Max != wire.DefaultMaxData || le.Step != "fetch" {
		t.Fatalf("Fetch = %v, want the message data limit", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("refusal took %v", el)
	}
	if _, ok := transcripttest.Find(ts, "* 1 FETCH (BODY[] {1099511627776}"); !ok {
		t.Error("the announcing line is not in the transcript")
	}
}

func TestResetMidResponse(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send(greeting)
		p.Expect("a001 LIST \"\" *")
		p.Write("* LIST () \".\" INBOX\r\n* LIST () \".\" Arch")
		time.Sleep(50 * time.Millisecond)
		p.Reset()
	})
	c, ctx, ts := clienttest.Dial(t, Dial, addr, wire.Options{})
	_, err := c.List(ctx, "", "*")
	if err == nil || !strings.Contains(err.Error(), "during list") {
		t.Fatalf("List = %v, want an error naming the list step", err)
	}
	if e, ok := transcripttest.Find(ts, `* LIST () "." INBOX`); !ok || e.Step != "list" {
		t.Errorf("complete line lost: %+v", e)
	}
	if e, ok := transcripttest.Find(ts, `* LIST () "." Arch`); !ok || !e.Partial {
		t.Errorf("partial line not kept: %+v %v", e, ok)
	}
}

func TestWrongTagIsProtocolError(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send(greeting)
		p.Expect("a001 NOOP")
		p.Send("zz9 OK NOOP completed")
	})
	c, ctx, _ := clienttest.Dial(t, Dial, addr, wire.Options{})
	if _, err := c.Noop(ctx); wire.Classify(err) != wire.KindProtocol {
		t.Fatalf("Noop = %v, want a protocol error", err)
	}
}

func TestDoRaw(t *testing.T) {
	cert, pool := peertest.ServerCert(t)
	userB64 := base64.StdEncoding.EncodeToString([]byte("\x00kate\x00hunter2"))
	addr, _ := peertest.Start(t, func(p *peertest.Peer) {
		p.Send("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready")
		p.Expect("a001 capability")
		p.Send("* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN", "a001 OK done")
		p.Expect("a002 starttls")
		p.Send("a002 OK go")
		p.StartTLS(cert)
		p.Expect("x1 AUTHENTICATE PLAIN")
		p.Send("+ " + base64.StdEncoding.EncodeToString([]byte("go on")))
		p.Expect(userB64)
		p.Send("x1 OK Logged in")
		p.Expect("a003 select {5}")
		p.Send("+ OK")
		p.Expect("INBOX")
		p.Send("* 0 EXISTS", "a003 OK [READ-WRITE] done")
		p.Expect("a9 LOGIN kate hunter2")
		p.Send("a9 BAD already authenticated")
		p.Expect("a004 logout")
		p.Send("* BYE bye", "a004 OK done")
	})
	c, ctx, ts := clienttest.Dial(t, Dial, addr, wire.Options{TLSOptions: wire.TLSOptions{RootCAs: pool}})
	steps := []struct {
		line     string
		tag      string
		final    string // tag of Final: the command tag or "+"
		untagged int
		err      bool
	}{
		{"capability", "a001", "a001", 1, false},
		{"starttls", "a002", "a002", 0, false},
		{"x1 AUTHENTICATE PLAIN", "x1", "+", 0, false},
		{userB64, "x1", "x1", 0, false},
		{"select {5}", "a003", "+", 0, false},
		{"INBOX", "a003", "a003", 1, false},
		{"a9 LOGIN kate hunter2", "a9", "a9", 0, true},
		{"logout", "a004", "a004", 1, false},
	}
	for _, s := range steps {
		comp, err := c.Do(ctx, s.line)
		if comp == nil || comp.Tag != s.tag || comp.Final == nil || comp.Final.Tag != s.final || len(comp.Untagged) != s.untagged || (err != nil) != s.err {
			t.Fatalf("Do(%q) = %+v, %v; want tag %s final %s", s.line, comp, err, s.tag, s.final)
		}
	}
	transcripttest.NoSecrets(t, ts, "hunter2", userB64)
	if _, ok := transcripttest.Find(ts, "a9 LOGIN kate <redacted>"); !ok {
		t.Error("raw LOGIN not redacted as a9 LOGIN kate <redacted>")
	}
	var ann bool
	for _, e := range ts.Entries() {
		if e.Annotation == `base64 for "go on"` {
			ann = true
		}
	}
	if !ann {
		t.Error("continuation not decoded into the annotation")
	}
	if _, err := c.Do(ctx, ""); wire.Classify(err) != wire.KindInput {
		t.Errorf("Do(empty) = %v", err)
	}
}
