// Package pki makes throw-away X.509 certificates for tests and the lab:
// a certificate authority, server (leaf) certificates it signs with the
// names, addresses and validity a caller asks for, self-signed
// certificates, and the PEM, tls.Certificate and x509.CertPool forms the
// rest of mailflow needs.
//
// Keys are ECDSA P-256, which every TLS stack mailflow talks to (Go,
// OpenSSL in Postfix and Dovecot) accepts. Certificates follow the
// profile of RFC 5280: a positive random serial number (section
// 4.1.2.2), basicConstraints with cA set and a path length of zero on the
// authority (section 4.2.1.9), and keyUsage/extKeyUsage serverAuth on
// leaves (sections 4.2.1.3 and 4.2.1.12). Leaves carry their names as
// subjectAltName entries (section 4.2.1.6), which is what TLS clients
// check (RFC 6125 section 6.4.4).
//
// Nothing here is meant to protect anything: the keys live in memory or
// in a test directory for the life of one test run or one lab.
package pki
