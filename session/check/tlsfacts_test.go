package check

import (
	"context"
	"crypto/tls"
	"net"
	"testing"

	"github.com/mailflow/mailflow/session/wire"

	"github.com/mailflow/mailflow/internal/peertest"
)

// TestTLSFactsKeptOnVerifyFailure checks that a certificate that fails
// verification during implicit TLS still leaves its facts (the verdict
// and its reason) in Result.TLS, for every protocol and for --quit-after
// connect: the handshake happens before any client exists, and the
// report must still say why it failed.
func TestTLSFactsKeptOnVerifyFailure(t *testing.T) {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{peertest.SelfSigned(t, "peer.test")}})
	if err != nil {
		t.Fatal(err)
	}
	peertest.Accept(t, ln, func(c net.Conn) {
		_ = c.(*tls.Conn).Handshake()
		_, _ = c.Read(make([]byte, 1))
	})
	port := ln.Addr().(*net.TCPAddr).Port
	for _, tc := range []struct {
		name string
		run  Runner
		opts Options
	}{
		{"smtp", RunSMTP, Options{}},
		{"smtp/quit-after-connect", RunSMTP, Options{QuitAfter: "connect"}},
		{"pop3", RunPOP3, Options{}},
		{"imap", RunIMAP, Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.Server, o.Port, o.TLS, o.Limits = "127.0.0.1", port, wire.TLSImplicit, fastLimits()
			// The certificate names peer.test; its CA is not trusted.
			o.TLSOptions.ServerName = "peer.test"
			res := tc.run(context.Background(), o)
			if res.ErrorKind != string(wire.KindTLSVerify) || res.Exit != ExitRefused {
				t.Fatalf("kind %q exit %d (%s), want %q and exit %d", res.ErrorKind, res.Exit, res.Error, wire.KindTLSVerify, ExitRefused)
			}
			if res.TLS == nil {
				t.Fatal("Result.TLS is nil after a failed verification")
			}
			if res.TLS.Verified || res.TLS.VerifyReason != "unknown-authority" || res.TLS.VerifyError == "" {
				t.Fatalf("TLS facts %+v, want unverified, reason unknown-authority", res.TLS)
			}
			if res.TLS.ServerName != "peer.test" {
				t.Errorf("ServerName %q, want %q", res.TLS.ServerName, "peer.test")
			}
			if res.TLS.Version == "" || len(res.TLS.Chain) == 0 {
				t.Errorf("version and chain of the refused session lost: %+v", res.TLS)
			}
		})
	}
}
