package addr

import (
	"errors"
	"strings"
	"testing"
)

func TestParseDomain(t *testing.T) {
	tests := []struct {
		in          string
		ascii, uni  string
		confusable  bool
		kind        error
		errContains string
	}{
		{in: "example.com", ascii: "example.com", uni: "example.com"},
		{in: "Example.COM.", ascii: "example.com", uni: "example.com"},
		{in: "localhost", ascii: "localhost", uni: "localhost"},
		{in: "r3---sn-abc.example", ascii: "r3---sn-abc.example", uni: "r3---sn-abc.example"},
		{in: "bücher.example", ascii: "xn--bcher-kva.example", uni: "bücher.example"},
		{in: "xn--bcher-kva.example", ascii: "xn--bcher-kva.example", uni: "bücher.example"},
		{in: "BÜCHER.example", ascii: "xn--bcher-kva.example", uni: "bücher.example"},
		{in: "例え.テスト", ascii: "xn--r8jz45g.xn--zckzah", uni: "例え.テスト"},
		{in: "pаypal.com", ascii: "xn--pypal-4ve.com", uni: "pаypal.com", confusable: true}, // Cyrillic а
		{in: "аррӏе.com", ascii: "xn--80ak6aa92e.com", uni: "аррӏе.com", confusable: true},  // all Cyrillic
		{in: "пример.рф", ascii: "xn--e1afmkfd.xn--p1ai", uni: "пример.рф"},                 // real Cyrillic word
		{in: strings.Repeat("a", 63) + ".example", ascii: strings.Repeat("a", 63) + ".example", uni: strings.Repeat("a", 63) + ".example"},

		{in: "", kind: ErrEmpty, errContains: "empty domain"},
		{in: ".", kind: ErrEmptyLabel},
		{in: ".example.com", kind: ErrEmptyLabel, errContains: "starts with a dot"},
		{in: "example..com", kind: ErrEmptyLabel, errContains: "two dots in a row at position 8"},
		{in: "example.com..", kind: ErrEmptyLabel},
		{in: strings.Repeat("a", 64) + ".example", kind: ErrTooLong, errContains: "limit is 63"},
		{in: strings.Repeat(strings.Repeat("a", 60)+".", 5) + "com", kind: ErrTooLong, errContains: "limit is 253"},
		{in: "exa_mple.com", kind: ErrBadChar, errContains: "character '_' in domain at position 4"},
		{in: "exa mple.com", kind: ErrBadChar, errContains: "space in domain at position 4"},
		{in: "user@example.com", kind: ErrBadChar, errContains: "'@'"},
		{in: "-example.com", kind: ErrHyphen, errContains: "starts with a hyphen at position 1"},
		{in: "example-.com", kind: ErrHyphen, errContains: "ends with a hyphen at position 8"},
		{in: "example.com\r\nRCPT TO:<x@y>", kind: ErrControl, errContains: "control character CR at position 12"},
		{in: "exa\x00mple.com", kind: ErrControl, errContains: "NUL at position 4"},
		{in: "exa\tmple.com", kind: ErrControl, errContains: "TAB"},
		{in: "exa\u0085mple.com", kind: ErrControl, errContains: "U+0085"},
		{in: "exa\xffmple.com", kind: ErrBadChar, errContains: "invalid UTF-8 byte 0xFF at position 4"},
		{in: "192.0.2.1", kind: ErrIPAddress, errContains: "that is an IP address"},
		{in: "2001:db8::1", kind: ErrIPAddress, errContains: "that is an IP address"},
		{in: "[192.0.2.1]", kind: ErrIPAddress, errContains: "IP address literal"},
		{in: "192.168.1", kind: ErrIPAddress, errContains: "all digits"},
		{in: "xn--zz.example", kind: ErrIDNA},
		{in: "a\u200db.example", kind: ErrIDNA}, // ZWJ outside its allowed context (RFC 5892 Appendix A.2)
		{in: "\u0301a.example", kind: ErrIDNA},  // label starts with a combining mark (RFC 5891 §4.2.3.2)
		{in: "aא.example", kind: ErrIDNA},       // Latin and Hebrew in one label breaks the Bidi rule (RFC 5893)
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := ParseDomain(tt.in)
			if tt.kind != nil {
				if err == nil {
					t.Fatalf("ParseDomain(%q) = %+v, want error %v", tt.in, d, tt.kind)
				}
				if !errors.Is(err, tt.kind) {
					t.Errorf("ParseDomain(%q) error = %v, want kind %v", tt.in, err, tt.kind)
				}
				if !strings.Contains(err.Error(), tt.errContains) {
					t.Errorf("ParseDomain(%q) error = %q, want it to contain %q", tt.in, err, tt.errContains)
				}
				if strings.ContainsAny(err.Error(), "\r\n\x00") {
					t.Errorf("error message echoes a control character: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDomain(%q) error = %v", tt.in, err)
			}
			if d.ASCII != tt.ascii || d.Unicode != tt.uni {
				t.Errorf("ParseDomain(%q) = (%q, %q), want (%q, %q)", tt.in, d.ASCII, d.Unicode, tt.ascii, tt.uni)
			}
			if d.Confusable != tt.confusable {
				t.Errorf("ParseDomain(%q).Confusable = %v (%s), want %v", tt.in, d.Confusable, d.ConfusableReason, tt.confusable)
			}
			if d.Confusable && d.ConfusableReason == "" {
				t.Errorf("Confusable without a reason")
			}
			if d.FQDN() != tt.ascii+"." {
				t.Errorf("FQDN() = %q", d.FQDN())
			}
		})
	}
}

