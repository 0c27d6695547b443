package realpeers

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mailflow/mailflow/internal/pki"
)

// ServerName is the host name in the servers' certificate (besides
// "localhost" and 127.0.0.1) and Postfix's myhostname.
const ServerName = "mail.realpeers.test"

// certSet names the PEM files written into a base directory.
type certSet struct {
	CAFile string // CA certificate (trust anchor for the tests)

	CertFile, KeyFile string // server certificate signed by the CA

	ExpiredCertFile, ExpiredKeyFile string // signed by the CA, expired

	SelfSignedCertFile, SelfSignedKeyFile string // not signed by the CA
}

// writeCerts generates a fresh CA, a server certificate it signs, an expired
// server certificate it signs and an unrelated self-signed certificate, and
// writes them as PEM into dir. Keys are written 0600 (Postfix and Dovecot read
// them as root before dropping privileges).
func writeCerts(dir string) (certSet, error) {
	s := certSet{
		CAFile:             filepath.Join(dir, "ca.pem"),
		CertFile:           filepath.Join(dir, "server.pem"),
		KeyFile:            filepath.Join(dir, "server.key"),
		ExpiredCertFile:    filepath.Join(dir, "expired.pem"),
		ExpiredKeyFile:     filepath.Join(dir, "expired.key"),
		SelfSignedCertFile: filepath.Join(dir, "selfsigned.pem"),
		SelfSignedKeyFile:  filepath.Join(dir, "selfsigned.key"),
	}
	now := time.Now()
	ca, err := pki.NewCA(pki.Spec{CommonName: "realpeers test CA", Organization: "mailflow tests", NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour)})
	if err != nil {
		return s, fmt.Errorf("realpeers: %w", err)
	}
	write := func(path string, b []byte, mode os.FileMode) error {
		if err := writeFile(path, string(b), mode); err != nil {
			return fmt.Errorf("realpeers: write %s: %w", path, err)
		}
		return nil
	}
	if err := write(s.CAFile, ca.PEM(), 0o644); err != nil {
		return s, err
	}
	leaves := []struct {
		certFile, keyFile   string
		notBefore, notAfter time.Time
		ca                  *pki.CA // nil: self-signed
	}{
		{s.CertFile, s.KeyFile, now.Add(-time.Hour), now.Add(7 * 24 * time.Hour), ca},
		{s.ExpiredCertFile, s.ExpiredKeyFile, now.Add(-30 * 24 * time.Hour), now.Add(-24 * time.Hour), ca},
		{s.SelfSignedCertFile, s.SelfSignedKeyFile, now.Add(-time.Hour), now.Add(7 * 24 * time.Hour), nil},
	}
	for _, l := range leaves {
		spec := pki.Spec{
			CommonName:  ServerName,
			DNSNames:    []string{ServerName, "localhost"},
			IPAddresses: pki.Loopback(),
			NotBefore:   l.notBefore,
			NotAfter:    l.notAfter,
		}
		var c *pki.Cert
		if l.ca != nil {
			c, err = l.ca.Issue(spec)
		} else {
			c, err = pki.SelfSigned(spec)
		}
		if err != nil {
			return s, fmt.Errorf("realpeers: %w", err)
		}
		keyPEM, err := c.KeyPEM()
		if err != nil {
			return s, fmt.Errorf("realpeers: %w", err)
		}
		if err := write(l.certFile, c.CertPEM(), 0o644); err != nil {
			return s, err
		}
		if err := write(l.keyFile, keyPEM, 0o600); err != nil {
			return s, err
		}
	}
	return s, nil
}
