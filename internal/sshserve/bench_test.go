package sshserve

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
)

// BenchmarkLoginToFirstOutput measures a whole login: TCP connect, SSH
// handshake, public-key authentication (which reads authorized_keys),
// PTY and shell requests, and the program's first bytes.
func BenchmarkLoginToFirstOutput(b *testing.B) {
	dir := b.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	key, _ := ssh.NewSignerFromKey(priv)
	ak := filepath.Join(dir, "ak")
	os.WriteFile(ak, ssh.MarshalAuthorizedKey(key.PublicKey()), 0o600)
	srv, err := New(Config{
		AuthorizedKeys: ak, HostKey: filepath.Join(dir, "hk"), DataDir: dir, MaxSessions: 1000,
		Handler: func(ctx context.Context, s ServeSession) error {
			fmt.Fprint(s.Stdout(), "ready")
			return nil
		},
		Log: log.New(io.Discard, "", 0),
	})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx, ln)
	cfg := &ssh.ClientConfig{User: "bench", Auth: []ssh.AuthMethod{ssh.PublicKeys(key)}, HostKeyCallback: ssh.FixedHostKey(srv.HostKey())}
	buf := make([]byte, 5)
	b.ResetTimer()
	for b.Loop() {
		c, err := ssh.Dial("tcp", ln.Addr().String(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		sess, _ := c.NewSession()
		out, _ := sess.StdoutPipe()
		if err := sess.RequestPty("xterm", 24, 80, nil); err != nil {
			b.Fatal(err)
		}
		if err := sess.Shell(); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(out, buf); err != nil || string(buf) != "ready" {
			b.Fatalf("read %q, %v", buf, err)
		}
		c.Close()
	}
}
