package sshserve

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
)

// LoadOrCreateHostKey returns the host key stored at path, creating an
// Ed25519 key there (mode 0600, in a 0700 directory when the directory is
// new) when the file does not exist yet. The public half is written next
// to it as path+".pub", for clients' known_hosts. created says whether a
// new key was made.
//
// A key file that group or other users can read or write is refused, as
// sshd refuses such host keys: anyone who can read it can impersonate the
// server.
func LoadOrCreateHostKey(path string) (signer ssh.Signer, created bool, err error) {
	if path == "" {
		return nil, false, errors.New("sshserve: host key: no path given")
	}
	signer, err = loadHostKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return signer, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("sshserve: host key: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("sshserve: host key: generate: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "mailflow serve host key")
	if err != nil {
		return nil, false, fmt.Errorf("sshserve: host key: encode: %w", err)
	}
	// Write to a temporary name and link it into place, so that a crash
	// never leaves half a key and two servers starting at once agree on
	// one key (the second link fails and that server loads the first's).
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hostkey-*")
	if err != nil {
		return nil, false, fmt.Errorf("sshserve: host key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, false, fmt.Errorf("sshserve: host key: %w", err)
	}
	if _, err := tmp.Write(pem.EncodeToMemory(block)); err != nil {
		tmp.Close()
		return nil, false, fmt.Errorf("sshserve: host key: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, false, fmt.Errorf("sshserve: host key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, false, fmt.Errorf("sshserve: host key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			signer, err = loadHostKey(path)
			return signer, false, err
		}
		return nil, false, fmt.Errorf("sshserve: host key: %w", err)
	}
	signer, err = loadHostKey(path)
	if err != nil {
		return nil, false, err
	}
	pub := ssh.MarshalAuthorizedKey(signer.PublicKey())
	// The public key is a convenience; failing to write it is not fatal.
	_ = os.WriteFile(path+".pub", pub, 0o644)
	return signer, true, nil
}

func loadHostKey(path string) (ssh.Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sshserve: host key: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("sshserve: host key: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("sshserve: host key %s is not a regular file", path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("sshserve: host key %s can be read or written by other users (mode %04o); run chmod 600 %s",
			path, st.Mode().Perm(), path)
	}
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("sshserve: host key %s: %w", path, err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	if err != nil {
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, fmt.Errorf("sshserve: host key %s is protected by a passphrase; a server key must not be", path)
		}
		return nil, fmt.Errorf("sshserve: host key %s: %w", path, err)
	}
	return signer, nil
}
