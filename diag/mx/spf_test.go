package mx

import (
	"slices"
	"strings"
	"testing"
)

func TestParseSPF(t *testing.T) {
	tests := []struct {
		in      string
		lookups int
		all     string
		follow  []string
		err     string
	}{
		{in: "v=spf1 -all", all: "-"},
		{in: "V=SPF1 mx a:mail.example.com/24 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all", lookups: 2, all: "~"},
		{in: "v=spf1 include:_spf.example.com include:other.example ?all", lookups: 2, all: "?", follow: []string{"_spf.example.com", "other.example"}},
		{in: "v=spf1 ptr exists:%{i}.x.example redirect=_spf.example.com", lookups: 3, follow: []string{"_spf.example.com"}},
		{in: "v=spf1 a/24//64 mx:example.com//64 exp=explain.example -all", lookups: 2, all: "-"},
		{in: "v=spf1", lookups: 0},
		{in: "v=spf10 -all", err: "does not start"},
		{in: "spf1 -all", err: "does not start"},
		{in: "v=spf1 foo -all", err: "unknown mechanism"},
		{in: "v=spf1 include -all", err: "needs a domain"},
		{in: "v=spf1 ip4:300.0.0.1 -all", err: "not a valid ip4"},
		{in: "v=spf1 ip4:2001:db8::1 -all", err: "not a valid ip4"},
		{in: "v=spf1 all:x", err: "takes no argument"},
		{in: "v=spf1 redirect=a.example redirect=b.example", err: "appears twice"},
		{in: "v=spf1 ptr/24", err: "ptr takes no CIDR"},
	}
	for _, tt := range tests {
		s, err := ParseSPF(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseSPF(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSPF(%q) error = %v", tt.in, err)
			continue
		}
		if s.Lookups() != tt.lookups || s.All() != tt.all || !slices.Equal(s.Follow(), tt.follow) {
			t.Errorf("ParseSPF(%q): lookups=%d all=%q follow=%v, want %d %q %v", tt.in, s.Lookups(), s.All(), s.Follow(), tt.lookups, tt.all, tt.follow)
		}
	}
}

// format writes the terms back as a record.
func (s SPF) format() string {
	var b strings.Builder
	b.WriteString("v=spf1")
	for _, t := range s.Terms {
		b.WriteByte(' ')
		switch {
		case t.Modifier:
			b.WriteString(t.Name + "=" + t.Value)
		default:
			b.WriteString(t.Qualifier + t.Name)
			if t.Value != "" {
				b.WriteString(":" + t.Value)
			}
			b.WriteString(t.CIDR)
		}
	}
	return b.String()
}

func FuzzParseSPF(f *testing.F) {
	for _, s := range []string{
		"v=spf1 -all",
		"v=spf1 include:_spf.example.com a/24 mx:x.example//64 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all",
		"v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} redirect=_spf.example.com exp=x.example",
		"v=spf1 ptr ?all unknown-mod=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSPF(in)
		if err != nil {
			return
		}
		if n := s.Lookups(); n < 0 || n > len(s.Terms) {
			t.Fatalf("Lookups() = %d for %d terms", n, len(s.Terms))
		}
		if len(s.Follow()) > s.Lookups() {
			t.Fatalf("follows %d domains but counts %d lookups", len(s.Follow()), s.Lookups())
		}
		again, err := ParseSPF(s.format())
		if err != nil {
			t.Fatalf("ParseSPF(%q) ok, but its re-formatted form %q fails: %v", in, s.format(), err)
		}
		if !slices.Equal(again.Terms, s.Terms) {
			t.Fatalf("round trip changed terms: %+v -> %+v", s.Terms, again.Terms)
		}
	})
}
