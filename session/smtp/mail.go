package smtp

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailflow/mailflow/diag/addr"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// MailOptions are MAIL FROM parameters. Each is sent only when the server
// announced its extension; otherwise Mail refuses with NotOfferedError
// rather than silently dropping what the caller asked for.
type MailOptions struct {
	// Size is the message size for SIZE (RFC 1870 §6); 0 sends none.
	Size int64
	// Body is "7BIT" or "8BITMIME" (RFC 6152) or "BINARYMIME" (RFC 3030).
	Body string
	// SMTPUTF8 asks for RFC 6531 handling; it is added automatically when
	// an address has a non-ASCII local part.
	SMTPUTF8 bool
	// Ret is the DSN RET parameter, "FULL" or "HDRS" (RFC 3461 §4.3).
	Ret string
	// EnvID is the DSN envelope identifier (RFC 3461 §4.4), xtext-encoded
	// by the client.
	EnvID string
	// Extra are further parameters sent verbatim ("KEY=VALUE").
	Extra []string
}

// RcptOptions are RCPT TO parameters (RFC 3461 DSN).
type RcptOptions struct {
	// Notify lists "SUCCESS", "FAILURE", "DELAY", or is {"NEVER"}.
	Notify []string
	// ORCPT is the original recipient, sent as "rfc822;" plus its xtext
	// form (RFC 3461 §4.2).
	ORCPT string
	// Extra are further parameters sent verbatim.
	Extra []string
}

// ParseNotify splits a NOTIFY value such as "SUCCESS,FAILURE" and checks
// it against RFC 3461 §4.1: NEVER alone, or any of SUCCESS, FAILURE,
// DELAY.
func ParseNotify(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.ToUpper(strings.TrimSpace(p))
		switch p {
		case "SUCCESS", "FAILURE", "DELAY", "NEVER":
		default:
			return nil, &wire.InputError{Msg: fmt.Sprintf("smtp: NOTIFY value %q is not one of SUCCESS, FAILURE, DELAY, NEVER", p)}
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if seen["NEVER"] && len(out) > 1 {
		return nil, &wire.InputError{Msg: "smtp: NOTIFY=NEVER cannot be combined with other values (RFC 3461 §4.1)"}
	}
	return out, nil
}

// xtext encodes s as RFC 3461 §4 xtext: "+" followed by two upper-case
// hex digits for "+", "=", and bytes outside 33-126.
func xtext(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch < 33 || ch > 126 || ch == '+' || ch == '=' {
			fmt.Fprintf(&b, "+%02X", ch)
			continue
		}
		b.WriteByte(ch)
	}
	return b.String()
}

// address checks an address for the wire. what names the field for the
// error ("sender address", "recipient address").
func (c *Client) address(what, s string, reverse bool) (addr.Address, error) {
	if err := checkField(what, s); err != nil {
		return addr.Address{}, c.inputErr(err)
	}
	parse := addr.ParseAddress
	if reverse {
		parse = addr.ParseReversePath
	}
	a, err := parse(s)
	if err != nil {
		return addr.Address{}, c.inputErr(&wire.InputError{Msg: fmt.Sprintf("smtp: %s %q: %v", what, s, err)})
	}
	if a.NeedsSMTPUTF8 && !c.caps.Has(ExtSMTPUTF8) {
		err := &NotOfferedError{Extension: ExtSMTPUTF8, Why: fmt.Sprintf("the %s %s has a non-ASCII local part, which needs SMTPUTF8 (RFC 6531 §3.3)", what, s), Offered: c.offered()}
		c.conn.Note(transcript.Error, err.Error())
		return addr.Address{}, err
	}
	if !a.Null && a.Domain.IsIDN() {
		c.conn.Note(transcript.Info, fmt.Sprintf("%s domain %s is sent as its A-label %s (RFC 5890)", what, a.Domain.Unicode, a.Domain.ASCII))
	}
	return a, nil
}

