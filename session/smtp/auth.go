package smtp

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-sasl"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// SASL mechanisms Auth implements.
const (
	MechPlain   = "PLAIN"
	MechLogin   = "LOGIN"
	MechCRAMMD5 = "CRAM-MD5"
)

// redacted marks a secret in the transcript; the same text the
// transcript's own scrubber uses.
const redacted = "<redacted>"

// decodeChallenge returns the text of a base64 334 challenge for the
// transcript annotation ("VXNlcm5hbWU6" -> "Username:"), or "" when the
// text is not base64 of printable UTF-8.
func decodeChallenge(r Reply) string {
	if r.Code != 334 || len(r.Text) == 0 {
		return ""
	}
	t := strings.TrimSpace(r.Text[0])
	if t == "" {
		return "empty challenge: send the response"
	}
	b, err := base64.StdEncoding.DecodeString(t)
	if err != nil || !utf8.Valid(b) {
		return ""
	}
	return "decoded: " + transcript.Printable(b)
}

// pickMech chooses a mechanism among those offered: inside TLS the simple
// ones (PLAIN first: one round trip), in the clear CRAM-MD5 first because
// it does not reveal the password to an eavesdropper.
func (c *Client) pickMech() string {
	order := []string{MechPlain, MechLogin, MechCRAMMD5}
	if !c.conn.Secure() {
		order = []string{MechCRAMMD5, MechPlain, MechLogin}
	}
	for _, m := range order {
		if c.caps.HasAuth(m) {
			return m
		}
	}
	return ""
}

