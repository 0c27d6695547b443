package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"

	"github.com/mailflow/mailflow/diag/replycode"
	"github.com/mailflow/mailflow/session/transcript"
)

func init() { register(newExplainCmd) }

// explainOptions are the flags of "mailflow explain".
type explainOptions struct {
	protocol string
	command  string
	json     bool
}

// maxExplainInput bounds what is read from stdin: a reply, or a bounce
// message, is far smaller.
const maxExplainInput = 1 << 20

func newExplainCmd() *cobra.Command {
	o := &explainOptions{}
	cmd := &cobra.Command{
		Use:   "explain [REPLY...]",
		Short: "Explain an SMTP, POP3 or IMAP server reply: class, category, causes, next steps",
		Long: `Explain a mail server reply: what its codes mean, what it means at the step
it answered, the likely causes and what to check next.

The reply is taken from the arguments (quote it; several quoted arguments
are the lines of a multi-line reply) or, without arguments, from stdin.
Log lines and bounce text are accepted: the reply is found inside them, the
repeated "550-5.7.26" prefixes of flattened replies are removed, and
Postfix's "(in reply to RCPT TO command)" names the step. Base64 in SMTP
334 and "+ " continuation lines is decoded.

The protocol is inferred (three digits: SMTP; +OK/-ERR: POP3; tagged or "*"
lines: IMAP) unless --protocol is given. --command names the step the reply
answered (connect, EHLO, MAIL, RCPT, DATA, "." for end of data, USER, PASS,
LOGIN, SELECT, ...); the same code means different things at different
steps.

Exit status: 0 the reply was explained (whatever it says); 2 no reply given
or bad flags.`,
		Example: `  mailflow explain '550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown'
  mailflow explain --command MAIL '530 5.7.1 Client was not authenticated'
  mailflow explain --command connect '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org'
  mailflow explain --protocol imap 'a1 NO [AUTHENTICATIONFAILED] Authentication failed.'
  mailflow explain --json '334 VXNlcm5hbWU6'
  grep 'status=bounced' /var/log/mail.log | tail -1 | mailflow explain`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExplain(cmd.InOrStdin(), cmd.OutOrStdout(), args, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.protocol, "protocol", "", "protocol of the reply: smtp, pop3 or imap (default: inferred)")
	f.StringVar(&o.command, "command", "", "command or step the reply answered, e.g. connect, EHLO, MAIL, RCPT, ., PASS, LOGIN")
	f.BoolVar(&o.json, "json", false, "print the explanation as one JSON object")
	return cmd
}

func runExplain(stdin io.Reader, w io.Writer, args []string, o *explainOptions) error {
	var proto replycode.Protocol
	switch strings.ToLower(strings.TrimSpace(o.protocol)) {
	case "":
	case "smtp", "lmtp", "esmtp":
		proto = replycode.ProtocolSMTP
	case "pop3", "pop":
		proto = replycode.ProtocolPOP3
	case "imap", "imap4":
		proto = replycode.ProtocolIMAP
	default:
		return usageErr("explain: --protocol must be smtp, pop3 or imap, got %q", transcript.PrintableString(o.protocol))
	}
	lines, err := explainInput(stdin, args)
	if err != nil {
		return err
	}
	if err := replycode.Check(); err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	ex := replycode.Explain(replycode.Input{Protocol: proto, Command: o.command, Lines: lines})
	if o.json {
		return writeExplainJSON(w, ex)
	}
	writeExplainText(w, ex)
	return nil
}

// explainInput gathers the reply lines from the arguments or stdin.
func explainInput(stdin io.Reader, args []string) ([]string, error) {
	var text string
	switch {
	case len(args) > 0:
		text = joinReplyArgs(args)
	case stdin == nil || isTerminal(stdin):
		return nil, usageErr("explain: give the reply as an argument or on stdin (see --help)")
	default:
		b, err := io.ReadAll(io.LimitReader(stdin, maxExplainInput+1))
		if err != nil {
			return nil, withCode(exitUsage, fmt.Errorf("explain: read stdin: %w", err))
		}
		if len(b) > maxExplainInput {
			return nil, usageErr("explain: input is larger than %d bytes", maxExplainInput)
		}
		text = string(b)
	}
	if strings.TrimSpace(text) == "" {
		return nil, usageErr("explain: the reply is empty")
	}
	return strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n"), nil
}

// joinReplyArgs treats arguments as lines when more than one of them
// starts like a reply line ("250-...", "+OK", "a1 OK", "* BYE"), and
// otherwise as the words of one line, so that an unquoted
// "mailflow explain 550 5.1.1 User unknown" still works.
func joinReplyArgs(args []string) string {
	starts := 0
	for _, a := range args {
		if replycode.Infer([]string{a}) != replycode.ProtocolUnknown && looksLikeLineStart(a) {
			starts++
		}
	}
	if starts > 1 {
		return strings.Join(args, "\n")
	}
	return strings.Join(args, " ")
}

func looksLikeLineStart(a string) bool {
	a = strings.TrimSpace(a)
	if len(a) >= 4 && a[0] >= '0' && a[0] <= '9' && a[1] >= '0' && a[1] <= '9' && a[2] >= '0' && a[2] <= '9' {
		return a[3] == ' ' || a[3] == '-'
	}
	return strings.HasPrefix(a, "+") || strings.HasPrefix(a, "-ERR") || strings.HasPrefix(a, "* ") || strings.Contains(a, " ")
}

// isTerminal reports whether r is an interactive terminal; explain never
// waits for typed input there.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// writeExplainJSON prints the explanation with every server-made string
// made safe for terminals and logs.
func writeExplainJSON(w io.Writer, ex replycode.Explanation) error {
	ex.Text = transcript.PrintableString(ex.Text)
	ex.Code = transcript.PrintableString(ex.Code)
	ex.ResponseCode = transcript.PrintableString(ex.ResponseCode)
	ex.Command = transcript.PrintableString(ex.Command)
	for i, d := range ex.Decoded {
		ex.Decoded[i] = transcript.PrintableString(d)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ex); err != nil {
		return fmt.Errorf("explain: write JSON: %w", err)
	}
	return nil
}

// classWords spells the class out, so the verdict never depends on colour.
var classWords = map[replycode.Class]string{
	replycode.ClassSuccess:      "success",
	replycode.ClassIntermediate: "intermediate (send the next part)",
	replycode.ClassTransient:    "temporary failure (retry later)",
	replycode.ClassPermanent:    "permanent failure (change something first)",
	replycode.ClassUnknown:      "unknown (no status found)",
}

const explainWidth = 78

func writeExplainText(w io.Writer, ex replycode.Explanation) {
	var b strings.Builder
	head := strings.ToUpper(string(ex.Protocol))
	if head == "" {
		head = "?"
	}
	code := strings.TrimSpace(transcript.PrintableString(ex.Code + " " + ex.EnhancedCode))
	if ex.ResponseCode != "" {
		code += " [" + transcript.PrintableString(ex.ResponseCode) + "]"
	}
	if code != "" {
		head += " " + code
	}
	fmt.Fprintf(&b, "%s: %s\n", head, ex.Summary)
	field(&b, "Class", classWords[ex.Class])
	field(&b, "Category", string(ex.Category))
	switch ex.Command {
	case "":
	case ".":
		field(&b, "Step", "end of data (.)")
	case "CONNECT":
		field(&b, "Step", "connection greeting")
	default:
		field(&b, "Step", transcript.PrintableString(ex.Command))
	}
	if ex.Text != "" {
		field(&b, "Reply", transcript.PrintableString(ex.Text))
	}
	for _, d := range ex.Decoded {
		field(&b, "Decoded", fmt.Sprintf("%q", transcript.PrintableString(d)))
	}
	b.WriteString("\n")
	wrap(&b, ex.Meaning, "", "")
	list(&b, "Likely causes", ex.Causes, true)
	list(&b, "Next steps", ex.NextSteps, false)
	if len(ex.Notes) > 0 {
		list(&b, "Notes", ex.Notes, false)
	}
	b.WriteString("\n")
	basis := ex.Matched
	if ex.Vendor != "" {
		basis += " (" + ex.Vendor + ")"
	}
	if ex.Generic {
		basis += "; no specific entry, explained from the digits"
	}
	wrap(&b, "Matched: "+basis, "", "  ")
	io.WriteString(w, b.String())
}

func field(b *strings.Builder, name, value string) {
	wrap(b, value, fmt.Sprintf("%-9s ", name+":"), strings.Repeat(" ", 10))
}

func list(b *strings.Builder, title string, items []string, numbered bool) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s:\n", title)
	for i, it := range items {
		bullet := "  - "
		if numbered {
			bullet = fmt.Sprintf("  %d. ", i+1)
		}
		wrap(b, it, bullet, strings.Repeat(" ", len(bullet)))
	}
}

// wrap writes s word-wrapped to explainWidth columns, the first line after
// first and the others after rest.
func wrap(b *strings.Builder, s, first, rest string) {
	words := strings.Fields(s)
	line := first
	empty := true
	for _, wd := range words {
		if !empty && ansi.StringWidth(line)+1+ansi.StringWidth(wd) > explainWidth {
			b.WriteString(line + "\n")
			line, empty = rest, true
		}
		if empty {
			line += wd
			empty = false
		} else {
			line += " " + wd
		}
	}
	b.WriteString(line + "\n")
}
