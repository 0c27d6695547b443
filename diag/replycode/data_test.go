package replycode

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/mailflow/mailflow/assets"
)

// TestKnowledgeBaseValid loads the embedded tables; loadFS enforces unique
// keys, valid categories and classes, well-formed codes and complete text.
func TestKnowledgeBaseValid(t *testing.T) {
	k, err := loadFS(assets.ReplyCodes())
	if err != nil {
		t.Fatal(err)
	}
	// Every RFC 5321 §4.2.3 code plus the AUTH (RFC 4954), 521/556 (RFC
	// 7504) codes must be present.
	for _, c := range strings.Fields("211 214 220 221 235 250 251 252 334 354 421 432 450 451 452 454 455 500 501 502 503 504 521 523 530 534 535 538 550 551 552 553 554 555 556") {
		if k.smtp[c] == nil {
			t.Errorf("smtp-codes lacks %s", c)
		}
	}
	// Every RFC 3463 code and the later registry entries.
	want := []string{"X.0.0"}
	for d := 0; d <= 10; d++ {
		want = append(want, "X.1."+itoa(d))
	}
	for d := 0; d <= 4; d++ {
		want = append(want, "X.2."+itoa(d))
	}
	for d := 0; d <= 6; d++ {
		want = append(want, "X.3."+itoa(d))
	}
	for d := 0; d <= 7; d++ {
		want = append(want, "X.4."+itoa(d))
	}
	for d := 0; d <= 6; d++ {
		want = append(want, "X.5."+itoa(d))
	}
	for d := 0; d <= 10; d++ {
		want = append(want, "X.6."+itoa(d))
	}
	for d := 0; d <= 30; d++ {
		want = append(want, "X.7."+itoa(d))
	}
	for _, c := range want {
		if k.enhanced[c] == nil {
			t.Errorf("enhanced-codes lacks %s", c)
		}
	}
	for _, c := range []string{"+OK", "-ERR", "+", "[IN-USE]", "[LOGIN-DELAY]", "[SYS/TEMP]", "[SYS/PERM]", "[AUTH]", "[UTF8]"} {
		if k.pop3[c] == nil {
			t.Errorf("pop3 lacks %s", c)
		}
	}
	for _, c := range []string{"OK", "NO", "BAD", "BYE", "PREAUTH", "+", "[UNAVAILABLE]", "[AUTHENTICATIONFAILED]", "[AUTHORIZATIONFAILED]", "[EXPIRED]", "[PRIVACYREQUIRED]", "[CONTACTADMIN]", "[NOPERM]", "[INUSE]", "[EXPUNGEISSUED]", "[CORRUPTION]", "[SERVERBUG]", "[CLIENTBUG]", "[CANNOT]", "[LIMIT]", "[OVERQUOTA]", "[ALREADYEXISTS]", "[NONEXISTENT]", "[TRYCREATE]", "[ALERT]"} {
		if k.imap[c] == nil {
			t.Errorf("imap lacks %s", c)
		}
	}
	for _, d := range []string{"1", "2", "3", "4", "5"} {
		if k.first[d] == nil {
			t.Errorf("no meaning for first digit %s", d)
		}
	}
	for _, d := range []string{"0", "1", "2", "3", "4", "5"} {
		if k.second[d] == nil {
			t.Errorf("no meaning for second digit %s", d)
		}
	}
	vendors := map[string]bool{}
	for _, p := range k.vendor {
		vendors[p.Vendor] = true
	}
	for _, v := range []string{"Microsoft Exchange", "Exchange Online", "Outlook.com", "Postfix", "Exim", "Sendmail", "Gmail", "Yahoo", "Dovecot", "Cyrus", "Spamhaus", "Barracuda", "SpamCop"} {
		if !vendors[v] {
			t.Errorf("no patterns for vendor %s", v)
		}
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return string(rune('0'+i/10)) + string(rune('0'+i%10))
}

// minimalTables is the smallest valid knowledge base; each case of
// TestLoaderRejectsBadTables breaks one file of it.
func minimalTables() fstest.MapFS {
	text := "summary = \"s\"\nmeaning = \"m\"\ncauses = [\"c\"]\nnext_steps = [\"n\"]\n"
	file := func(table, body string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("[meta]\ntable = \"" + table + "\"\nsource = \"x\"\n" + body)}
	}
	return fstest.MapFS{
		"commands.toml":       file("commands", "[[command]]\nkey = \"RCPT\"\nprotocols = [\"smtp\"]\nname = \"RCPT TO\"\non_success = \"ok\"\non_permanent = \"no\"\n"),
		"keywords.toml":       file("keywords", "[[pattern]]\nid = \"a\"\nany = [\"x\"]\ncategory = \"policy\"\n"+text),
		"smtp-codes.toml":     file("smtp-codes", "[[entry]]\nkey = \"550\"\ncategory = \"policy\"\n"+text),
		"enhanced-codes.toml": file("enhanced-codes", "[[entry]]\nkey = \"X.1.1\"\ncategory = \"mailbox-unknown\"\n"+text),
		"pop3.toml":           file("pop3", "[[entry]]\nkey = \"-ERR\"\ncategory = \"other\"\n"+text),
		"imap.toml":           file("imap", "[[entry]]\nkey = \"NO\"\ncategory = \"other\"\n"+text),
		"smtp-digits.toml":    file("smtp-digits", "[[first]]\nkey = \"5\"\nname = \"n\"\nmeaning = \"m\"\n[[second]]\nkey = \"5\"\nname = \"n\"\nmeaning = \"m\"\n"),
	}
}

