package realpeers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
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

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return s, fmt.Errorf("realpeers: CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "realpeers test CA", Organization: []string{"mailflow tests"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return s, fmt.Errorf("realpeers: CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return s, fmt.Errorf("realpeers: CA certificate: %w", err)
	}
	if err := writePEM(s.CAFile, "CERTIFICATE", caDER, 0o644); err != nil {
		return s, err
	}

	leaf := func(certFile, keyFile string, notBefore, notAfter time.Time, selfSigned bool) error {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return fmt.Errorf("realpeers: server key: %w", err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: serial(),
			Subject:      pkix.Name{CommonName: ServerName},
			DNSNames:     []string{ServerName, "localhost"},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
			NotBefore:    notBefore,
			NotAfter:     notAfter,
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		parent, signer := caCert, any(caKey)
		if selfSigned {
			parent, signer = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
		if err != nil {
			return fmt.Errorf("realpeers: server certificate: %w", err)
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return fmt.Errorf("realpeers: server key: %w", err)
		}
		if err := writePEM(certFile, "CERTIFICATE", der, 0o644); err != nil {
			return err
		}
		return writePEM(keyFile, "PRIVATE KEY", keyDER, 0o600)
	}
	if err := leaf(s.CertFile, s.KeyFile, now.Add(-time.Hour), now.Add(7*24*time.Hour), false); err != nil {
		return s, err
	}
	if err := leaf(s.ExpiredCertFile, s.ExpiredKeyFile, now.Add(-30*24*time.Hour), now.Add(-24*time.Hour), false); err != nil {
		return s, err
	}
	if err := leaf(s.SelfSignedCertFile, s.SelfSignedKeyFile, now.Add(-time.Hour), now.Add(7*24*time.Hour), true); err != nil {
		return s, err
	}
	return s, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n.Add(n, big.NewInt(1))
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	b := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := writeFile(path, string(b), mode); err != nil {
		return fmt.Errorf("realpeers: write %s: %w", path, err)
	}
	return nil
}
