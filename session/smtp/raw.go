package smtp

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// rawAuth tracks an AUTH exchange typed in raw mode, so that the lines
// that carry secrets are recorded redacted.
type rawAuth struct {
	mech      string
	responses int // responses sent so far (an initial response counts)
}

// knownVerbs name the step of a raw command.
var knownVerbs = map[string]bool{
	"EHLO": true, "HELO": true, "STARTTLS": true, "AUTH": true, "MAIL": true, "RCPT": true,
	"DATA": true, "RSET": true, "NOOP": true, "VRFY": true, "EXPN": true, "HELP": true,
	"QUIT": true, "BDAT": true, "ETRN": true,
}

// Do sends line exactly as typed, the way an engineer uses telnet, and
// returns the server's reply. It keeps the client's state in step with
// what the line did: an EHLO reply updates the extensions, a 220 to
// STARTTLS starts TLS at once, a 354 to DATA switches to message mode
// (lines go out without a reply until a line with a single "."; Do
// returns a zero Reply for them), and a 221 to QUIT closes the
// connection. Inside an AUTH exchange the lines that carry a secret are
// recorded redacted; the user name of LOGIN and CRAM-MD5 is shown in the
// annotation. Lines with CR, LF or NUL are refused before sending.
//
// Negative replies are returned as a Reply, not as an error: in raw mode
// a 550 is an answer, not a failure. Errors are transport or input
// errors.
func (c *Client) Do(ctx context.Context, line string) (Reply, error) {
	if err := checkField("command line", line); err != nil {
		return Reply{}, c.inputErr(err)
	}
	if c.inData {
		return c.rawData(ctx, line)
	}
	if c.rawAuth != nil {
		return c.rawAuthLine(ctx, line)
	}
	if line == "" {
		return Reply{}, c.inputErr(&wire.InputError{Msg: "smtp: refusing to send an empty command line"})
	}
	fields := strings.Fields(line)
	verb := ""
	if len(fields) > 0 {
		verb = strings.ToUpper(fields[0])
	}
	step := "raw"
	if knownVerbs[verb] {
		step = strings.ToLower(verb)
	}
	l := wire.Line{Text: line}
	var auth *rawAuth
	if verb == "AUTH" && len(fields) >= 2 {
		auth = &rawAuth{mech: strings.ToUpper(fields[1])}
		if len(fields) >= 3 {
			auth.responses = 1
			var secrets []string
			l.Record, l.Annotation, secrets = rawAuthRecord(auth.mech, 0, fields[2], fields[0]+" "+fields[1]+" ")
			c.conn.Transcript().AddSecret(secrets...)
		}
	}
	if verb == "PASS" || verb == "LOGIN" {
		c.conn.Note(transcript.Warning, "that looks like a POP3/IMAP command; SMTP servers do not know it")
	}
	r, err := c.roundTrip(ctx, step, decodeChallenge, l)
	c.exchanges = append(c.exchanges, Exchange{Step: step, Command: recorded(l), Reply: r, Err: err})
	if err != nil {
		return r, err
	}
	switch {
	case verb == "EHLO" && r.Code == 250:
		c.setCaps(ParseCaps(r))
		c.esmtp = true
		if len(fields) > 1 {
			c.helo = fields[1]
		}
	case verb == "HELO" && r.Code == 250:
		c.setCaps(Caps{})
		if len(fields) > 1 {
			c.helo = fields[1]
		}
	case verb == "STARTTLS" && r.Code == 220:
		if err := c.upgrade(ctx); err != nil {
			return r, err
		}
		c.conn.Note(transcript.Info, "TLS is active; send EHLO again: the extensions announced in the clear no longer count (RFC 3207 §4.2)")
	case verb == "DATA" && r.Code == 354:
		c.inData = true
	case verb == "AUTH" && r.Code == 334 && auth != nil:
		c.rawAuth = auth
	case verb == "QUIT" && r.Code == 221:
		c.conn.Close()
	}
	return r, nil
}

