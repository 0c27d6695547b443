package replycode

import (
	"regexp"
	"slices"
	"testing"
)

func TestLiteralsFor(t *testing.T) {
	cases := []struct {
		expr string
		want []string
		ok   bool
	}{
		{`relay access`, []string{"relay access"}, true},
		{`foo|bar`, []string{"foo", "bar"}, true},
		{`x(abc|de)y`, []string{"abc", "de"}, true},
		{`\bptr\b|reverse dns`, []string{"ptr", "reverse dns"}, true},
		{`a.*b`, nil, false},
		{`(foo)?bar`, []string{"bar"}, true},
		{`foo|.`, nil, false},
	}
	for _, tc := range cases {
		got, ok := literalsFor(tc.expr)
		if ok != tc.ok || (ok && !slices.Equal(got, tc.want)) {
			t.Errorf("literalsFor(%q) = %q, %v; want %q, %v", tc.expr, got, ok, tc.want, tc.ok)
		}
	}
}

// TestPrefilterIsSound checks, for every pattern of the knowledge base,
// that no text the regexp matches is rejected by the prefilter: the real
// lines and the rule texts are run through both.
func TestPrefilterIsSound(t *testing.T) {
	k := load()
	var texts []string
	for _, l := range realLines {
		texts = append(texts, l.reply)
	}
	for _, list := range [][]*pattern{k.vendor, k.keywords, k.weak} {
		for _, p := range list {
			if p.re == nil || p.lits == nil {
				continue
			}
			re := regexp.MustCompile(p.Regex)
			for _, s := range texts {
				low := toLower(s)
				if re.MatchString(low) && !anyIn(low, p.lits) {
					t.Errorf("%s:%s: prefilter %q rejects matching text %q", p.table, p.ID, p.lits, s)
				}
			}
		}
	}
}