// needExt returns NotOfferedError when ext was not announced.
func (c *Client) needExt(ext, why string) error {
	if c.caps.Has(ext) {
		return nil
	}
	err := &NotOfferedError{Extension: ext, Why: why, Offered: c.offered()}
	c.conn.Note(transcript.Error, err.Error())
	return err
}

// mailLine builds and checks the MAIL FROM command.
func (c *Client) mailLine(from string, o *MailOptions, utf8 bool) (wire.Line, error) {
	a, err := c.address("sender address", from, true)
	if err != nil {
		return wire.Line{}, err
	}
	if o == nil {
		o = &MailOptions{}
	}
	text := "MAIL FROM:" + a.Path()
	if o.Size > 0 {
		if err := c.needExt(ExtSize, "SIZE was requested"); err != nil {
			return wire.Line{}, err
		}
		text += " SIZE=" + strconv.FormatInt(o.Size, 10)
	}
	if o.Body != "" {
		body := strings.ToUpper(o.Body)
		ext := map[string]string{"7BIT": "", "8BITMIME": Ext8BitMIME, "BINARYMIME": ExtBinaryMIME}
		need, ok := ext[body]
		if !ok {
			return wire.Line{}, c.inputErr(&wire.InputError{Msg: fmt.Sprintf("smtp: BODY=%s is not 7BIT, 8BITMIME or BINARYMIME", o.Body)})
		}
		if need != "" {
			if err := c.needExt(need, "BODY="+body+" was requested"); err != nil {
				return wire.Line{}, err
			}
		}
		text += " BODY=" + body
	}
	if o.SMTPUTF8 || a.NeedsSMTPUTF8 || utf8 {
		if err := c.needExt(ExtSMTPUTF8, "an address needs it"); err != nil {
			return wire.Line{}, err
		}
		text += " SMTPUTF8"
	}
	if o.Ret != "" {
		ret := strings.ToUpper(o.Ret)
		if ret != "FULL" && ret != "HDRS" {
			return wire.Line{}, c.inputErr(&wire.InputError{Msg: fmt.Sprintf("smtp: RET=%s is not FULL or HDRS", o.Ret)})
		}
		if err := c.needExt(ExtDSN, "RET was requested"); err != nil {
			return wire.Line{}, err
		}
		text += " RET=" + ret
	}
	tail, err := c.paramTail("ENVID", "ENVID", "", o.EnvID, "MAIL parameter", o.Extra)
	if err != nil {
		return wire.Line{}, err
	}
	text += tail
	l := wire.Line{Text: text}
	if !a.Null && a.Domain.IsIDN() {
		l.Annotation = "sender " + a.Unicode()
	}
	return l, nil
}

// paramTail builds the end of a MAIL or RCPT command: the DSN parameter
// key (ENVID or ORCPT, RFC 3461 §4) as key=prefix+xtext(value) when value
// is set, which needs the server to offer DSN, then the caller's extra
// parameters in order. Every failure is noted in the transcript.
func (c *Client) paramTail(key, what, prefix, value, extraWhat string, extra []string) (string, error) {
	var text string
	if value != "" {
		if err := checkField(what, value); err != nil {
			return "", c.inputErr(err)
		}
		if err := c.needExt(ExtDSN, key+" was requested"); err != nil {
			return "", err
		}
		text = " " + key + "=" + prefix + xtext(value)
	}
	for _, p := range extra {
		if err := checkParam(extraWhat, p); err != nil {
			return "", c.inputErr(err)
		}
		text += " " + p
	}
	return text, nil
}

func checkParam(what, p string) error {
	if err := checkField(what, p); err != nil {
		return err
	}
	if p == "" || strings.ContainsAny(p, " \t") {
		return &wire.InputError{Msg: fmt.Sprintf("smtp: %s %q must be one KEY or KEY=VALUE word", what, p)}
	}
	return nil
}

