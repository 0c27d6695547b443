package imap

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mailflow/mailflow/session/wire"
)

func TestParseResponse(t *testing.T) {
	tests := []struct {
		in   string
		want Response
	}{
		{"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] Dovecot ready.\r\n",
			Response{Tag: "*", Status: "OK", Code: "CAPABILITY", CodeArg: "IMAP4rev1 STARTTLS AUTH=PLAIN", Text: "Dovecot ready."}},
		{"* PREAUTH welcome\r\n", Response{Tag: "*", Status: "PREAUTH", Text: "welcome"}},
		{"* BYE [UNAVAILABLE] shutting down\r\n", Response{Tag: "*", Status: "BYE", Code: "UNAVAILABLE", Text: "shutting down"}},
		{"a001 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", Response{Tag: "a001", Status: "NO", Code: "AUTHENTICATIONFAILED", Text: "Authentication failed."}},
		{"a002 ok done\r\n", Response{Tag: "a002", Status: "OK", Text: "done"}},
		{"a003 OK\r\n", Response{Tag: "a003", Status: "OK"}},
		{"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n", Response{Tag: "*", Status: "OK", Code: "UIDVALIDITY", CodeArg: "3857529045", Text: "UIDs valid"}},
		{"* OK [unclosed text\r\n", Response{Tag: "*", Status: "OK", Text: "[unclosed text"}},
		{"+ \r\n", Response{Tag: "+"}},
		{"+\r\n", Response{Tag: "+"}},
		{"+ VXNlcm5hbWU6\r\n", Response{Tag: "+", Text: "VXNlcm5hbWU6"}},
		{"* 23 EXISTS\r\n", Response{Tag: "*", Num: 23, HasNum: true, Kind: "EXISTS"}},
		{"* CAPABILITY IMAP4rev1 LITERAL+\r\n", Response{Tag: "*", Kind: "CAPABILITY", Data: "IMAP4rev1 LITERAL+"}},
		{"* LIST (\\HasNoChildren) \".\" INBOX\r\n", Response{Tag: "*", Kind: "LIST", Data: `(\HasNoChildren) "." INBOX`}},
		{"* 1 FETCH (UID 7 BODY[] {5}\r\nhello)\r\n", Response{Tag: "*", Num: 1, HasNum: true, Kind: "FETCH", Data: "(UID 7 BODY[] {5})", Literals: [][]byte{[]byte("hello")}}},
		{"* 1 FETCH (BODY[HEADER] {4+}\r\na\r\nb BODY[TEXT] ~{0}\r\n)\r\n", Response{Tag: "*", Num: 1, HasNum: true, Kind: "FETCH", Data: "(BODY[HEADER] {4+} BODY[TEXT] ~{0})", Literals: [][]byte{[]byte("a\r\nb"), {}}}},
		{"* LIST () \"/\" {3}\r\na b\r\n", Response{Tag: "*", Kind: "LIST", Data: `() "/" {3}`, Literals: [][]byte{[]byte("a b")}}},
		// A status response's text is never a literal, even when it ends like one.
		{"a1 OK done {5}\r\n", Response{Tag: "a1", Status: "OK", Text: "done {5}"}},
	}
	for _, tt := range tests {
		r, err := ParseResponse([]byte(tt.in), 1<<16, 1<<20)
		if err != nil {
			t.Errorf("ParseResponse(%q) error %v", tt.in, err)
			continue
		}
		r.Lines = nil
		if !reflect.DeepEqual(*r, tt.want) {
			t.Errorf("ParseResponse(%q) =\n %+v, want\n %+v", tt.in, *r, tt.want)
		}
	}
}

func TestParseResponseErrors(t *testing.T) {
	tests := []struct {
		in, kind string
	}{
		{"+OK POP3 ready\r\n", "protocol"},
		{"a001 BYE no\r\n", "protocol"},
		{"a001 PREAUTH x\r\n", "protocol"},
		{"a001 LIST () \"/\" x\r\n", "protocol"},
		{"* \r\n", "protocol"},
		{"\r\n", "protocol"},
		{" OK\r\n", "protocol"},
		{"* OK done\r\nextra\r\n", "protocol"},
		{"* 1 FETCH (BODY[] {10}\r\nshort", "protocol"},
		{"* 1 FETCH (BODY[] {5}\r\nhello", "protocol"}, // no rest of line
		{"* OK no line ending", "protocol"},
		{"* 1 FETCH (BODY[] {1099511627776}\r\n", "limit"},           // a terabyte: refused before reading
		{"* 1 FETCH (BODY[] {99999999999999999999999}\r\n", "limit"}, // does not even fit an int64
		{"* 1 FETCH (A {600}\r\n" + strings.Repeat("x", 600) + " B {500}\r\n" + strings.Repeat("y", 500) + ")\r\n", "limit"}, // aggregate over 1000
	}
	for _, tt := range tests {
		_, err := ParseResponse([]byte(tt.in), 1<<16, 1000)
		var pe *wire.ProtocolError
		var le *wire.LimitError
		ok := tt.kind == "protocol" && errors.As(err, &pe) || tt.kind == "limit" && errors.As(err, &le)
		if !ok {
			t.Errorf("ParseResponse(%.60q) = %v, want a %s error", tt.in, err, tt.kind)
		}
	}
}

