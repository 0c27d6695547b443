package pki

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"testing"
	"time"
)

func mustCA(t *testing.T, s Spec) *CA {
	t.Helper()
	ca, err := NewCA(s)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestVerify(t *testing.T) {
	now := time.Now()
	ca := mustCA(t, Spec{CommonName: "test CA", Organization: "mailflow tests"})
	other := mustCA(t, Spec{CommonName: "other CA"})
	good, err := ca.Issue(Spec{DNSNames: []string{"mx.test", "localhost"}, IPAddresses: Loopback()})
	if err != nil {
		t.Fatal(err)
	}
	expired, err := ca.Issue(Spec{DNSNames: []string{"mx.test"}, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	self, err := SelfSigned(Spec{DNSNames: []string{"mx.test"}})
	if err != nil {
		t.Fatal(err)
	}
	selfPool := x509.NewCertPool()
	selfPool.AddCert(self.Leaf)
	tests := []struct {
		name  string
		cert  *Cert
		roots *x509.CertPool
		host  string
		want  error // nil, or an error of the type to match
	}{
		{"DNS name", good, ca.Pool(), "mx.test", nil},
		{"second DNS name", good, ca.Pool(), "localhost", nil},
		{"IPv4 loopback", good, ca.Pool(), "127.0.0.1", nil},
		{"IPv6 loopback", good, ca.Pool(), "::1", nil},
		{"name not in the SANs", good, ca.Pool(), "other.test", x509.HostnameError{}},
		{"another authority", good, other.Pool(), "mx.test", x509.UnknownAuthorityError{}},
		{"expired", expired, ca.Pool(), "mx.test", x509.CertificateInvalidError{}},
		{"self-signed against the CA", self, ca.Pool(), "mx.test", x509.UnknownAuthorityError{}},
		{"self-signed trusted as itself", self, selfPool, "mx.test", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cert.Leaf.Verify(x509.VerifyOptions{Roots: tt.roots, DNSName: tt.host})
			switch tt.want.(type) {
			case nil:
				if err != nil {
					t.Fatalf("Verify = %v, want success", err)
				}
			case x509.HostnameError:
				var he x509.HostnameError
				if !errors.As(err, &he) {
					t.Fatalf("Verify = %v, want a host name error", err)
				}
			case x509.UnknownAuthorityError:
				var ue x509.UnknownAuthorityError
				if !errors.As(err, &ue) {
					t.Fatalf("Verify = %v, want an unknown authority", err)
				}
			case x509.CertificateInvalidError:
				var ie x509.CertificateInvalidError
				if !errors.As(err, &ie) || ie.Reason != x509.Expired {
					t.Fatalf("Verify = %v, want expired", err)
				}
			}
		})
	}
}

func TestSpecDefaults(t *testing.T) {
	before := time.Now()
	ca := mustCA(t, Spec{CommonName: "defaults CA", Organization: "mailflow lab"})
	tests := []struct {
		name   string
		spec   Spec
		wantCN string
	}{
		{"CN from the first DNS name", Spec{DNSNames: []string{"a.test", "b.test"}, IPAddresses: Loopback()}, "a.test"},
		{"CN from the first address", Spec{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}, "127.0.0.1"},
		{"explicit CN", Spec{CommonName: "mail.lab.test", DNSNames: []string{"localhost"}}, "mail.lab.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ca.Issue(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			l := c.Leaf
			if l.Subject.CommonName != tt.wantCN {
				t.Errorf("CN = %q, want %q", l.Subject.CommonName, tt.wantCN)
			}
			if !l.NotBefore.Before(before) || l.NotAfter.Before(before.Truncate(time.Second).Add(DefaultLifetime)) {
				t.Errorf("validity %v .. %v does not cover now .. now+%v", l.NotBefore, l.NotAfter, DefaultLifetime)
			}
			if l.Issuer.CommonName != "defaults CA" || len(l.Issuer.Organization) != 1 || l.Issuer.Organization[0] != "mailflow lab" {
				t.Errorf("issuer = %v", l.Issuer)
			}
			if l.SerialNumber.Sign() <= 0 || l.SerialNumber.Cmp(ca.Cert.SerialNumber) == 0 {
				t.Errorf("serial %v (CA %v): want positive and distinct", l.SerialNumber, ca.Cert.SerialNumber)
			}
			if l.IsCA || len(l.ExtKeyUsage) != 1 || l.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
				t.Errorf("leaf IsCA %v, ExtKeyUsage %v", l.IsCA, l.ExtKeyUsage)
			}
		})
	}
	if !ca.Cert.IsCA || !ca.Cert.MaxPathLenZero || ca.Cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("CA IsCA %v MaxPathLenZero %v KeyUsage %b", ca.Cert.IsCA, ca.Cert.MaxPathLenZero, ca.Cert.KeyUsage)
	}
}

