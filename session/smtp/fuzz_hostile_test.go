package smtp

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzParseCaps feeds EHLO replies to ParseCaps: it must never panic,
// must keep one capability per extension line, and its accessors must
// agree with each other whatever the server announced.
func FuzzParseCaps(f *testing.F) {
	for _, s := range []string{
		"250-mx.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n",
		"250-x\r\n250-AUTH=LOGIN PLAIN\r\n250 SIZE\r\n",
		"250-x\r\n250-SIZE -1\r\n250 SIZE 99999999999999999999999\r\n",
		"250-x\r\n250 SIZE +0010\r\n",
		"250-x\r\n250 SIZE 0010\r\n",
		"250-x\r\n250-\r\n250 \x1b]0;t\x07\r\n",
		"250 only.the.name\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReply(s, 1<<16)
		if err != nil {
			return
		}
		c := ParseCaps(r)
		if len(c.List()) > len(r.Lines) {
			t.Fatalf("%d capabilities from %d lines", len(c.List()), len(r.Lines))
		}
		for _, k := range c.List() {
			if k.Keyword != asciiUpper(k.Keyword) {
				t.Fatalf("keyword %q not upper case", k.Keyword)
			}
			if !c.Has(k.Keyword) || !c.Has(asciiLower(k.Keyword)) {
				t.Fatalf("Has(%q) false for a listed keyword", k.Keyword)
			}
		}
		// RFC 1870 §4: digits only. A limit is never negative, and a
		// positive one is exactly the announced digits.
		n, ok := c.Size()
		if !ok && n != 0 || n < 0 {
			t.Fatalf("Size() = %d, %v", n, ok)
		}
		if n > 0 {
			if k, _ := c.Get("SIZE"); len(k.Params) == 0 || strings.TrimLeft(k.Params[0], "0") != strconv.FormatInt(n, 10) {
				t.Fatalf("Size() = %d from SIZE parameters %q", n, k.Params)
			}
		}
		for _, m := range c.AuthMechanisms() {
			if !c.HasAuth(m) {
				t.Fatalf("HasAuth(%q) false for an offered mechanism", m)
			}
		}
		_ = c.Strings()
	})
}

// asciiLower lower-cases ASCII letters only, as a client might write a
// keyword.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
