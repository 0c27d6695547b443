package addr

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzParseHostPort checks the server argument parser: no panic, ports
// in range, no control character in the host or in an error message,
// and a result that parses again to itself.
func FuzzParseHostPort(f *testing.F) {
	for _, s := range []string{
		"mx.example.com", "mx.example.com:587", "[2001:db8::1]:465", "[::1]", "2001:db8::1",
		"mx.example.com:65536", "[::1]:0", "bücher.example:25", "[fe80::1%eth0]:25", "a\r\n:25", "::", "[]:25",
		"::%]0", "fe80::1%a:b", "[fe80::1%eth0.5]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		host, port, err := ParseHostPort(s, 25)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n\x00") {
				t.Fatalf("error echoes a control character: %q", err)
			}
			return
		}
		if port < 1 || port > 65535 {
			t.Fatalf("ParseHostPort(%q) port %d out of range", s, port)
		}
		if host == "" || CheckArg(host) != nil {
			t.Fatalf("ParseHostPort(%q) host %q", s, host)
		}
		again := host + ":" + strconv.Itoa(port)
		if strings.Contains(host, ":") {
			again = "[" + host + "]:" + strconv.Itoa(port)
		}
		h2, p2, err := ParseHostPort(again, 25)
		if err != nil || h2 != host || p2 != port {
			t.Fatalf("ParseHostPort(%q) = %q, %d; its form %q parses to %q, %d, %v", s, host, port, again, h2, p2, err)
		}
	})
}