func TestDomainDisplay(t *testing.T) {
	d, err := ParseDomain("bücher.example")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Display(), "bücher.example (xn--bcher-kva.example)"; got != want {
		t.Errorf("Display() = %q, want %q", got, want)
	}
	d, _ = ParseDomain("example.org")
	if got := d.Display(); got != "example.org" {
		t.Errorf("Display() = %q", got)
	}
}

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in          string
		want        string // String()
		utf8        bool
		kind        error
		errContains string
	}{
		{in: "user@example.com", want: "user@example.com"},
		{in: "<user@example.com>", want: "user@example.com"},
		{in: "first.last+tag@Example.COM", want: "first.last+tag@example.com"},
		{in: "!#$%&'*+-/=?^_`{|}~@example.com", want: "!#$%&'*+-/=?^_`{|}~@example.com"},
		{in: `"john doe"@example.com`, want: `"john doe"@example.com`},
		{in: `"a\"b@c"@example.com`, want: `"a\"b@c"@example.com`},
		{in: `"..."@example.com`, want: `"..."@example.com`},
		{in: "user@[192.0.2.1]", want: "user@[192.0.2.1]"},
		{in: "user@[IPv6:2001:DB8::1]", want: "user@[IPv6:2001:db8::1]"},
		{in: "user@bücher.example", want: "user@xn--bcher-kva.example"},
		{in: "jörg@example.com", want: "jörg@example.com", utf8: true},
		{in: `"jörg m"@example.com`, want: `"jörg m"@example.com`, utf8: true},
		{in: strings.Repeat("a", 64) + "@example.com", want: strings.Repeat("a", 64) + "@example.com"},

		{in: "", kind: ErrEmpty},
		{in: "userexample.com", kind: ErrMissingAt, errContains: "missing @"},
		{in: "<>", kind: ErrNullPath, errContains: "null reverse-path"},
		{in: "<user@example.com", kind: ErrBrackets, errContains: "missing closing '>'"},
		{in: "user@example.com>", kind: ErrBrackets},
		{in: "<@relay.example:user@example.com>", kind: ErrLocalPart, errContains: "source route"},
		{in: strings.Repeat("a", 65) + "@example.com", kind: ErrTooLong, errContains: "local part longer than 64 octets"},
		{in: strings.Repeat("a", 60) + "@" + strings.Repeat(strings.Repeat("b", 60)+".", 4) + "example", kind: ErrTooLong, errContains: "address longer than 254"},
		{in: "john doe@example.com", kind: ErrLocalPart, errContains: "space in local part at position 5: quote it"},
		{in: "<john doe@example.com>", kind: ErrLocalPart, errContains: "position 6"},
		{in: "user@exa\rmple.com", kind: ErrControl, errContains: "control character CR at position 9"},
		{in: "us\ner@example.com", kind: ErrControl, errContains: "LF at position 3"},
		{in: "@example.com", kind: ErrLocalPart, errContains: "empty local part"},
		{in: ".user@example.com", kind: ErrLocalPart, errContains: "starts with a dot"},
		{in: "user.@example.com", kind: ErrLocalPart, errContains: "ends with a dot"},
		{in: "us..er@example.com", kind: ErrLocalPart, errContains: "two dots in a row in local part at position 4"},
		{in: "us(er@example.com", kind: ErrLocalPart, errContains: "'(' not allowed"},
		{in: "a@b@example.com", kind: ErrBadChar, errContains: "'@'"},
		{in: `"unterminated@example.com`, kind: ErrLocalPart, errContains: "unterminated"},
		{in: `"ab"x@example.com`, kind: ErrLocalPart, errContains: "after quoted local part"},
		{in: `"ab"`, kind: ErrMissingAt},
		{in: "user@", kind: ErrEmpty, errContains: "nothing after @"},
		{in: "user@exa_mple.com", kind: ErrBadChar, errContains: "domain: character '_' in domain at position 9"},
		{in: "user@[300.1.1.1]", kind: ErrLiteral},
		{in: "user@[2001:db8::1]", kind: ErrLiteral, errContains: "IPv6: tag"},
		{in: "user@[IPv6:1.2.3.4]", kind: ErrLiteral},
		{in: "user@[192.0.2.1", kind: ErrBrackets},
		{in: "user@192.0.2.1", kind: ErrIPAddress, errContains: "that is an IP address"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			a, err := ParseAddress(tt.in)
			if tt.kind != nil {
				if err == nil {
					t.Fatalf("ParseAddress(%q) = %+v, want error %v", tt.in, a, tt.kind)
				}
				if !errors.Is(err, tt.kind) {
					t.Errorf("ParseAddress(%q) error = %v, want kind %v", tt.in, err, tt.kind)
				}
				if !strings.Contains(err.Error(), tt.errContains) {
					t.Errorf("ParseAddress(%q) error = %q, want it to contain %q", tt.in, err, tt.errContains)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAddress(%q) error = %v", tt.in, err)
			}
			if a.String() != tt.want {
				t.Errorf("ParseAddress(%q).String() = %q, want %q", tt.in, a.String(), tt.want)
			}
			if a.NeedsSMTPUTF8 != tt.utf8 {
				t.Errorf("ParseAddress(%q).NeedsSMTPUTF8 = %v, want %v", tt.in, a.NeedsSMTPUTF8, tt.utf8)
			}
			if a.Path() != "<"+tt.want+">" {
				t.Errorf("Path() = %q", a.Path())
			}
		})
	}
}

