package pop3

import (
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/mailflow/mailflow/session/wire"
)

func TestParseStatusLine(t *testing.T) {
	tests := []struct {
		in                 string
		status, code, text string
		bad                bool
	}{
		{in: "+OK", status: "+OK"},
		{in: "+OK POP3 ready <1.2@x>", status: "+OK", text: "POP3 ready <1.2@x>"},
		{in: "-ERR [IN-USE] Mailbox locked", status: "-ERR", code: "IN-USE", text: "Mailbox locked"},
		{in: "-ERR [LOGIN-DELAY] wait", status: "-ERR", code: "LOGIN-DELAY", text: "wait"},
		{in: "-ERR [SYS/TEMP] try later", status: "-ERR", code: "SYS/TEMP", text: "try later"},
		{in: "-ERR [SYS/PERM]", status: "-ERR", code: "SYS/PERM"},
		{in: "-ERR [AUTH] Authentication failed.", status: "-ERR", code: "AUTH", text: "Authentication failed."},
		{in: "-ERR [not a code] text", status: "-ERR", text: "[not a code] text"},
		{in: "-ERR [] empty", status: "-ERR", text: "[] empty"},
		{in: "-ERR [SYS//TEMP] x", status: "-ERR", text: "[SYS//TEMP] x"},
		{in: "-ERR [unclosed", status: "-ERR", text: "[unclosed"},
		{in: "-ERR", status: "-ERR"},
		{in: "+", status: "+"},
		{in: "+ VXNlcm5hbWU6", status: "+", text: "VXNlcm5hbWU6"},
		{in: "+ERR no such thing", bad: true},
		{in: "+OKAY", bad: true},
		{in: "+ok lower case", bad: true},
		{in: "-ERROR", bad: true},
		{in: "OK", bad: true},
		{in: "", bad: true},
		{in: "* OK IMAP4rev1 ready", bad: true},
	}
	for _, tt := range tests {
		r, err := ParseStatusLine([]byte(tt.in))
		if tt.bad {
			var pe *wire.ProtocolError
			if !errors.As(err, &pe) {
				t.Errorf("ParseStatusLine(%q) = %+v, %v; want a protocol error", tt.in, r, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseStatusLine(%q) error %v", tt.in, err)
			continue
		}
		if r.Status != tt.status || r.Code != tt.code || r.Text != tt.text {
			t.Errorf("ParseStatusLine(%q) = {%q %q %q}, want {%q %q %q}", tt.in, r.Status, r.Code, r.Text, tt.status, tt.code, tt.text)
		}
	}
}

func TestParseResponseMultiLine(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		multi bool
		max   int64
		lines []string
		err   string // "protocol", "limit" or ""
	}{
		{name: "capa", in: "+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n", multi: true, max: 1000, lines: []string{"USER", "SASL PLAIN"}},
		{name: "empty list", in: "+OK 0 messages\r\n.\r\n", multi: true, max: 1000, lines: []string{}},
		{name: "dot-unstuffing", in: "+OK\r\n..\r\n...x\r\n.y\r\n\r\n.\r\n", multi: true, max: 1000, lines: []string{".", "..x", "y", ""}},
		{name: "bare LF", in: "+OK\n1 2\n.\n", multi: true, max: 1000, lines: []string{"1 2"}},
		{name: "err is single line", in: "-ERR no such message\r\n", multi: true, max: 1000},
		{name: "single", in: "+OK 2 320\r\n", max: 1000},
		{name: "missing terminator", in: "+OK\r\nline\r\n", multi: true, max: 1000, err: "protocol"},
		{name: "trailing data", in: "+OK 1 2\r\nextra\r\n", max: 1000, err: "protocol"},
		{name: "unterminated last line", in: "+OK\r\n.\r\nx", multi: true, max: 1000, err: "protocol"},
		{name: "too big", in: "+OK\r\n0123456789\r\n0123456789\r\n.\r\n", multi: true, max: 20, err: "limit"},
		{name: "just fits", in: "+OK\r\n0123456789\r\n01234567\r\n.\r\n", multi: true, max: 22, lines: []string{"0123456789", "01234567"}},
		{name: "plus err", in: "+ERR\r\n.\r\n", multi: true, max: 1000, err: "protocol"},
		{name: "empty", in: "", max: 1000, err: "protocol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseResponse([]byte(tt.in), tt.multi, tt.max)
			var pe *wire.ProtocolError
			var le *wire.LimitError
			switch tt.err {
			case "protocol":
				if !errors.As(err, &pe) {
					t.Fatalf("ParseResponse = %+v, %v; want protocol error", r, err)
				}
				return
			case "limit":
				if !errors.As(err, &le) || le.Max != tt.max {
					t.Fatalf("ParseResponse = %+v, %v; want limit error", r, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseResponse error %v", err)
			}
			if !reflect.DeepEqual(r.Lines, tt.lines) {
				t.Fatalf("Lines = %q, want %q", r.Lines, tt.lines)
			}
		})
	}
}

func TestParseCaps(t *testing.T) {
	caps := ParseCaps([]string{"CAPA", "TOP", "sasl PLAIN LOGIN", "RESP-CODES", "STLS", ""})
	if !caps.Has("stls") || !caps.Has("SASL") || caps.Has("APOP") {
		t.Fatalf("caps = %v", caps)
	}
	if got := caps["SASL"]; !reflect.DeepEqual(got, []string{"PLAIN", "LOGIN"}) {
		t.Fatalf("SASL args = %q", got)
	}
	if got := caps.Names(); !reflect.DeepEqual(got, []string{"CAPA", "RESP-CODES", "SASL", "STLS", "TOP"}) {
		t.Fatalf("Names = %q", got)
	}
}

func TestDecodeChallenge(t *testing.T) {
	for in, want := range map[string]string{
		"VXNlcm5hbWU6": `base64 for "Username:"`,
		"":             "empty challenge: the server waits for the SASL response",
		"AAEC":         "", // binary
		"not base64!":  "",
	} {
		if got := decodeChallenge(in); got != want {
			t.Errorf("decodeChallenge(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{
		"+OK\r\nUSER\r\n.\r\n", "-ERR [IN-USE] locked\r\n", "+ERR\r\n", "+ \r\n",
		"+OK\r\n..x\r\n.\r\n", "+OK [SYS/TEMP] x\r\n", "-ERR [a/b/c]\r\n", "+OK\n.\n",
	} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, multi bool) {
		r, err := ParseResponse(data, multi, 4096)
		if err != nil {
			var pe *wire.ProtocolError
			var le *wire.LimitError
			if !errors.As(err, &pe) && !errors.As(err, &le) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		switch r.Status {
		case StatusOK, StatusErr, StatusContinue:
		default:
			t.Fatalf("status %q accepted", r.Status)
		}
		if r.Multi && r.Status != StatusOK {
			t.Fatalf("multi-line %s response", r.Status)
		}
		// Formatting the parsed response and parsing it again gives the
		// same response: nothing is lost or invented.
		again, err := ParseResponse(FormatResponse(r), multi, 1<<20)
		if err != nil {
			t.Fatalf("reparse of %q: %v", FormatResponse(r), err)
		}
		if !reflect.DeepEqual(again, r) {
			t.Fatalf("round trip changed %+v into %+v", r, again)
		}
	})
}

// TestMultiLineMemory checks that the body of a multi-line response is
// kept in one buffer: a RETR of tens of thousands of one-character lines
// (the cheapest way for a server to make a client allocate) must cost a
// few bytes per line beyond the line itself, not a string and a growing
// slice each.
func TestMultiLineMemory(t *testing.T) {
	const n = 40000
	data := []byte("+OK\r\n" + strings.Repeat("x\r\n", n/2) + strings.Repeat("..\r\n", n/2) + ".\r\n")
	var r *Response
	var err error
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r, err = ParseResponse(data, true, 1<<20)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Lines) != n || r.Lines[0] != "x" || r.Lines[n-1] != "." {
		t.Fatalf("%d lines, first %q, last %q", len(r.Lines), r.Lines[0], r.Lines[n-1])
	}
	if want := strings.Repeat("x\r\n", n/2) + strings.Repeat(".\r\n", n/2); string(r.Message()) != want {
		t.Fatalf("Message() differs from the unstuffed body")
	}
	// One string header per line (16 bytes) for Lines, the line and its
	// CRLF in the buffer and its string copy, and the buffer's growth by
	// doubling: under 40 bytes a line (it was over 200).
	perLine := float64(after.TotalAlloc-before.TotalAlloc) / n
	t.Logf("%.1f bytes allocated per one-character line", perLine)
	if perLine > 40 {
		t.Errorf("ParseResponse allocated %.1f bytes per one-character line, want at most 40", perLine)
	}
}
