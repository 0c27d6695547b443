package pop3

import (
	"bytes"
	"context"
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

func login(t *testing.T, ctx context.Context, c *Client, m *realpeers.Mail) {
	t.Helper()
	if err := c.User(ctx, "kate"); err != nil {
		t.Fatal(err)
	}
	if err := c.Pass(ctx, m.Users["kate"]); err != nil {
		t.Fatal(err)
	}
}

func TestDovecotRetrDelivered(t *testing.T) {
	t.Parallel()
	m := realpeers.Postfix(t)
	m.LogOnFailure(t)
	marker := fmt.Sprintf("mailflow-pop3-%d", time.Now().UnixNano())
	m.Send(t, m.Address("kate"), "Subject: "+marker+"\r\n\r\nhello\r\n.dot line\r\n")
	m.WaitMessage(t, "kate", marker, 15*time.Second)
	c, ctx, ts := clienttest.Dial(t, Dial, m.POP3, wire.Options{})
	caps, err := c.Capa(ctx)
	if err != nil || !caps.Has("STLS") || !caps.Has("RESP-CODES") {
		t.Fatalf("Capa = %v, %v", caps, err)
	}
	login(t, ctx, c, m)
	n, _, err := c.Stat(ctx)
	if err != nil || n < 1 {
		t.Fatalf("Stat = %d, %v", n, err)
	}
	list, err := c.List(ctx)
	if err != nil || len(list) != n {
		t.Fatalf("List = %v, %v (STAT said %d)", list, err, n)
	}
	found := false
	for i := len(list) - 1; i >= 0 && !found; i-- {
		msg, err := c.Retr(ctx, list[i].Num)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(msg, []byte("Subject: "+marker)) {
			found = true
			if !bytes.Contains(msg, []byte("\r\n.dot line\r\n")) {
				t.Errorf("dot line not unstuffed: %q", msg)
			}
			if int64(len(msg)) != list[i].Size {
				t.Errorf("RETR gave %d bytes, LIST said %d", len(msg), list[i].Size)
			}
		}
	}
	if !found {
		t.Fatalf("message %s not found by RETR", marker)
	}
	if err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}
	transcripttest.NoSecrets(t, ts, m.Users["kate"])
}

func TestDovecotTLS(t *testing.T) {
	t.Parallel()
	m := realpeers.Postfix(t)
	m.LogOnFailure(t)
	tlsOpts := wire.TLSOptions{CAFile: m.CAFile}
	t.Run("STLS", func(t *testing.T) {
		c, ctx, _ := clienttest.Dial(t, Dial, m.POP3, wire.Options{TLSOptions: tlsOpts})
		info, err := c.STLS(ctx)
		if err != nil || !info.Verified {
			t.Fatalf("STLS = %+v, %v", info, err)
		}
		if caps, err := c.Capa(ctx); err != nil || caps.Has("STLS") {
			t.Fatalf("Capa after STLS = %v, %v", caps, err)
		}
		if err := c.AuthPlain(ctx, "kate", m.Users["kate"]); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Stat(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.Quit(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("POP3S", func(t *testing.T) {
		c, ctx, _ := clienttest.Dial(t, Dial, m.POP3S, wire.Options{TLS: wire.TLSImplicit, TLSOptions: tlsOpts})
		if !c.Conn().TLS().Verified {
			t.Fatalf("TLS = %+v", c.Conn().TLS())
		}
		login(t, ctx, c, m)
		if err := c.Quit(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("unknown CA", func(t *testing.T) {
		_, err := Dial(clienttest.Context(t), m.POP3S, wire.Options{TLS: wire.TLSImplicit})
		if wire.Classify(err) != wire.KindTLSVerify {
			t.Fatalf("Dial without the CA = %v", err)
		}
	})
}

func TestDovecotLoginFailure(t *testing.T) {
	t.Parallel()
	m := realpeers.Postfix(t)
	m.LogOnFailure(t)
	c, ctx, ts := clienttest.Dial(t, Dial, m.POP3, wire.Options{})
	if err := c.User(ctx, "kate"); err != nil {
		t.Fatal(err)
	}
	err := c.Pass(ctx, "wrong-password")
	var pe *Error
	if !errors.As(err, &pe) || pe.Code != "AUTH" || pe.Temporary() {
		t.Fatalf("Pass(wrong) = %v, want -ERR [AUTH]", err)
	}
	if !strings.Contains(pe.Text, "failed") {
		t.Errorf("text = %q", pe.Text)
	}
	transcripttest.NoSecrets(t, ts, "wrong-password")
}