// rcptLine builds and checks one RCPT TO command.
func (c *Client) rcptLine(to string, o *RcptOptions) (wire.Line, error) {
	a, err := c.address("recipient address", to, false)
	if err != nil {
		return wire.Line{}, err
	}
	text := "RCPT TO:" + a.Path()
	if o != nil {
		if len(o.Notify) > 0 {
			n, err := ParseNotify(strings.Join(o.Notify, ","))
			if err != nil {
				return wire.Line{}, c.inputErr(err)
			}
			if err := c.needExt(ExtDSN, "NOTIFY was requested"); err != nil {
				return wire.Line{}, err
			}
			text += " NOTIFY=" + strings.Join(n, ",")
		}
		tail, err := c.paramTail("ORCPT", "ORCPT address", "rfc822;", o.ORCPT, "RCPT parameter", o.Extra)
		if err != nil {
			return wire.Line{}, err
		}
		text += tail
	}
	l := wire.Line{Text: text}
	if a.Domain.IsIDN() {
		l.Annotation = "recipient " + a.Unicode()
	}
	return l, nil
}

// Mail starts a transaction with MAIL FROM (RFC 5321 §4.1.1.2). from may
// be "" or "<>" for the null reverse-path.
func (c *Client) Mail(ctx context.Context, from string, o *MailOptions) (Reply, error) {
	l, err := c.mailLine(from, o, false)
	return c.doBuilt(ctx, "mail", []int{250}, l, err)
}

// Rcpt adds a recipient with RCPT TO (RFC 5321 §4.1.1.3); 250 and 251
// count as accepted.
func (c *Client) Rcpt(ctx context.Context, to string, o *RcptOptions) (Reply, error) {
	l, err := c.rcptLine(to, o)
	return c.doBuilt(ctx, "rcpt", []int{250, 251}, l, err)
}

// doBuilt sends a command line that was just built, or, when building it
// failed (buildErr), records that failure as the step's exchange without
// sending anything.
func (c *Client) doBuilt(ctx context.Context, step string, want []int, l wire.Line, buildErr error) (Reply, error) {
	if buildErr != nil {
		c.exchanges = append(c.exchanges, Exchange{Step: step, Err: buildErr})
		return Reply{}, buildErr
	}
	return c.do(ctx, step, want, l)
}

// DataLines turns a message into the lines sent after DATA: line endings
// normalised (a bare LF becomes CRLF), a leading "." doubled (RFC 5321
// §4.5.2), and the terminating "." appended. A bare CR is refused: it is
// what SMTP smuggling relies on, and its meaning differs between servers.
func DataLines(msg []byte) ([]wire.Line, error) {
	s := string(msg)
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	var lines []wire.Line
	if s != "" || len(msg) > 0 {
		for i, l := range strings.Split(s, "\n") {
			l = strings.TrimSuffix(l, "\r")
			if j := strings.IndexByte(l, '\r'); j >= 0 {
				return nil, &wire.InputError{Msg: fmt.Sprintf("smtp: message line %d has a bare carriage return (CR) at position %d; refused (SMTP smuggling risk)", i+1, j+1)}
			}
			if j := strings.IndexByte(l, 0); j >= 0 {
				return nil, &wire.InputError{Msg: fmt.Sprintf("smtp: message line %d has a NUL byte at position %d", i+1, j+1)}
			}
			if strings.HasPrefix(l, ".") {
				l = "." + l
			}
			lines = append(lines, wire.Line{Text: l, AllowEmpty: true})
		}
	}
	return append(lines, wire.Line{Text: "."}), nil
}

// Data sends DATA, waits for 354, then the message (see DataLines) and
// returns the final reply, 250 when the server took responsibility for
// the message.
func (c *Client) Data(ctx context.Context, msg []byte) (Reply, error) {
	lines, err := DataLines(msg)
	if err != nil {
		c.exchanges = append(c.exchanges, Exchange{Step: "data", Err: c.inputErr(err)})
		return Reply{}, err
	}
	if _, err := c.do(ctx, "data", []int{354}, wire.Line{Text: "DATA"}); err != nil {
		return Reply{}, err
	}
	return c.sendMessage(ctx, lines)
}

