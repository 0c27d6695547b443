package wire

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailflow/mailflow/internal/peertest"
	"github.com/mailflow/mailflow/session/transcript"
)

func TestDialClient(t *testing.T) {
	refused := errors.New("greeting refused")
	tests := []struct {
		name      string
		newErr    error // what newClient returns
		wantOpen  bool  // the connection is left open for the client
		wantProto string
	}{
		{"greeting read", nil, true, "pop3"},
		{"greeting refused", refused, false, "imap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eof := make(chan bool, 1)
			addr, _ := peertest.Start(t, func(p *peertest.Peer) {
				p.Send("+OK hi")
				// Read returns "" when the client closes.
				eof <- p.Read() == ""
			})
			var got *Conn
			c, err := DialClient(context.Background(), addr, Options{Proto: "smtp"}, tt.wantProto, func(ctx context.Context, conn *Conn) (*Conn, error) {
				got = conn
				if _, err := conn.ReadLine(ctx, "greeting"); err != nil {
					return nil, err
				}
				return conn, tt.newErr
			})
			if !errors.Is(err, tt.newErr) {
				t.Fatalf("DialClient = %v, want %v", err, tt.newErr)
			}
			if got == nil || got.Proto() != tt.wantProto {
				t.Fatalf("newClient saw a connection for %v, want proto %s", got, tt.wantProto)
			}
			if tt.wantOpen {
				if c != got {
					t.Fatal("DialClient did not return the client")
				}
				select {
				case <-eof:
					t.Fatal("connection closed although the client was made")
				case <-time.After(100 * time.Millisecond):
				}
				c.Close()
			}
			select {
			case closed := <-eof:
				if !closed {
					t.Error("peer read a line instead of the close")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("connection not closed")
			}
		})
	}
	t.Run("dial error", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		called := false
		_, err := DialClient(context.Background(), addr, Options{}, "imap", func(context.Context, *Conn) (io.Closer, error) {
			called = true
			return nil, nil
		})
		if Classify(err) != KindRefused || called {
			t.Fatalf("DialClient to a closed port = %v (%s), newClient called %v", err, Classify(err), called)
		}
	})
}

func TestProtocolViolation(t *testing.T) {
	addr, _ := peertest.Start(t, func(p *peertest.Peer) { p.Read() })
	ts := transcript.NewStore()
	c, err := Dial(context.Background(), addr, Options{Proto: "pop3", Transcript: ts})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.BeginStep("retr")
	pe := c.ProtocolViolation("data after the end of the response")
	if pe.Proto != "pop3" || pe.Step != "retr" || Classify(pe) != KindProtocol {
		t.Fatalf("ProtocolViolation = %+v (%s)", pe, Classify(pe))
	}
	last := ts.Entries()[ts.Len()-1]
	if last.Level != transcript.Error || last.Step != "retr" || string(last.Raw) != pe.Error() {
		t.Fatalf("last entry = %+v, want the error note %q", last, pe.Error())
	}
}

func TestBase64Annotation(t *testing.T) {
	tests := []struct{ text, want string }{
		{"VXNlcm5hbWU6", `base64 for "Username:"`},
		{"UGFzc3dvcmQ6", `base64 for "Password:"`},
		{"Z28gb24=", `base64 for "go on"`},
		{"w6TDtsO8", `base64 for "äöü"`},
		{"", ""},
		{"not base64!", ""},
		{"AAEC", ""},     // binary
		{"G1szMW0=", ""}, // ESC [31m: a control character
		{"/w==", ""},     // invalid UTF-8
	}
	for _, tt := range tests {
		if got := Base64Annotation(tt.text); got != tt.want {
			t.Errorf("Base64Annotation(%q) = %q, want %q", tt.text, got, tt.want)
		}
		if strings.ContainsAny(Base64Annotation(tt.text), "\x00\x1b") {
			t.Errorf("Base64Annotation(%q) holds a control byte", tt.text)
		}
	}
}
