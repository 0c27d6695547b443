package main

import (
	"strings"
	"testing"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestFlagUsageSurvivesHelpStyling checks every flag's description against
// fang's help styling, which title-cases the first word: an acronym there
// ("PEM file", "DNS server") would be shown as "Pem", "Dns". The first
// word must read the same with only its first letter changed.
func TestFlagUsageSurvivesHelpStyling(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			word, _, _ := strings.Cut(strings.TrimSpace(f.Usage), " ")
			rs := []rune(word)
			for _, r := range rs[min(1, len(rs)):] {
				if unicode.IsUpper(r) {
					t.Errorf("%s --%s: usage starts with %q, which the help shows mangled; reword it", c.CommandPath(), f.Name, word)
					return
				}
			}
		})
		for _, sc := range c.Commands() {
			walk(sc)
		}
	}
	walk(newRootCmd())
}
