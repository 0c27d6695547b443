package pki

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

// DefaultLifetime is how long a certificate stays valid when its Spec
// gives no NotAfter: long enough for any test run or lab session.
const DefaultLifetime = 7 * 24 * time.Hour

// Spec describes a certificate to make. The zero values are usable: a
// certificate valid from an hour ago (to absorb clock skew between the
// test and the peer) for DefaultLifetime.
type Spec struct {
	// CommonName is the subject CN. For a leaf it defaults to the first
	// of DNSNames, then to the first of IPAddresses.
	CommonName string
	// Organization, when set, is the subject O, which shows in the
	// issuer string a client reports.
	Organization string
	// DNSNames and IPAddresses are the subjectAltName entries of a leaf;
	// they are ignored for an authority.
	DNSNames    []string
	IPAddresses []net.IP
	// NotBefore and NotAfter bound the validity; zero means an hour ago
	// and NotBefore plus an hour plus DefaultLifetime.
	NotBefore, NotAfter time.Time
}

// validity returns the bounds with the defaults applied.
func (s Spec) validity() (time.Time, time.Time) {
	nb, na := s.NotBefore, s.NotAfter
	if nb.IsZero() {
		nb = time.Now().Add(-time.Hour)
	}
	if na.IsZero() {
		na = nb.Add(time.Hour + DefaultLifetime)
	}
	return nb, na
}

func (s Spec) subject() pkix.Name {
	n := pkix.Name{CommonName: s.CommonName}
	if n.CommonName == "" && len(s.DNSNames) > 0 {
		n.CommonName = s.DNSNames[0]
	}
	if n.CommonName == "" && len(s.IPAddresses) > 0 {
		n.CommonName = s.IPAddresses[0].String()
	}
	if s.Organization != "" {
		n.Organization = []string{s.Organization}
	}
	return n
}

// Loopback are the address SANs a certificate for a loopback server
// needs: 127.0.0.1 and ::1.
func Loopback() []net.IP { return []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback} }

// CA is a certificate authority that signs leaves.
type CA struct {
	// Cert is the authority's own (self-signed) certificate.
	Cert *x509.Certificate
	// Key is its private key.
	Key *ecdsa.PrivateKey
}

// NewCA makes a new authority described by s (its names are ignored).
func NewCA(s Spec) (*CA, error) {
	cert, key, err := create(s, true, nil)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key}, nil
}

// Issue makes a server certificate for s signed by the authority.
func (ca *CA) Issue(s Spec) (*Cert, error) {
	leaf, key, err := create(s, false, ca)
	if err != nil {
		return nil, err
	}
	return &Cert{Leaf: leaf, Key: key, Issuer: ca.Cert}, nil
}

// SelfSigned makes a server certificate for s that signs itself, the kind
// a client trusts only when told to.
func SelfSigned(s Spec) (*Cert, error) {
	leaf, key, err := create(s, false, nil)
	if err != nil {
		return nil, err
	}
	return &Cert{Leaf: leaf, Key: key}, nil
}

// create makes a key and a certificate for s: an authority's when isCA,
// a server's otherwise, signed by ca or, when ca is nil, by itself.
func create(s Spec, isCA bool, ca *CA) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	what := "server"
	if isCA {
		what = "CA"
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: %s key: %w", what, err)
	}
	nb, na := s.validity()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      s.subject(),
		NotBefore:    nb,
		NotAfter:     na,
	}
	if isCA {
		// DigitalSignature as well, so the CA certificate may also be
		// served directly (as a self-signed server) in a test.
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		tmpl.BasicConstraintsValid, tmpl.IsCA, tmpl.MaxPathLenZero = true, true, true
	} else {
		tmpl.DNSNames, tmpl.IPAddresses = s.DNSNames, s.IPAddresses
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	parent, signer := tmpl, any(key)
	if ca != nil {
		parent, signer = ca.Cert, ca.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: %s certificate: %w", what, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: %s certificate: %w", what, err)
	}
	return cert, key, nil
}

// Pool returns a pool that trusts the authority, for a client's RootCAs.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// PEM returns the authority's certificate in PEM, the form of a CA file.
func (ca *CA) PEM() []byte { return CertPEM(ca.Cert) }

// Cert is a server certificate with its key.
type Cert struct {
	// Leaf is the certificate.
	Leaf *x509.Certificate
	// Key is its private key.
	Key *ecdsa.PrivateKey
	// Issuer is the authority's certificate, nil when self-signed.
	Issuer *x509.Certificate
}

// TLS returns the certificate for a tls.Config, the leaf alone.
func (c *Cert) TLS() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{c.Leaf.Raw}, PrivateKey: c.Key, Leaf: c.Leaf}
}

// TLSChain returns the certificate for a tls.Config with the issuer's
// certificate after the leaf, so that tools which print the chain
// (openssl s_client -showcerts) show where it comes from.
func (c *Cert) TLSChain() tls.Certificate {
	tc := c.TLS()
	if c.Issuer != nil {
		tc.Certificate = append(tc.Certificate, c.Issuer.Raw)
	}
	return tc
}

// CertPEM returns the leaf in PEM.
func (c *Cert) CertPEM() []byte { return CertPEM(c.Leaf) }

// KeyPEM returns the private key in PKCS #8 PEM ("PRIVATE KEY"), which
// Postfix and Dovecot read.
func (c *Cert) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// CertPEM encodes a certificate as a PEM "CERTIFICATE" block.
func CertPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// serial returns a random positive serial number of up to 127 bits
// (RFC 5280 section 4.1.2.2 allows 20 octets and asks for positive
// numbers; random ones keep two authorities' serials from colliding).
func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		// crypto/rand does not fail on supported platforms (since Go
		// 1.24 it crashes the program instead of returning an error).
		panic(err)
	}
	return n.Add(n, big.NewInt(1))
}