func TestParseValues(t *testing.T) {
	vals, err := ParseValues(`(UID 7 FLAGS (\Seen \*) BODY[HEADER.FIELDS (SUBJECT FROM)]<0> {3} ENVELOPE ("d" NIL "q\"uo\\te") X "")`, [][]byte{[]byte("abc")})
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != 1 || vals[0].Kind != List {
		t.Fatalf("vals = %+v", vals)
	}
	l := vals[0].List
	names := []string{}
	for i := 0; i < len(l); i += 2 {
		names = append(names, l[i].Text())
	}
	if want := []string{"UID", "FLAGS", "BODY[HEADER.FIELDS (SUBJECT FROM)]<0>", "ENVELOPE", "X"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("names = %q, want %q", names, want)
	}
	if n, ok := l[1].Number(); !ok || n != 7 {
		t.Errorf("UID = %v", l[1])
	}
	if l[3].Kind != List || len(l[3].List) != 2 || l[3].List[1].Str != `\*` {
		t.Errorf("FLAGS = %+v", l[3])
	}
	if l[5].Kind != String || !l[5].Literal || l[5].Str != "abc" {
		t.Errorf("literal = %+v", l[5])
	}
	env := l[7].List
	if env[1].Kind != Nil || env[2].Str != `q"uo\te` {
		t.Errorf("envelope = %+v", env)
	}
	if l[9].Kind != String || l[9].Str != "" {
		t.Errorf("empty string = %+v", l[9])
	}
	for _, bad := range []string{"(a", "a)", `"open`, "{3}", "(" + strings.Repeat("(", 200) + strings.Repeat(")", 201), `"x\`} {
		if _, err := ParseValues(bad, nil); err == nil {
			t.Errorf("ParseValues(%q) accepted", bad)
		}
	}
}

func TestSplitUserLine(t *testing.T) {
	tests := []struct{ in, tag, rest string }{
		{"CAPABILITY", "", "CAPABILITY"},
		{"login kate pw", "", "login kate pw"},
		{"a1 LOGIN kate pw", "a1", "LOGIN kate pw"},
		{". login kate pw", ".", "login kate pw"},
		{"tag7 noop", "tag7", "noop"},
		{"x42 XYZZY", "x42", "XYZZY"},
		{"XYZZY", "", "XYZZY"},
		{"  select INBOX", "", "select INBOX"},
	}
	for _, tt := range tests {
		tag, rest := splitUserLine(tt.in)
		if tag != tt.tag || rest != tt.rest {
			t.Errorf("splitUserLine(%q) = %q, %q; want %q, %q", tt.in, tag, rest, tt.tag, tt.rest)
		}
	}
}

func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{
		"* OK [CAPABILITY IMAP4rev1] hi\r\n", "a1 NO [AUTHENTICATIONFAILED] x\r\n", "+ VXNlcg==\r\n",
		"* 1 FETCH (BODY[] {5}\r\nhello)\r\n", "* LIST (\\Noselect) \"/\" {3+}\r\na b\r\n",
		"* 3 EXISTS\r\n", "* SEARCH 1 2 3\r\n", "+OK\r\n", "* 1 FETCH (A ~{2}\r\n\r\n)\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseResponse(data, 4096, 4096)
		if err != nil {
			var pe *wire.ProtocolError
			var le *wire.LimitError
			if !errors.As(err, &pe) && !errors.As(err, &le) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		if r.Tag == "" {
			t.Fatal("empty tag accepted")
		}
		if r.Status != "" && !statusWords[r.Status] {
			t.Fatalf("status %q accepted", r.Status)
		}
		if r.Tag != "*" && r.Tag != "+" && r.Status != "OK" && r.Status != "NO" && r.Status != "BAD" {
			t.Fatalf("tagged response with status %q accepted", r.Status)
		}
		var total int
		for _, l := range r.Literals {
			total += len(l)
		}
		if total > 4096 {
			t.Fatalf("literals of %d bytes accepted over the 4096 limit", total)
		}
		if len(r.Lines) != len(r.Literals)+1 {
			t.Fatalf("%d line segments for %d literals", len(r.Lines), len(r.Literals))
		}
		// Tokenizing never panics; literal markers match literal data.
		_, _ = r.Values()
	})
}