// Auth authenticates with SMTP AUTH (RFC 4954). mech is PLAIN, LOGIN or
// CRAM-MD5, or "" to pick one the server offers. The password never
// reaches the transcript: payloads that carry it are recorded as
// "<redacted>", and the password, the PLAIN payload and the CRAM-MD5
// digest (each also in base64) are registered with the transcript's
// scrubber before they are sent, so that a server echoing them back is
// recorded redacted too; challenges are annotated with their decoded
// text. 235 means success.
func (c *Client) Auth(ctx context.Context, user, password, mech string) (Reply, error) {
	c.conn.Transcript().AddSecret(password)
	fail := func(err error) (Reply, error) {
		c.exchanges = append(c.exchanges, Exchange{Step: "auth", Err: err})
		return Reply{}, err
	}
	if err := checkField("user name", user); err != nil {
		return fail(c.inputErr(err))
	}
	if user == "" {
		return fail(c.inputErr(&wire.InputError{Msg: "smtp: AUTH needs a user name"}))
	}
	if !c.caps.Has(ExtAuth) {
		why := "needed to log in"
		if !c.conn.Secure() && c.caps.Has(ExtStartTLS) {
			why += "; many servers offer AUTH only after STARTTLS"
		}
		return fail(c.needExt(ExtAuth, why))
	}
	mech = strings.ToUpper(mech)
	if mech == "" {
		mech = c.pickMech()
		if mech == "" {
			return fail(c.needExt("AUTH PLAIN, LOGIN or CRAM-MD5", "mailflow implements only these mechanisms; offered: "+strings.Join(c.caps.AuthMechanisms(), " ")))
		}
	} else if !c.caps.HasAuth(mech) {
		return fail(c.needExt("AUTH "+mech, "mechanism "+mech+" was requested; offered: "+strings.Join(c.caps.AuthMechanisms(), " ")))
	}
	if !c.conn.Secure() && mech != MechCRAMMD5 {
		c.conn.Note(transcript.Warning, "AUTH "+mech+" without TLS: the password travels base64-encoded, readable by anyone on the path")
	}
	var lines []wire.Line
	var r Reply
	var err error
	send := func(l wire.Line) {
		lines = append(lines, l)
		r, err = c.roundTrip(ctx, "auth", decodeChallenge, l)
	}
	switch mech {
	case MechPlain:
		if strings.ContainsRune(user, 0) || strings.ContainsRune(password, 0) {
			return fail(c.inputErr(&wire.InputError{Msg: "smtp: PLAIN cannot carry a NUL byte in the user name or password (RFC 4616 §2)"}))
		}
		// go-sasl builds the RFC 4616 message: authzid NUL authcid NUL passwd.
		_, ir, _ := sasl.NewPlainClient("", user, password).Start()
		payload := base64.StdEncoding.EncodeToString(ir)
		// The payload is not base64(password) (its alignment depends on
		// the user name's length), so it is registered on its own: a
		// server echoing it back must not get it recorded.
		c.conn.Transcript().AddSecret(string(ir), user+"\x00"+password)
		send(wire.Line{Text: "AUTH PLAIN " + payload, Record: "AUTH PLAIN " + redacted,
			Annotation: fmt.Sprintf("PLAIN credentials of user %q (password not recorded)", user)})
		if err == nil && r.Code == 334 {
			// A server that ignores the initial response asks again.
			send(wire.Line{Text: payload, Record: redacted, Annotation: fmt.Sprintf("PLAIN credentials of user %q", user)})
		}
	case MechLogin:
		// go-sasl's LOGIN client puts the user name in the initial
		// response and insists on the exact challenge "Password:";
		// the classic exchange below answers whatever the server asks,
		// in order, as Outlook and Exchange do.
		send(wire.Line{Text: "AUTH LOGIN"})
		if err == nil && r.Code == 334 {
			send(wire.Line{Text: base64.StdEncoding.EncodeToString([]byte(user)), Annotation: fmt.Sprintf("user name %q", user)})
		}
		if err == nil && r.Code == 334 {
			send(wire.Line{Text: base64.StdEncoding.EncodeToString([]byte(password)), Record: redacted, Annotation: "password (not recorded)"})
		}
	case MechCRAMMD5:
		send(wire.Line{Text: "AUTH CRAM-MD5"})
		if err == nil && r.Code == 334 {
			challenge, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(strings.Join(r.Text, "")))
			if derr != nil {
				pe := &wire.ProtocolError{Proto: "smtp", Step: "auth", Msg: "the CRAM-MD5 challenge is not base64: " + derr.Error()}
				c.conn.Note(transcript.Error, pe.Msg)
				send(wire.Line{Text: "*", Annotation: "cancel the exchange (RFC 4954 §4)"})
				return fail(pe)
			}
			// The digest allows an offline guess of the password (RFC
			// 2195 §4): it is kept out of the transcript like the password.
			digest := cramDigest(password, challenge)
			c.conn.Transcript().AddSecret(digest, user+" "+digest)
			send(wire.Line{Text: base64.StdEncoding.EncodeToString([]byte(user + " " + digest)),
				Record: "<redacted digest>", Annotation: fmt.Sprintf("CRAM-MD5 response of user %q (RFC 2195)", user)})
		}
	default:
		return fail(c.inputErr(&wire.InputError{Msg: "smtp: mechanism " + mech + " is not implemented (use PLAIN, LOGIN or CRAM-MD5)"}))
	}
	cmd := recorded(lines...)
	if err == nil && r.Code != 235 {
		err = &Error{Command: cmd, Reply: r}
	}
	c.exchanges = append(c.exchanges, Exchange{Step: "auth", Command: cmd, Reply: r, Err: err})
	if err == nil {
		// RFC 4954 §4: after AUTH the server may announce other
		// extensions; callers that care send EHLO again.
		c.conn.Note(transcript.Info, "authenticated as "+user)
	}
	return r, err
}

// cramDigest is the RFC 2195 response digest: HMAC-MD5 keyed with the
// password over the challenge, in lower-case hex.
func cramDigest(password string, challenge []byte) string {
	m := hmac.New(md5.New, []byte(password))
	m.Write(challenge)
	return hex.EncodeToString(m.Sum(nil))
}
