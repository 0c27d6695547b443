package lab

import (
	"crypto/tls"
	"fmt"
	"time"

	"github.com/mailflow/mailflow/internal/pki"
)

// certNames are the DNS names every lab server certificate carries, so a
// client may verify the certificate whether it dialled an MX name, the
// submission name or plain localhost.
var certNames = []string{"localhost", "mx1.lab.test", "mx2.lab.test", "mail.lab.test"}

// certSet holds the three server certificates a lab can present: the good
// one, one from a CA that clients do not trust, and an expired one. The
// CA lives in memory for the lifetime of one lab.
type certSet struct {
	ca        *pki.CA
	caPEM     []byte
	good      tls.Certificate
	untrusted tls.Certificate
	expired   tls.Certificate
}

func newCertSet(now time.Time) (*certSet, error) {
	authority := func(name string) (*pki.CA, error) {
		ca, err := pki.NewCA(pki.Spec{CommonName: name, Organization: "mailflow lab", NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour)})
		if err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
		return ca, nil
	}
	// issue signs a server certificate valid from notBefore to notAfter.
	// The chain includes the CA so that tools printing the chain (openssl
	// s_client -showcerts) show where the certificate comes from.
	issue := func(ca *pki.CA, notBefore, notAfter time.Time) (tls.Certificate, error) {
		c, err := ca.Issue(pki.Spec{
			CommonName:   "mail.lab.test",
			Organization: "mailflow lab",
			DNSNames:     certNames,
			IPAddresses:  pki.Loopback(),
			NotBefore:    notBefore,
			NotAfter:     notAfter,
		})
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("lab: %w", err)
		}
		return c.TLSChain(), nil
	}
	ca, err := authority("mailflow lab CA")
	if err != nil {
		return nil, err
	}
	rogue, err := authority("Untrusted Example CA")
	if err != nil {
		return nil, err
	}
	good, err := issue(ca, now.Add(-time.Hour), now.Add(7*24*time.Hour))
	if err != nil {
		return nil, err
	}
	untrusted, err := issue(rogue, now.Add(-time.Hour), now.Add(7*24*time.Hour))
	if err != nil {
		return nil, err
	}
	// Expired yesterday, but issued by the trusted CA: the only thing
	// wrong with it is the date, which is what the scenario teaches.
	expired, err := issue(ca, now.Add(-30*24*time.Hour), now.Add(-24*time.Hour))
	if err != nil {
		return nil, err
	}
	return &certSet{ca: ca, caPEM: ca.PEM(), good: good, untrusted: untrusted, expired: expired}, nil
}
