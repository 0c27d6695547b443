package imap

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mailflow/mailflow/internal/clienttest"
	"github.com/mailflow/mailflow/internal/realpeers"
	"github.com/mailflow/mailflow/internal/transcripttest"
	"github.com/mailflow/mailflow/session/wire"
)

func TestMain(m *testing.M) { os.Exit(realpeers.Main(m)) }

func TestDovecotFetchDelivered(t *testing.T) {
	t.Parallel()
	m := realpeers.Postfix(t)
	m.LogOnFailure(t)
	marker := fmt.Sprintf("mailflow-imap-%d", time.Now().UnixNano())
	m.Send(t, m.Address("kate"), "Subject: "+marker+"\r\n\r\nhello from mailflow\r\n")
	m.WaitMessage(t, "kate", marker, 15*time.Second)
	c, ctx, ts := clienttest.Dial(t, Dial, m.IMAP, wire.Options{})
	if _, err := c.Capability(ctx); err != nil || !c.HasCap("STARTTLS") {
		t.Fatalf("Capability = %q, %v", c.Caps(), err)
	}
	if err := c.Login(ctx, "kate", m.Users["kate"]); err != nil {
		t.Fatal(err)
	}
	boxes, err := c.List(ctx, "", "*")
	if err != nil || len(boxes) == 0 || boxes[0].Name != "INBOX" {
		t.Fatalf("List = %+v, %v", boxes, err)
	}
	st, err := c.Select(ctx, "INBOX")
	if err != nil || st.Exists < 1 || st.UIDValidity == 0 {
		t.Fatalf("Select = %+v, %v", st, err)
	}
	nums, err := c.Search(ctx, "SUBJECT "+marker)
	if err != nil || len(nums) != 1 {
		t.Fatalf("Search = %v, %v", nums, err)
	}
	msgs, err := c.Fetch(ctx, fmt.Sprint(nums[0]), "(UID RFC822.SIZE BODY.PEEK[])")
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Fetch = %+v, %v", msgs, err)
	}
	body, ok := msgs[0].Get("BODY[]")
	if !ok || !strings.Contains(body.Str, "Subject: "+marker+"\r\n") || !strings.Contains(body.Str, "hello from mailflow") {
		t.Fatalf("BODY[] = %q", body.Str)
	}
	if size, _ := msgs[0].Get("RFC822.SIZE"); size.Str != fmt.Sprint(len(body.Str)) {
		t.Errorf("RFC822.SIZE %s, body %d bytes", size.Str, len(body.Str))
	}
	if _, err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	transcripttest.NoSecrets(t, ts, m.Users["kate"])
	if _, ok := transcripttest.Find(ts, "Subject: "+marker); !ok {
		t.Error("fetched message not in the transcript")
	}
}

func TestDovecotTLS(t *testing.T) {
	t.Parallel()
	m := realpeers.Postfix(t)
	m.LogOnFailure(t)
	tlsOpts := wire.TLSOptions{CAFile: m.CAFile}
	t.Run("STARTTLS", func(t *testing.T) {
		c, ctx, ts := clienttest.Dial(t, Dial, m.IMAP, wire.Options{TLSOptions: tlsOpts})
		info, err := c.StartTLS(ctx)
		if err != nil || !info.Verified {
			t.Fatalf("StartTLS = %+v, %v", info, err)
		}
		if _, err := c.Capability(ctx); err != nil || c.HasCap("STARTTLS") {
			t.Fatalf("Capability after STARTTLS = %q, %v", c.Caps(), err)
		}
		if err := c.AuthenticatePlain(ctx, "kate", m.Users["kate"]); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Examine(ctx, "INBOX"); err != nil {
			t.Fatal(err)
		}
		if err := c.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		transcripttest.NoSecrets(t, ts, m.Users["kate"])
	})
	t.Run("IMAPS", func(t *testing.T) {
		c, ctx, _ := clienttest.Dial(t, Dial, m.IMAPS, wire.Options{TLS: wire.TLSImplicit, TLSOptions: tlsOpts})
		if !c.Conn().TLS().Verified {
			t.Fatalf("TLS = %+v", c.Conn().TLS())
		}
		// Raw mode, as the wizard drives it.
		for _, line := range []string{"a1 LOGIN kate " + m.Users["kate"], "select INBOX", "logout"} {
			if _, err := c.Do(ctx, line); err != nil {
				t.Fatalf("Do(%q) = %v", line, err)
			}
		}
		transcripttest.NoSecrets(t, c.Transcript(), m.Users["kate"])
	})
}

func TestDovecotLoginFailure(t *testing.T) {
	t.Parallel()
	m := realpeers.Postfix(t)
	m.LogOnFailure(t)
	c, ctx, ts := clienttest.Dial(t, Dial, m.IMAP, wire.Options{})
	err := c.Login(ctx, "kate", "wrong-password")
	var ie *Error
	if !errors.As(err, &ie) || ie.Status != "NO" || ie.Code != "AUTHENTICATIONFAILED" {
		t.Fatalf("Login(wrong) = %v, want NO [AUTHENTICATIONFAILED]", err)
	}
	transcripttest.NoSecrets(t, ts, "wrong-password")
}
