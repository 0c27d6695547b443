package sshserve

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
)

// maxAuthorizedKeys bounds the authorized_keys file read on each login.
const maxAuthorizedKeys = 4 << 20

// harmlessOptions are authorized_keys options that only take away what
// this server never gives anyway, so a key carrying them may log in. Any
// other option (from=, command=, permitopen=, expiry-time=, no-pty, ...)
// would need enforcing, so a key carrying one is not used at all.
var harmlessOptions = map[string]bool{
	"restrict":            true,
	"no-port-forwarding":  true,
	"no-agent-forwarding": true,
	"no-x11-forwarding":   true,
	"no-user-rc":          true,
	"pty":                 true, // re-allows a PTY after restrict
}

// authorizedKey is one usable line of an authorized_keys file.
type authorizedKey struct {
	line    int
	comment string
}

// readAuthorizedKeys parses an OpenSSH authorized_keys file (sshd(8),
// AUTHORIZED_KEYS FILE FORMAT). Lines it cannot parse, and keys with
// options it does not enforce, are reported in skipped and left out: a
// key restricted with from= or command= must not get more than its owner
// meant to give it.
func readAuthorizedKeys(path string) (keys map[string]authorizedKey, skipped []string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("sshserve: authorized keys: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxAuthorizedKeys+1)); err != nil {
		return nil, nil, fmt.Errorf("sshserve: authorized keys %s: %w", path, err)
	}
	if buf.Len() > maxAuthorizedKeys {
		return nil, nil, fmt.Errorf("sshserve: authorized keys %s is larger than %d bytes", path, maxAuthorizedKeys)
	}
	keys = map[string]authorizedKey{}
	for i, line := range strings.Split(buf.String(), "\n") {
		n := i + 1
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' {
			continue
		}
		pub, comment, options, _, err := ssh.ParseAuthorizedKey([]byte(t))
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s:%d: not a public key", path, n))
			continue
		}
		if bad := unsupportedOptions(options); len(bad) > 0 {
			skipped = append(skipped, fmt.Sprintf("%s:%d: key %s skipped: option %s is not enforced by mailflow serve",
				path, n, ssh.FingerprintSHA256(pub), strings.Join(bad, ", ")))
			continue
		}
		if _, isCert := pub.(*ssh.Certificate); isCert {
			skipped = append(skipped, fmt.Sprintf("%s:%d: certificates are not accepted", path, n))
			continue
		}
		keys[string(pub.Marshal())] = authorizedKey{line: n, comment: comment}
	}
	return keys, skipped, nil
}

// unsupportedOptions returns the option names that are not harmless.
func unsupportedOptions(options []string) []string {
	var bad []string
	for _, o := range options {
		name := strings.ToLower(o)
		if i := strings.IndexByte(name, '='); i >= 0 {
			name = name[:i]
		}
		if !harmlessOptions[name] {
			bad = append(bad, name)
		}
	}
	return bad
}
