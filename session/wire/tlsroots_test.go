package wire

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailflow/mailflow/internal/peertest"
	"github.com/mailflow/mailflow/internal/pki"
)

// leaf returns a certificate for name signed by ca, valid until notAfter.
func leaf(t *testing.T, ca *pki.CA, name string, notAfter time.Time) *x509.Certificate {
	t.Helper()
	return peertest.Issue(t, ca, pki.Spec{DNSNames: []string{name}, NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: notAfter}).Leaf
}

// TestCAFileLoadsSystemRootsOnlyWhenNeeded checks that a chain to the CA
// file is verified without loading the system roots (their cost dominated
// a short check), and that the verdict is still the one the CA file plus
// the system roots give together.
func TestCAFileLoadsSystemRootsOnlyWhenNeeded(t *testing.T) {
	fileCA, systemCA, otherCA, rootsCA := peertest.NewCA(t, "file CA"), peertest.NewCA(t, "system CA"), peertest.NewCA(t, "other CA"), peertest.NewCA(t, "RootCAs CA")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, fileCA.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	loads := 0
	old := systemRoots
	t.Cleanup(func() { systemRoots = old })
	systemRoots = func() (*x509.CertPool, error) { loads++; return systemCA.Pool(), nil }

	later := time.Now().Add(time.Hour)
	tests := []struct {
		name      string
		leaf      *x509.Certificate
		rootCAs   *x509.CertPool
		reason    string // "" means verified
		wantLoads int
	}{
		{"chain to the CA file", leaf(t, fileCA, "mx.test", later), nil, "", 0},
		{"chain to a system root", leaf(t, systemCA, "mx.test", later), nil, "", 1},
		{"unknown authority", leaf(t, otherCA, "mx.test", later), nil, "unknown-authority", 1},
		{"expired, from the CA file", leaf(t, fileCA, "mx.test", time.Now().Add(-time.Hour)), nil, "expired", 1},
		{"RootCAs replace the system roots", leaf(t, rootsCA, "mx.test", later), rootsCA.Pool(), "", 0},
		{"RootCAs and CA file, chain to a system root", leaf(t, systemCA, "mx.test", later), rootsCA.Pool(), "unknown-authority", 0},
		{"RootCAs and CA file, chain to the CA file", leaf(t, fileCA, "mx.test", later), rootsCA.Pool(), "", 0},
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