// rawData sends one message line typed after DATA; the line "." ends the
// message and returns the server's reply. Lines are sent as typed: the
// user does the dot-stuffing, as with telnet.
func (c *Client) rawData(ctx context.Context, line string) (Reply, error) {
	c.conn.BeginStep("message")
	if line != "." {
		if err := c.conn.WriteLine(ctx, wire.Line{Text: line, AllowEmpty: true}); err != nil {
			return Reply{}, err
		}
		return Reply{}, nil
	}
	c.inData = false
	r, err := c.roundTrip(ctx, "message", nil, wire.Line{Text: "."})
	c.exchanges = append(c.exchanges, Exchange{Step: "message", Command: ".", Reply: r, Err: err})
	return r, err
}

// rawAuthLine sends one SASL response typed during an AUTH exchange.
func (c *Client) rawAuthLine(ctx context.Context, line string) (Reply, error) {
	a := c.rawAuth
	l := wire.Line{Text: line, AllowEmpty: true}
	if line == "*" {
		l.Annotation = "cancel the AUTH exchange (RFC 4954 §4)"
	} else {
		var secrets []string
		l.Record, l.Annotation, secrets = rawAuthRecord(a.mech, a.responses, line, "")
		c.conn.Transcript().AddSecret(secrets...)
	}
	a.responses++
	r, err := c.roundTrip(ctx, "auth", decodeChallenge, l)
	c.exchanges = append(c.exchanges, Exchange{Step: "auth", Command: recorded(l), Reply: r, Err: err})
	if err != nil || r.Code != 334 {
		c.rawAuth = nil
	}
	return r, err
}

// rawAuthRecord decides how a SASL response is recorded. It returns the
// replacement for the transcript ("" keeps the line), an annotation and
// the secrets the caller registers with the transcript's scrubber before
// sending, so that a server echoing them back is recorded redacted too:
// the payload as typed and, when it decodes, the decoded response, the
// password (LOGIN, PLAIN) or the digest (CRAM-MD5, RFC 2195 §4: it allows
// an offline guess). Only the LOGIN user name (the first LOGIN response)
// is kept in clear; everything else that could carry a secret is
// redacted, including mechanisms mailflow does not know.
func rawAuthRecord(mech string, n int, payload, prefix string) (record, note string, secrets []string) {
	dec, err := base64.StdEncoding.DecodeString(payload)
	secrets = []string{payload}
	if err == nil {
		secrets = append(secrets, string(dec))
	}
	switch mech {
	case MechLogin:
		if n == 0 {
			if err == nil {
				return "", fmt.Sprintf("user name %q", transcript.Printable(dec)), nil
			}
			return "", "not valid base64", nil
		}
		return prefix + redacted, "password (not recorded)", secrets
	case MechPlain:
		if err == nil {
			if parts := bytes.Split(dec, []byte{0}); len(parts) == 3 {
				// authcid NUL passwd, and the password alone.
				secrets = append(secrets, string(dec[len(parts[0])+1:]), string(parts[2]))
				return prefix + redacted, fmt.Sprintf("PLAIN credentials of user %q (password not recorded)", transcript.Printable(parts[1])), secrets
			}
		}
		return prefix + redacted, "PLAIN credentials (not recorded)", secrets
	case MechCRAMMD5:
		if err == nil {
			if i := bytes.LastIndexByte(dec, ' '); i > 0 {
				secrets = append(secrets, string(dec[i+1:]))
				return prefix + "<redacted digest>", fmt.Sprintf("CRAM-MD5 response of user %q", transcript.Printable(dec[:i])), secrets
			}
		}
		return prefix + "<redacted digest>", "CRAM-MD5 response", secrets
	}
	return prefix + redacted, "SASL response of mechanism " + mech + " (not recorded)", secrets
}
