package wire

import (
	"context"
	"encoding/base64"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/mailflow/mailflow/session/transcript"
)

// DialClient is the Dial of a protocol client: it sets opts.Proto to
// proto, dials addr and hands the connection to newClient, which reads
// the greeting and returns the client. When newClient fails the
// connection is closed, so a refused greeting leaves no socket behind.
func DialClient[C any](ctx context.Context, addr string, opts Options, proto string, newClient func(context.Context, *Conn) (C, error)) (C, error) {
	var zero C
	opts.Proto = proto
	conn, err := Dial(ctx, addr, opts)
	if err != nil {
		return zero, err
	}
	c, err := newClient(ctx, conn)
	if err != nil {
		conn.Close()
		return zero, err
	}
	return c, nil
}

// ProtocolViolation returns a *ProtocolError for msg in the current step
// and records it as an error note, so the transcript shows where the
// server broke the protocol.
func (c *Conn) ProtocolViolation(msg string) *ProtocolError {
	pe := &ProtocolError{Proto: c.proto, Step: c.Step(), Msg: msg}
	c.Note(transcript.Error, pe.Error())
	return pe
}

// Base64Annotation explains a base64 SASL challenge or continuation
// request (RFC 4422 section 4 leaves the encoding to the protocol; SMTP,
// POP3 and IMAP all use base64): `base64 for "Username:"` when text
// decodes to printable UTF-8, "" when it does not (binary challenges such
// as SCRAM nonces are left as they are).
func Base64Annotation(text string) string {
	if text == "" {
		return ""
	}
	dec, err := base64.StdEncoding.DecodeString(text)
	if err != nil || !utf8.Valid(dec) {
		return ""
	}
	for _, r := range string(dec) {
		if !unicode.IsPrint(r) && r != ' ' {
			return ""
		}
	}
	return "base64 for " + strconv.Quote(string(dec))
}