func (c *Client) sendMessage(ctx context.Context, lines []wire.Line) (Reply, error) {
	r, err := c.roundTrip(ctx, "message", nil, lines...)
	size := 0
	for _, l := range lines {
		size += len(l.Text) + 2
	}
	cmd := fmt.Sprintf("(message: %d lines, %d bytes) .", len(lines)-1, size)
	if err == nil && r.Code != 250 {
		err = &Error{Command: "end of data", Reply: r}
	}
	c.exchanges = append(c.exchanges, Exchange{Step: "message", Command: cmd, Reply: r, Err: err})
	return r, err
}

// Tx is one mail transaction for Transaction.
type Tx struct {
	// From is the reverse-path; "" is the null reverse-path.
	From string
	// To are the recipients.
	To []string
	// Mail and Rcpt are parameters for every MAIL and RCPT.
	Mail *MailOptions
	Rcpt *RcptOptions
	// Data is the message. When nil the transaction is a probe: it ends
	// with RSET instead of DATA, so nothing is delivered.
	Data []byte
	// DropAfterData sends DATA instead of RSET at the end of a probe and,
	// once the server answers 354, closes the connection without sending
	// a single message line. After 354 every line is message content, so
	// neither RSET nor QUIT can end the transaction; only the end-of-data
	// "." would, and that hands the server a message to deliver (RFC 5321
	// §4.1.1.4). A server acts on a transaction only at that ".", so a
	// connection that closes before it leaves nothing to deliver. Data
	// must be nil; the client cannot be used afterwards.
	DropAfterData bool
}

// dropAfterData closes the connection after a 354, as Tx.DropAfterData
// asks, and records why in the transcript.
func (c *Client) dropAfterData() {
	c.conn.Note(transcript.Info, "354 received: closing the connection without sending the message; the server cannot deliver a transaction whose end-of-data \".\" never arrived (RFC 5321 §4.1.1.4)")
	c.conn.Close()
}

// TxResult holds every reply of a transaction.
type TxResult struct {
	Mail Reply
	// Rcpt holds one reply per recipient, in order; Code 0 when none
	// arrived.
	Rcpt []Reply
	// Accepted counts the recipients the server accepted.
	Accepted int
	// Data is the reply to DATA and Message the reply after the message;
	// Rset the reply to RSET in a probe.
	Data, Message, Rset Reply
	// Pipelined reports that the commands went out in one write.
	Pipelined bool
}