func TestAddressUnicode(t *testing.T) {
	a, err := ParseAddress("info@BÜCHER.example")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Unicode(), "info@bücher.example"; got != want {
		t.Errorf("Unicode() = %q, want %q", got, want)
	}
	if a.NeedsSMTPUTF8 {
		t.Error("an IDN domain alone must not need SMTPUTF8")
	}
}

func TestParseReversePath(t *testing.T) {
	for _, in := range []string{"<>", ""} {
		a, err := ParseReversePath(in)
		if err != nil || !a.Null || a.Path() != "<>" {
			t.Errorf("ParseReversePath(%q) = %+v, %v; want null path", in, a, err)
		}
	}
	a, err := ParseReversePath("<bounce@example.com>")
	if err != nil || a.Null || a.String() != "bounce@example.com" {
		t.Errorf("ParseReversePath(mailbox) = %+v, %v", a, err)
	}
	if _, err := ParseReversePath("<bad"); err == nil {
		t.Error("ParseReversePath(<bad) succeeded")
	}
}

func TestCheckArg(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" = accepted
	}{
		{"user@example.com", ""},
		{"mail.example.com", ""},
		{"tab\tis fine", ""},
		{"jörg@example.com", ""},
		{"user@example.com\r\nDATA", "CR in protocol argument at position 17"},
		{"user@example.com\nDATA", "LF in protocol argument at position 17"},
		{"a\x00b", "NUL in protocol argument at position 2"},
		{"ü\r", "CR in protocol argument at position 2"},
	}
	for _, tt := range tests {
		err := CheckArg(tt.in)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckArg(%q) = %v, want nil", tt.in, err)
		case tt.want != "" && err == nil:
			t.Errorf("CheckArg(%q) = nil, want %q", tt.in, tt.want)
		case tt.want != "" && (!strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrControl)):
			t.Errorf("CheckArg(%q) = %q, want %q", tt.in, err, tt.want)
		}
	}
}