func TestEncodings(t *testing.T) {
	ca := mustCA(t, Spec{CommonName: "pem CA"})
	c, err := ca.Issue(Spec{DNSNames: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	// A CA file read back trusts the leaf.
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca.PEM()) {
		t.Fatal("CA PEM not accepted by AppendCertsFromPEM")
	}
	if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost"}); err != nil {
		t.Errorf("leaf against the CA file = %v", err)
	}
	// Certificate and key files load as a pair, as a server reads them.
	keyPEM, err := c.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := pem.Decode(keyPEM); b == nil || b.Type != "PRIVATE KEY" {
		t.Errorf("key PEM block = %+v", b)
	}
	pair, err := tls.X509KeyPair(c.CertPEM(), keyPEM)
	if err != nil {
		t.Fatalf("X509KeyPair = %v", err)
	}
	if len(pair.Certificate) != 1 || string(pair.Certificate[0]) != string(c.Leaf.Raw) {
		t.Error("PEM pair does not hold the leaf")
	}
	tests := []struct {
		name  string
		cert  tls.Certificate
		chain [][]byte
	}{
		{"TLS", c.TLS(), [][]byte{c.Leaf.Raw}},
		{"TLSChain", c.TLSChain(), [][]byte{c.Leaf.Raw, ca.Cert.Raw}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.cert.Certificate) != len(tt.chain) {
				t.Fatalf("%d certificates, want %d", len(tt.cert.Certificate), len(tt.chain))
			}
			for i := range tt.chain {
				if string(tt.cert.Certificate[i]) != string(tt.chain[i]) {
					t.Errorf("certificate %d differs", i)
				}
			}
			if tt.cert.Leaf != c.Leaf || tt.cert.PrivateKey != c.Key {
				t.Error("Leaf or PrivateKey not set")
			}
		})
	}
	self, err := SelfSigned(Spec{DNSNames: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(self.TLSChain().Certificate); n != 1 {
		t.Errorf("self-signed chain has %d certificates, want 1", n)
	}
}

// TestHandshake serves a leaf over loopback TLS and checks that a client
// trusting the CA completes the handshake and one that does not fails.
func TestHandshake(t *testing.T) {
	ca := mustCA(t, Spec{CommonName: "handshake CA"})
	c, err := ca.Issue(Spec{DNSNames: []string{"localhost"}, IPAddresses: Loopback()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{c.TLSChain()}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.(*tls.Conn).Handshake()
			conn.Close()
		}
	}()
	for _, tt := range []struct {
		name  string
		roots *x509.CertPool
		ok    bool
	}{
		{"trusting the CA", ca.Pool(), true},
		{"trusting nothing", x509.NewCertPool(), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := &net.Dialer{Timeout: 5 * time.Second}
			conn, err := tls.DialWithDialer(d, "tcp", ln.Addr().String(), &tls.Config{RootCAs: tt.roots, ServerName: "127.0.0.1"})
			if err == nil {
				conn.Close()
			}
			if (err == nil) != tt.ok {
				t.Fatalf("handshake = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