// TestLoaderRejectsBadTables proves the validation can fail.
func TestLoaderRejectsBadTables(t *testing.T) {
	if _, err := loadFS(minimalTables()); err != nil {
		t.Fatalf("the minimal tables must load: %v", err)
	}
	cases := []struct{ name, file, old, new string }{
		{"duplicate key", "smtp-codes.toml", "[[entry]]", "[[entry]]\nkey = \"550\"\ncategory = \"policy\"\nsummary = \"s\"\nmeaning = \"m\"\ncauses = [\"c\"]\nnext_steps = [\"n\"]\n[[entry]]"},
		{"bad category", "smtp-codes.toml", "\"policy\"", "\"blocked\""},
		{"malformed code", "smtp-codes.toml", "\"550\"", "\"55\""},
		{"malformed enhanced", "enhanced-codes.toml", "\"X.1.1\"", "\"5.1.1\""},
		{"no causes", "smtp-codes.toml", "causes = [\"c\"]", "causes = []"},
		{"empty summary", "imap.toml", "summary = \"s\"", "summary = \"\""},
		{"unknown field", "pop3.toml", "[[entry]]", "[[entry]]\ncolour = \"red\""},
		{"unknown command", "smtp-codes.toml", "key = \"550\"", "key = \"550\"\ncommand = \"FOO\""},
		{"bad regex", "keywords.toml", "any = [\"x\"]", "regex = \"(\""},
		{"upper-case text", "keywords.toml", "any = [\"x\"]", "any = [\"X\"]"},
		{"no condition", "keywords.toml", "any = [\"x\"]\n", ""},
		{"wrong table name", "pop3.toml", "table = \"pop3\"", "table = \"imap\""},
		{"no source", "imap.toml", "source = \"x\"", "source = \"\""},
		{"bad pop3 key", "pop3.toml", "\"-ERR\"", "\"ERR\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsys := minimalTables()
			old := string(fsys[tc.file].Data)
			if !strings.Contains(old, tc.old) {
				t.Fatalf("%s does not contain %q", tc.file, tc.old)
			}
			fsys[tc.file] = &fstest.MapFile{Data: []byte(strings.Replace(old, tc.old, tc.new, 1))}
			if _, err := loadFS(fsys); err == nil {
				t.Fatal("loadFS accepted a broken table")
			}
		})
	}
}