func TestParseHostPort(t *testing.T) {
	tests := []struct {
		in          string
		host        string
		port        int
		kind        error
		errContains string
	}{
		{in: "mail.example.com", host: "mail.example.com", port: 25},
		{in: "Mail.Example.com:587", host: "mail.example.com", port: 587},
		{in: "192.0.2.1", host: "192.0.2.1", port: 25},
		{in: "192.0.2.1:2525", host: "192.0.2.1", port: 2525},
		{in: "[::1]:25", host: "::1", port: 25},
		{in: "[::1]", host: "::1", port: 25},
		{in: "::1", host: "::1", port: 25},
		{in: "2001:DB8::1", host: "2001:db8::1", port: 25},
		{in: "localhost:65535", host: "localhost", port: 65535},
		{in: "bücher.example:1", host: "xn--bcher-kva.example", port: 1},

		{in: "", kind: ErrEmpty},
		{in: ":25", kind: ErrEmpty},
		{in: "host:", kind: ErrPort, errContains: "empty port"},
		{in: "host:0", kind: ErrPort, errContains: "out of range 1-65535"},
		{in: "host:65536", kind: ErrPort, errContains: "out of range"},
		{in: "host:smtp", kind: ErrPort, errContains: `port "smtp" is not a number at position 6`},
		{in: "host:-1", kind: ErrPort},
		{in: "[::1]:x", kind: ErrPort},
		{in: "[::1", kind: ErrBrackets},
		{in: "[::1]25", kind: ErrBadChar},
		{in: "[mail.example]:25", kind: ErrLiteral},
		{in: "2001:db8::1:25:zz", kind: ErrLiteral, errContains: "[2001:db8::1]:25"},
		{in: "ho st:25", kind: ErrBadChar},
		{in: "host\r\n:25", kind: ErrControl},

		// IPv6 zones (RFC 6874): interface names and numbers only, so
		// that the bracketed form parses back to the same host.
		{in: "[fe80::1%eth0]:25", host: "fe80::1%eth0", port: 25},
		{in: "fe80::1%enp0s3.100", host: "fe80::1%enp0s3.100", port: 25},
		{in: "[fe80::1%br_lan-2]", host: "fe80::1%br_lan-2", port: 25},
		{in: "fe80::1%7", host: "fe80::1%7", port: 25},
		{in: "::%]0", kind: ErrBadChar, errContains: `zone character ']' at position 4`},
		{in: "[fe80::1%a[b]:25", kind: ErrBadChar, errContains: `zone character '[' at position 11`},
		{in: "fe80::1%a b", kind: ErrBadChar, errContains: "zone character space at position 10"},
		{in: "fe80::1%a:b", kind: ErrBadChar},
		{in: "fe80::1%a/b", kind: ErrBadChar},
		{in: "fe80::1%ethé", kind: ErrBadChar},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			host, port, err := ParseHostPort(tt.in, 25)
			if tt.kind != nil {
				if err == nil {
					t.Fatalf("ParseHostPort(%q) = %q, %d; want error %v", tt.in, host, port, tt.kind)
				}
				if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.errContains) {
					t.Errorf("ParseHostPort(%q) error = %q, want kind %v containing %q", tt.in, err, tt.kind, tt.errContains)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseHostPort(%q) error = %v", tt.in, err)
			}
			if host != tt.host || port != tt.port {
				t.Errorf("ParseHostPort(%q) = %q, %d; want %q, %d", tt.in, host, port, tt.host, tt.port)
			}
		})
	}
}
