package smtp

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mailflow/mailflow/session/wire"
)

func TestParseReply(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		code     int
		enhanced string
		text     []string
		msg      string
		wantErr  string
	}{
		{"single", "250 OK\r\n", 250, "", []string{"OK"}, "OK", ""},
		{"bare code", "250\r\n", 250, "", []string{""}, "", ""},
		{"bare LF", "220 mx ESMTP\n", 220, "", []string{"mx ESMTP"}, "mx ESMTP", ""},
		{"no final newline", "221 bye", 221, "", []string{"bye"}, "bye", ""},
		{"enhanced", "550 5.1.1 <x@y>: Recipient address rejected\r\n", 550, "5.1.1", []string{"5.1.1 <x@y>: Recipient address rejected"}, "<x@y>: Recipient address rejected", ""},
		{"enhanced 3-digit parts", "451 4.123.456 try later\r\n", 451, "4.123.456", []string{"4.123.456 try later"}, "try later", ""},
		{"enhanced alone", "250 2.0.0\r\n", 250, "2.0.0", []string{"2.0.0"}, "", ""},
		{"enhanced class mismatch", "550 4.1.1 odd\r\n", 550, "", []string{"4.1.1 odd"}, "4.1.1 odd", ""},
		{"enhanced not at start", "550 user 5.1.1 unknown\r\n", 550, "", []string{"user 5.1.1 unknown"}, "user 5.1.1 unknown", ""},
		{"enhanced too long part", "550 5.1234.1 x\r\n", 550, "", []string{"5.1234.1 x"}, "5.1234.1 x", ""},
		{"enhanced glued", "550 5.1.1x\r\n", 550, "", []string{"5.1.1x"}, "5.1.1x", ""},
		{"version-like text in 250", "250 1.2.3 ok\r\n", 250, "", []string{"1.2.3 ok"}, "1.2.3 ok", ""},
		{"multi-line", "250-mx.example Hello\r\n250-PIPELINING\r\n250 SIZE 100\r\n", 250, "", []string{"mx.example Hello", "PIPELINING", "SIZE 100"}, "mx.example Hello PIPELINING SIZE 100", ""},
		{"multi-line enhanced", "550-5.7.1 first\r\n550 5.7.1 second\r\n", 550, "5.7.1", []string{"5.7.1 first", "5.7.1 second"}, "first second", ""},
		{"mismatched codes", "250-a\r\n251 b\r\n", 0, "", nil, "", "has code 251"},
		{"missing last line", "250-a\r\n250-b\r\n", 0, "", nil, "", "continuation"},
		{"lines after last", "250 a\r\n250 b\r\n", 0, "", nil, "", "more lines"},
		{"not digits", "hello\r\n", 0, "", nil, "", "three-digit"},
		{"short", "25\r\n", 0, "", nil, "", "shorter"},
		{"first digit 1", "150 x\r\n", 0, "", nil, "", "outside 2-5"},
		{"first digit 6", "600 x\r\n", 0, "", nil, "", "outside 2-5"},
		{"bad separator", "250_x\r\n", 0, "", nil, "", "instead of a space"},
		{"empty", "", 0, "", nil, "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseReply(tt.in, 0)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseReply(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseReply(%q) = %v", tt.in, err)
			}
			if r.Code != tt.code || r.Enhanced != tt.enhanced || !reflect.DeepEqual(r.Text, tt.text) || r.Message() != tt.msg {
				t.Fatalf("ParseReply(%q) = code %d enhanced %q text %q message %q; want %d %q %q %q",
					tt.in, r.Code, r.Enhanced, r.Text, r.Message(), tt.code, tt.enhanced, tt.text, tt.msg)
			}
		})
	}
}

func TestParseReplyLimit(t *testing.T) {
	in := strings.Repeat("250-PIPELINING\r\n", 100) + "250 OK\r\n"
	_, err := ParseReply(in, 500)
	var le *wire.LimitError
	if !errors.As(err, &le) || le.Max != 500 {
		t.Fatalf("ParseReply over the limit = %v, want LimitError of 500", err)
	}
	if _, err := ParseReply(in, 1<<20); err != nil {
		t.Fatalf("ParseReply under the limit = %v", err)
	}
}

func TestReplyClasses(t *testing.T) {
	for _, tt := range []struct {
		code           int
		ok, temp, perm bool
	}{{250, true, false, false}, {354, true, false, false}, {421, false, true, false}, {554, false, false, true}} {
		r := Reply{Code: tt.code}
		if r.OK() != tt.ok || r.Temporary() != tt.temp || r.Permanent() != tt.perm {
			t.Errorf("Reply{%d}: OK %v Temporary %v Permanent %v", tt.code, r.OK(), r.Temporary(), r.Permanent())
		}
		e := &Error{Command: "X", Reply: r}
		if e.Temporary() != tt.temp {
			t.Errorf("Error{%d}.Temporary() = %v", tt.code, e.Temporary())
		}
	}
}

func TestErrorMessage(t *testing.T) {
	r, _ := ParseReply("550 5.1.1 <x@y>: unknown\x1b[31m user\r\n", 0)
	e := &Error{Command: "RCPT TO:<x@y>", Reply: r}
	got := e.Error()
	if !strings.HasPrefix(got, "smtp: RCPT TO:<x@y>: 550 5.1.1 <x@y>: unknown") {
		t.Fatalf("Error() = %q", got)
	}
	if strings.ContainsRune(got, 0x1b) {
		t.Fatalf("Error() passes an escape character through: %q", got)
	}
}

