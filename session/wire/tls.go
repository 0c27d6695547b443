package wire

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// TLSOptions configures certificate verification. Verification is on
// unless Insecure is set; an insecure session is flagged in the
// transcript and in TLSInfo.
type TLSOptions struct {
	// ServerName is the name the certificate must match and the SNI sent.
	// Empty means the host part of the dialled address.
	ServerName string
	// RootCAs replaces the system roots when set.
	RootCAs *x509.CertPool
	// CAFile adds the PEM certificates in this file to the trusted roots.
	CAFile string
	// Insecure proceeds even when verification fails. The failure is still
	// recorded and shown.
	Insecure bool
	// MinVersion is the lowest TLS version offered; 0 means TLS 1.2.
	MinVersion uint16
}

// CertInfo is what mailflow shows about one certificate of the chain.
type CertInfo struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	SANs      []string  `json:"sans,omitempty"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
}

// TLSInfo records the facts of a TLS session.
type TLSInfo struct {
	Version     string     `json:"version"`
	CipherSuite string     `json:"cipher_suite"`
	ServerName  string     `json:"server_name"`
	Chain       []CertInfo `json:"chain"`
	// Verified is true when the chain verified against the trusted roots
	// for ServerName.
	Verified bool `json:"verified"`
	// VerifyReason is empty when verified, else one of "expired",
	// "not-yet-valid", "unknown-authority", "name-mismatch", "other".
	VerifyReason string `json:"verify_reason,omitempty"`
	// VerifyError is the verifier's own message.
	VerifyError string `json:"verify_error,omitempty"`
	// Insecure is true when the session went on despite a failed check.
	Insecure bool `json:"insecure,omitempty"`
}

// VerifyError reports a certificate that failed verification.
type VerifyError struct {
	Reason string // as TLSInfo.VerifyReason
	Err    error
	// Info holds the facts of the refused session (version, cipher suite,
	// the chain as presented), so that a failed check can still show them.
	Info *TLSInfo
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("certificate verification failed (%s): %v", e.Reason, e.Err)
}

func (e *VerifyError) Unwrap() error { return e.Err }

// Summary is a one-line description for the transcript.
func (i *TLSInfo) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "TLS %s %s", i.Version, i.CipherSuite)
	if len(i.Chain) > 0 {
		c := i.Chain[0]
		fmt.Fprintf(&b, ", certificate %q issued by %q, expires %s", c.Subject, c.Issuer, c.NotAfter.UTC().Format("2006-01-02"))
	}
	switch {
	case i.Verified:
		b.WriteString(", verified for " + i.ServerName)
	case i.Insecure:
		b.WriteString(", NOT VERIFIED (" + i.VerifyReason + "), continuing because --insecure was given")
	default:
		b.WriteString(", verification failed (" + i.VerifyReason + ")")
	}
	return b.String()
}

// systemRoots returns a copy of the system's trusted roots; tests replace
// it to count how often they are loaded.
var systemRoots = x509.SystemCertPool

// clientConfig builds a tls.Config that always completes the handshake far
// enough to see the chain, verifies it itself, and records the verdict in
// info. Go's own verification would abort before we learn why.
func (o TLSOptions) clientConfig(serverName string, info *TLSInfo) (*tls.Config, error) {
	roots := o.RootCAs
	var withSystem func() *x509.CertPool
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		own := x509.NewCertPool()
		if o.RootCAs != nil {
			own = o.RootCAs.Clone()
		}
		if !own.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", o.CAFile)
		}
		roots = own
		if o.RootCAs == nil {
			// The CA file adds to the system roots, but loading those
			// parses the whole system bundle (tens of milliseconds, most
			// of a short "mailflow check" against a private CA). So the
			// chain is checked against the CA file first, and the system
			// roots are loaded only when that fails: a chain valid for a
			// subset of the roots is valid for all of them, and a failure
			// is checked again against the full set, so the verdict and
			// its reason are the same as with the full set at once.
			withSystem = func() *x509.CertPool {
				p, err := systemRoots()
				if err != nil || p == nil {
					p = x509.NewCertPool()
				}
				p.AppendCertsFromPEM(pem)
				return p
			}
		}
	}
	minVer := o.MinVersion
	if minVer == 0 {
		minVer = tls.VersionTLS12
	}
	info.ServerName = serverName
	return &tls.Config{
		ServerName:         serverName,
		MinVersion:         minVer,
		InsecureSkipVerify: true, // verified below, so that the reason is recorded
		VerifyConnection: func(cs tls.ConnectionState) error {
			info.fill(cs)
			err := verifyChain(cs.PeerCertificates, roots, serverName)
			if err != nil && withSystem != nil {
				err = verifyChain(cs.PeerCertificates, withSystem(), serverName)
			}
			if err == nil {
				info.Verified = true
				return nil
			}
			info.VerifyReason = err.Reason
			info.VerifyError = err.Err.Error()
			if o.Insecure {
				info.Insecure = true
				return nil
			}
			err.Info = info
			return err
		},
	}, nil
}

func (i *TLSInfo) fill(cs tls.ConnectionState) {
	i.Version = tls.VersionName(cs.Version)
	i.CipherSuite = tls.CipherSuiteName(cs.CipherSuite)
	i.Chain = i.Chain[:0]
	for _, c := range cs.PeerCertificates {
		sans := append([]string(nil), c.DNSNames...)
		for _, ip := range c.IPAddresses {
			sans = append(sans, ip.String())
		}
		i.Chain = append(i.Chain, CertInfo{
			Subject:   c.Subject.String(),
			Issuer:    c.Issuer.String(),
			SANs:      sans,
			NotBefore: c.NotBefore,
			NotAfter:  c.NotAfter,
		})
	}
}

func verifyChain(certs []*x509.Certificate, roots *x509.CertPool, name string) *VerifyError {
	if len(certs) == 0 {
		return &VerifyError{Reason: "other", Err: errors.New("server sent no certificate")}
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: name})
	if err == nil {
		return nil
	}
	return &VerifyError{Reason: verifyReason(err), Err: err}
}

func verifyReason(err error) string {
	var inv x509.CertificateInvalidError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	switch {
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		if strings.Contains(inv.Detail, "before") {
			return "not-yet-valid"
		}
		return "expired"
	case errors.As(err, &ua):
		return "unknown-authority"
	case errors.As(err, &he):
		return "name-mismatch"
	}
	return "other"
}
