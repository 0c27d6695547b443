package addr

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"user@example.com", `"a b"@[IPv6:::1]`, "<jörg@bücher.example>", "a@b\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n\x00") {
				t.Fatalf("error echoes a control character: %q", err)
			}
			return
		}
		out := a.String()
		if err := CheckArg(out); err != nil {
			t.Fatalf("ParseAddress(%q) accepted an address that CheckArg refuses: %v", s, err)
		}
		if len(a.Local) > MaxLocalLen || len(out) > MaxAddressLen {
			t.Fatalf("ParseAddress(%q) = %q exceeds a length limit", s, out)
		}
		b, err := ParseAddress(out)
		if err != nil {
			t.Fatalf("ParseAddress(%q) = %q, which does not parse again: %v", s, out, err)
		}
		if b.String() != out || b.NeedsSMTPUTF8 != a.NeedsSMTPUTF8 {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, out, b.String())
		}
	})
}

func FuzzParseDomain(f *testing.F) {
	for _, s := range []string{"example.com", "bücher.example.", "xn--bcher-kva.example", "pаypal.com", "1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDomain(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n\x00") {
				t.Fatalf("error echoes a control character: %q", err)
			}
			return
		}
		if len(d.ASCII) > MaxDomainLen || d.ASCII == "" {
			t.Fatalf("ParseDomain(%q).ASCII = %q has a bad length", s, d.ASCII)
		}
		for i := 0; i < len(d.ASCII); i++ {
			if c := d.ASCII[i]; !isLDH(c) && c != '.' || c >= 'A' && c <= 'Z' {
				t.Fatalf("ParseDomain(%q).ASCII = %q has %q", s, d.ASCII, c)
			}
		}
		if !utf8.ValidString(d.Unicode) {
			t.Fatalf("ParseDomain(%q).Unicode is not UTF-8", s)
		}
		e, err := ParseDomain(d.ASCII)
		if err != nil {
			t.Fatalf("ASCII form %q of %q does not parse again: %v", d.ASCII, s, err)
		}
		if e.ASCII != d.ASCII || e.Unicode != d.Unicode {
			t.Fatalf("not idempotent: %q -> %+v -> %+v", s, d, e)
		}
	})
}
