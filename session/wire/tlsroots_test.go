package wire

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// rootsCA is a test CA that can sign leaves and write itself as PEM.
type rootsCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newRootsCA(t *testing.T, name string) *rootsCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &rootsCA{cert: c, key: key}
}

func (ca *rootsCA) leaf(t *testing.T, name string, notAfter time.Time) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: notAfter, DNSNames: []string{name},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func (ca *rootsCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// TestCAFileLoadsSystemRootsOnlyWhenNeeded checks that a chain to the CA
// file is verified without loading the system roots (their cost dominated
// a short check), and that the verdict is still the one the CA file plus
// the system roots give together.
func TestCAFileLoadsSystemRootsOnlyWhenNeeded(t *testing.T) {
	fileCA, systemCA, otherCA, rootsCA := newRootsCA(t, "file CA"), newRootsCA(t, "system CA"), newRootsCA(t, "other CA"), newRootsCA(t, "RootCAs CA")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fileCA.cert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	loads := 0
	old := systemRoots
	t.Cleanup(func() { systemRoots = old })
	systemRoots = func() (*x509.CertPool, error) { loads++; return systemCA.pool(), nil }

	later := time.Now().Add(time.Hour)
	tests := []struct {
		name      string
		leaf      *x509.Certificate
		rootCAs   *x509.CertPool
		reason    string // "" means verified
		wantLoads int
	}{
		{"chain to the CA file", fileCA.leaf(t, "mx.test", later), nil, "", 0},
		{"chain to a system root", systemCA.leaf(t, "mx.test", later), nil, "", 1},
		{"unknown authority", otherCA.leaf(t, "mx.test", later), nil, "unknown-authority", 1},
		{"expired, from the CA file", fileCA.leaf(t, "mx.test", time.Now().Add(-time.Hour)), nil, "expired", 1},
		{"RootCAs replace the system roots", rootsCA.leaf(t, "mx.test", later), rootsCA.pool(), "", 0},
		{"RootCAs and CA file, chain to a system root", systemCA.leaf(t, "mx.test", later), rootsCA.pool(), "unknown-authority", 0},
		{"RootCAs and CA file, chain to the CA file", fileCA.leaf(t, "mx.test", later), rootsCA.pool(), "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loads = 0
			info := &TLSInfo{}
			cfg, err := TLSOptions{CAFile: caFile, RootCAs: tc.rootCAs}.clientConfig("mx.test", info)
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.VerifyConnection(tls.ConnectionState{Version: tls.VersionTLS13, PeerCertificates: []*x509.Certificate{tc.leaf}})
			if tc.reason == "" {
				if err != nil || !info.Verified {
					t.Errorf("VerifyConnection = %v, Verified %v; want verified", err, info.Verified)
				}
			} else {
				var ve *VerifyError
				if !errors.As(err, &ve) || ve.Reason != tc.reason || info.VerifyReason != tc.reason {
					t.Errorf("VerifyConnection = %v (info reason %q), want reason %s", err, info.VerifyReason, tc.reason)
				}
			}
			if loads != tc.wantLoads {
				t.Errorf("system roots loaded %d times, want %d", loads, tc.wantLoads)
			}
		})
	}
}