func TestParseCaps(t *testing.T) {
	r, err := ParseReply(strings.Join([]string{
		"250-mx.example.net Hello client [127.0.0.1]",
		"250-SIZE 10240000",
		"250-PIPELINING",
		"250-auth PLAIN LOGIN",
		"250-AUTH=LOGIN CRAM-MD5",
		"250-STARTTLS",
		"250-ENHANCEDSTATUSCODES",
		"250-8BITMIME",
		"250-DSN",
		"250-SMTPUTF8",
		"250-CHUNKING",
		"250-BINARYMIME",
		"250-X-VENDOR-THING a b",
		"250 ETRN",
	}, "\r\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	k := ParseCaps(r)
	if k.Domain != "mx.example.net" {
		t.Errorf("Domain = %q", k.Domain)
	}
	for _, kw := range []string{"SIZE", "PIPELINING", "AUTH", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING", "BINARYMIME", "X-VENDOR-THING", "etrn"} {
		if !k.Has(kw) {
			t.Errorf("Has(%q) = false", kw)
		}
	}
	if k.Has("VRFY") || k.Has("AUTH=LOGIN") {
		t.Errorf("unexpected keyword present")
	}
	if n, ok := k.Size(); !ok || n != 10240000 {
		t.Errorf("Size() = %d, %v", n, ok)
	}
	if got := k.AuthMechanisms(); !reflect.DeepEqual(got, []string{"PLAIN", "LOGIN", "CRAM-MD5"}) {
		t.Errorf("AuthMechanisms() = %q", got)
	}
	if x, _ := k.Get("X-VENDOR-THING"); !reflect.DeepEqual(x.Params, []string{"a", "b"}) || x.Line != "X-VENDOR-THING a b" {
		t.Errorf("vendor capability = %+v", x)
	}
	if got := len(k.Strings()); got != 12 {
		t.Errorf("Strings() has %d lines, want 12 (AUTH lines merged)", got)
	}
	if n, ok := (Caps{}).Size(); ok || n != 0 {
		t.Errorf("empty Caps Size() = %d, %v", n, ok)
	}
}

func FuzzParseReply(f *testing.F) {
	for _, s := range []string{
		"250 OK\r\n", "250-a\r\n250 b\r\n", "550 5.1.1 x\r\n", "250-a\r\n251 b\r\n",
		"334 VXNlcm5hbWU6\r\n", "220\r\n", "5", "250-\r\n250 \r\n", "550 5.7.1234 x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReply(s, 4096)
		if err != nil {
			return
		}
		if r.Code < 200 || r.Code > 599 {
			t.Fatalf("code %d accepted", r.Code)
		}
		if len(r.Lines) == 0 || len(r.Lines) != len(r.Text) {
			t.Fatalf("lines %d text %d", len(r.Lines), len(r.Text))
		}
		for i, l := range r.Lines {
			if !strings.HasSuffix(l, r.Text[i]) || l[:3] != r.Lines[0][:3] {
				t.Fatalf("line %q inconsistent with text %q", l, r.Text[i])
			}
		}
		if r.Enhanced != "" && (r.Enhanced[0]-'0' != byte(r.Code/100) || !strings.HasPrefix(r.Text[0], r.Enhanced)) {
			t.Fatalf("enhanced %q for code %d text %q", r.Enhanced, r.Code, r.Text[0])
		}
		// Re-serialising the lines parses to the same reply.
		r2, err := ParseReply(strings.Join(r.Lines, "\r\n")+"\r\n", 0)
		if err != nil || r2.Code != r.Code || r2.Enhanced != r.Enhanced || !reflect.DeepEqual(r2.Text, r.Text) {
			t.Fatalf("round trip of %q: %+v, %v", s, r2, err)
		}
		_ = ParseCaps(r)
	})
}

func BenchmarkParseReply(b *testing.B) {
	ehlo := "250-mx.example.net Hello\r\n250-SIZE 10240000\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250 SMTPUTF8\r\n"
	b.SetBytes(int64(len(ehlo)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := ParseReply(ehlo, 0)
		if err != nil || r.Code != 250 {
			b.Fatal(err)
		}
	}
}

// TestCapsSize checks SIZE (RFC 1870 §4: size-param ::= [1*DIGIT]): a
// parameter that is not all digits, or too large for int64, announces no
// limit (0) while Get keeps the value as sent.
func TestCapsSize(t *testing.T) {
	for _, tt := range []struct {
		line string // the SIZE line; "" means none
		n    int64
		ok   bool
	}{
		{"SIZE 10240000", 10240000, true},
		{"SIZE", 0, true},
		{"SIZE 0", 0, true},
		{"size 52428800", 52428800, true},
		{"SIZE -1", 0, true},
		{"SIZE +5", 0, true},
		{"SIZE 1e6", 0, true},
		{"SIZE 10MB", 0, true},
		{"SIZE 99999999999999999999999", 0, true},
		{"", 0, false},
	} {
		t.Run(tt.line, func(t *testing.T) {
			s := "250 mx.test\r\n"
			if tt.line != "" {
				s = "250-mx.test\r\n250 " + tt.line + "\r\n"
			}
			r, err := ParseReply(s, 0)
			if err != nil {
				t.Fatal(err)
			}
			k := ParseCaps(r)
			if n, ok := k.Size(); n != tt.n || ok != tt.ok {
				t.Fatalf("Size() = %d, %v; want %d, %v", n, ok, tt.n, tt.ok)
			}
			if f := strings.Fields(tt.line); len(f) == 2 {
				if c, _ := k.Get("SIZE"); len(c.Params) != 1 || c.Params[0] != f[1] {
					t.Errorf("Get(SIZE).Params = %q, want the raw %q", c.Params, f[1])
				}
			}
		})
	}
}
