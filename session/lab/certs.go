package lab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// certNames are the DNS names every lab server certificate carries, so a
// client may verify the certificate whether it dialled an MX name, the
// submission name or plain localhost.
var certNames = []string{"localhost", "mx1.lab.test", "mx2.lab.test", "mail.lab.test"}

// certIPs are the address SANs of every lab server certificate.
var certIPs = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}

// authority is a throw-away certificate authority that lives in memory for
// the lifetime of one lab.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

// certSet holds the three server certificates a lab can present: the good
// one, one from a CA that clients do not trust, and an expired one.
type certSet struct {
	ca        *authority
	good      tls.Certificate
	untrusted tls.Certificate
	expired   tls.Certificate
}

func newAuthority(name string, now time.Time) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("lab: generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"mailflow lab"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("lab: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("lab: parse CA certificate: %w", err)
	}
	return &authority{
		cert: cert,
		key:  key,
		pem:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
	}, nil
}

// issue signs a server certificate valid from notBefore to notAfter.
func (a *authority) issue(notBefore, notAfter time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("lab: generate server key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "mail.lab.test", Organization: []string{"mailflow lab"}},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     certNames,
		IPAddresses:  certIPs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("lab: create server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("lab: parse server certificate: %w", err)
	}
	// The chain includes the CA so that tools printing the chain (openssl
	// s_client -showcerts) show where the certificate comes from.
	return tls.Certificate{
		Certificate: [][]byte{der, a.cert.Raw},
		PrivateKey:  key,
		Leaf:        leaf,
	}, nil
}

func newCertSet(now time.Time) (*certSet, error) {
	ca, err := newAuthority("mailflow lab CA", now)
	if err != nil {
		return nil, err
	}
	rogue, err := newAuthority("Untrusted Example CA", now)
	if err != nil {
		return nil, err
	}
	good, err := ca.issue(now.Add(-time.Hour), now.Add(7*24*time.Hour))
	if err != nil {
		return nil, err
	}
	untrusted, err := rogue.issue(now.Add(-time.Hour), now.Add(7*24*time.Hour))
	if err != nil {
		return nil, err
	}
	// Expired yesterday, but issued by the trusted CA: the only thing
	// wrong with it is the date, which is what the scenario teaches.
	expired, err := ca.issue(now.Add(-30*24*time.Hour), now.Add(-24*time.Hour))
	if err != nil {
		return nil, err
	}
	return &certSet{ca: ca, good: good, untrusted: untrusted, expired: expired}, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+
		// crashes the program instead), so this is unreachable.
		panic(err)
	}
	return n
}