// Transaction runs MAIL, every RCPT, and DATA with the message (or RSET
// for a probe). When the server offers PIPELINING (RFC 2920) the
// commands up to DATA or RSET go out in one write and the replies are
// read in order: two round trips for a delivery instead of 3+n. The
// first negative reply is returned as the error; the other recipients
// are still tried so that every verdict is known. The message is sent
// only when at least one recipient was accepted.
func (c *Client) Transaction(ctx context.Context, tx Tx) (TxResult, error) {
	var res TxResult
	var lines []wire.Line
	var steps []string
	utf8 := false
	// Check every argument first: nothing is sent when one is bad.
	rcpts := make([]wire.Line, 0, len(tx.To))
	for _, to := range tx.To {
		l, err := c.rcptLine(to, tx.Rcpt)
		if err != nil {
			return res, err
		}
		if a, _ := addr.ParseAddress(to); a.NeedsSMTPUTF8 {
			utf8 = true
		}
		rcpts = append(rcpts, l)
	}
	if len(rcpts) == 0 {
		return res, c.inputErr(&wire.InputError{Msg: "smtp: a transaction needs at least one recipient"})
	}
	ml, err := c.mailLine(tx.From, tx.Mail, utf8)
	if err != nil {
		return res, err
	}
	var msg []wire.Line
	if tx.DropAfterData && tx.Data != nil {
		return res, c.inputErr(&wire.InputError{Msg: "smtp: a transaction cannot both send a message and drop the connection after DATA"})
	}
	if tx.Data != nil {
		if msg, err = DataLines(tx.Data); err != nil {
			return res, c.inputErr(err)
		}
	}
	if !c.caps.Has(ExtPipelining) {
		return c.sequential(ctx, tx, ml, rcpts, msg)
	}
	res.Pipelined = true
	lines = append(lines, ml)
	steps = append(steps, "mail")
	for _, l := range rcpts {
		lines = append(lines, l)
		steps = append(steps, "rcpt")
	}
	if tx.Data != nil || tx.DropAfterData {
		lines = append(lines, wire.Line{Text: "DATA"})
		steps = append(steps, "data")
	} else {
		lines = append(lines, wire.Line{Text: "RSET"})
		steps = append(steps, "rset")
	}
	// The batch goes out in one write; each line is recorded under its own
	// step, and the step timer covers the whole batch.
	for i := range lines {
		lines[i].Step = steps[i]
	}
	c.conn.BeginStep("pipeline")
	if err := c.conn.WriteLines(ctx, lines...); err != nil {
		return res, err
	}
	c.roundTrips++
	var first error
	for i, l := range lines {
		c.conn.BeginStep(steps[i])
		r, err := c.readReply(ctx, "reply", nil)
		if err != nil {
			c.exchanges = append(c.exchanges, Exchange{Step: steps[i], Command: recorded(l), Err: err})
			return res, err
		}
		want := map[string][]int{"mail": {250}, "rcpt": {250, 251}, "data": {354}, "rset": {250}}[steps[i]]
		var e error
		if !codeIn(r.Code, want) {
			e = &Error{Command: recorded(l), Reply: r}
			if first == nil {
				first = e
			}
		}
		c.exchanges = append(c.exchanges, Exchange{Step: steps[i], Command: recorded(l), Reply: r, Err: e})
		switch steps[i] {
		case "mail":
			res.Mail = r
		case "rcpt":
			res.Rcpt = append(res.Rcpt, r)
			if e == nil {
				res.Accepted++
			}
		case "data":
			res.Data = r
		case "rset":
			res.Rset = r
		}
	}
	if tx.DropAfterData && res.Data.Code == 354 {
		c.dropAfterData()
		return res, first
	}
	if tx.Data == nil || res.Data.Code != 354 {
		return res, first
	}
	if res.Accepted == 0 || res.Mail.Code != 250 {
		// RFC 2920 §3.1: DATA was accepted although nothing else was;
		// end it with an empty message, which cannot be delivered.
		c.conn.Note(transcript.Warning, "DATA was accepted without an accepted sender and recipient; ending it with an empty message")
		r, err := c.sendMessage(ctx, []wire.Line{{Text: "."}})
		res.Message = r
		if first == nil {
			first = err
		}
		return res, first
	}
	res.Message, err = c.sendMessage(ctx, msg)
	if first == nil {
		first = err
	}
	return res, first
}

func (c *Client) sequential(ctx context.Context, tx Tx, ml wire.Line, rcpts []wire.Line, msg []wire.Line) (TxResult, error) {
	var res TxResult
	r, err := c.do(ctx, "mail", []int{250}, ml)
	res.Mail = r
	if err != nil {
		return res, err
	}
	var first error
	for _, l := range rcpts {
		r, err := c.do(ctx, "rcpt", []int{250, 251}, l)
		res.Rcpt = append(res.Rcpt, r)
		var se *Error
		if err != nil && !errors.As(err, &se) {
			return res, err
		}
		if err == nil {
			res.Accepted++
		} else if first == nil {
			first = err
		}
	}
	if tx.DropAfterData && res.Accepted > 0 {
		res.Data, err = c.do(ctx, "data", []int{354}, wire.Line{Text: "DATA"})
		if err == nil {
			c.dropAfterData()
		} else if first == nil {
			first = err
		}
		return res, first
	}
	if tx.Data == nil || res.Accepted == 0 {
		// A probe, or nobody to deliver to: reset the transaction.
		res.Rset, err = c.Rset(ctx)
		if first == nil {
			first = err
		}
		return res, first
	}
	res.Data, err = c.do(ctx, "data", []int{354}, wire.Line{Text: "DATA"})
	if err != nil {
		if first == nil {
			first = err
		}
		return res, first
	}
	res.Message, err = c.sendMessage(ctx, msg)
	if first == nil {
		first = err
	}
	return res, first
}
