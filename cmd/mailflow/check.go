package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailflow/mailflow/session/check"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

func init() { register(newCheckCmd) }

// checkOptions are the flags of "mailflow check".
type checkOptions struct {
	server       string
	protocol     string
	tls          string
	from         string
	to           []string
	send         bool
	helo         string
	user         string
	passwordFile string
	authMech     string
	notify       string
	mailbox      string
	caFile       string
	insecure     bool
	transcript   string
	json         bool
	resolvers    []string
	port         int
	timeout      time.Duration
}

// passwordEnv is the environment variable a password may come from.
const passwordEnv = "MAILFLOW_PASSWORD"

func newCheckCmd() *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check [DOMAIN]",
		Short: "Run the SMTP/POP3/IMAP test procedure against a server or a domain's MX hosts",
		Long: `Run the classic manual mail-server test without a keyboard, and report
every step: the command sent, the reply, its round-trip time and a verdict.

SMTP (the default): connect, EHLO, STARTTLS and EHLO again (--tls starttls),
AUTH (--user), MAIL FROM, one RCPT TO per --to, then RSET and QUIT. Without
--send nothing is ever delivered: the transaction is reset before DATA.
With --send a short test message (Date, From, To, Message-ID, Subject) is
sent with DATA.

Give either --server HOST[:PORT], or a DOMAIN: then its MX hosts are looked
up and tried in preference order, every address, until one answers
(implicit MX and null MX included); --port replaces 25 for every MX.

Passwords are read only from --password-file or the environment variable
MAILFLOW_PASSWORD. There is deliberately no --password flag: a password on
the command line ends up in shell history and in the process list. The
password never appears in the output or in --transcript files.

Exit status: 0 every step succeeded; 1 a server refused a step (or the
domain takes no mail, or the certificate failed verification); 2 bad usage
or input; 3 the server or DNS could not be reached.`,
		Example: `  mailflow check --server mx.example.com:25 --from me@example.org --to postmaster@example.com
  mailflow check example.com --from me@example.org --to postmaster@example.com --tls starttls
  mailflow check --server smtp.example.com:587 --tls starttls --user kate --password-file ~/.pw
  MAILFLOW_PASSWORD=... mailflow check --server mail.example.com:993 --protocol imap --tls implicit --user kate
  mailflow check --server 127.0.0.1:2525 --from a@b.test --to c@d.test --send --json --transcript run.md`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.server, "server", "", "server to test, HOST[:PORT] (default port: 25, 465 with --tls implicit; 110/995 POP3, 143/993 IMAP)")
	f.StringVar(&o.protocol, "protocol", "smtp", "protocol: smtp, pop3 or imap")
	f.StringVar(&o.tls, "tls", "none", "TLS: none, starttls or implicit")
	f.StringVar(&o.from, "from", "", "SMTP sender (MAIL FROM); without it, RCPT is probed with the null sender <>")
	f.StringArrayVar(&o.to, "to", nil, "SMTP recipient (RCPT TO), repeatable")
	f.BoolVar(&o.send, "send", false, "really send a short test message with DATA (default: probe, reset before DATA)")
	f.StringVar(&o.helo, "helo", "", "name to send with EHLO/HELO (default: this host's name)")
	f.StringVar(&o.user, "user", "", "user name to authenticate as (AUTH, USER, LOGIN)")
	f.StringVar(&o.passwordFile, "password-file", "", "file holding the password (first line); or set "+passwordEnv)
	f.StringVar(&o.authMech, "auth-mech", "", "SMTP AUTH mechanism: PLAIN, LOGIN or CRAM-MD5 (default: picked from those offered)")
	f.StringVar(&o.notify, "notify", "", "DSN NOTIFY for every recipient, e.g. SUCCESS,FAILURE (RFC 3461)")
	f.StringVar(&o.mailbox, "mailbox", "", "IMAP mailbox to select (default INBOX)")
	f.StringVar(&o.caFile, "ca-file", "", "PEM file of extra CA certificates to trust")
	f.BoolVar(&o.insecure, "insecure", false, "go on when the certificate fails verification (still reported)")
	f.StringVar(&o.transcript, "transcript", "", "write the transcript to FILE (.txt, .md or .jsonl chooses the format)")
	f.BoolVar(&o.json, "json", false, "print the result as JSON")
	f.StringArrayVar(&o.resolvers, "resolver", nil, "DNS server for DOMAIN mode, HOST[:PORT] (repeatable; default: /etc/resolv.conf)")
	f.IntVar(&o.port, "port", 0, "port to use instead of the protocol's default (for every MX in DOMAIN mode)")
	f.DurationVar(&o.timeout, "timeout", 2*time.Minute, "give up on the whole check after this long")
	return cmd
}

// readPassword returns the password from --password-file or the
// environment, never from the command line.
func readPassword(o *checkOptions) (string, error) {
	if o.passwordFile != "" {
		b, err := os.ReadFile(o.passwordFile)
		if err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		pw, _, _ := strings.Cut(string(b), "\n")
		pw = strings.TrimSuffix(pw, "\r")
		if pw == "" {
			return "", fmt.Errorf("--password-file %s: the first line is empty", o.passwordFile)
		}
		return pw, nil
	}
	return os.Getenv(passwordEnv), nil
}

func runCheck(ctx context.Context, stdout, stderr io.Writer, args []string, o *checkOptions) error {
	mode, err := wire.ParseTLSMode(o.tls)
	if err != nil {
		return usageErr("--tls: %v", err)
	}
	if o.port < 0 || o.port > 65535 {
		return usageErr("--port %d is not a port number", o.port)
	}
	if o.timeout <= 0 {
		return usageErr("--timeout must be positive")
	}
	domain := ""
	if len(args) == 1 {
		domain = args[0]
	}
	switch {
	case domain != "" && o.server != "":
		return usageErr("give either a DOMAIN or --server, not both")
	case domain == "" && o.server == "":
		return usageErr("nothing to check: give a DOMAIN or --server HOST[:PORT]")
	}
	proto := strings.ToLower(o.protocol)
	if domain != "" && proto != "smtp" {
		return usageErr("DOMAIN mode looks up MX hosts, which speak SMTP; use --server for %s", proto)
	}
	var transcriptFormat transcript.Format
	if o.transcript != "" {
		transcriptFormat = transcript.FormatForPath(o.transcript)
	}
	pw, err := readPassword(o)
	if err != nil {
		return usageErr("%v", err)
	}
	if o.user == "" {
		pw = ""
	}
	ts := transcript.NewStore()
	opts := check.Options{
		Server: o.server, Protocol: proto, TLS: mode,
		TLSOptions: wire.TLSOptions{CAFile: o.caFile, Insecure: o.insecure},
		Transcript: ts, From: o.from, To: o.to, Send: o.send, Helo: o.helo, Notify: o.notify,
		User: o.user, Password: pw, AuthMech: o.authMech, Mailbox: o.mailbox,
		Resolver: o.resolvers, Port: o.port,
	}
	if o.timeout < wire.DefaultStepTimeout {
		opts.Limits.StepTimeout = o.timeout
	}
	if o.timeout < wire.DefaultConnectTimeout {
		opts.Limits.ConnectTimeout = o.timeout
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	var res *check.Result
	if domain != "" {
		res = check.RunDomain(ctx, domain, opts)
	} else {
		res = check.Run(ctx, opts)
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return withCode(exitUsage, fmt.Errorf("check: write JSON: %w", err))
		}
	} else {
		printCheck(stdout, res)
	}
	if o.transcript != "" {
		target := o.server
		if domain != "" {
			target = domain
		}
		meta := transcript.Meta{Title: strings.ToUpper(res.Protocol) + " check of " + target, Target: target}
		if err := transcript.WriteFileAtomic(o.transcript, transcriptFormat, meta, ts.Entries(), true); err != nil {
			fmt.Fprintf(stderr, "mailflow: %v\n", err)
			if res.Exit == check.ExitOK {
				return withCode(exitUsage, nil)
			}
		}
	}
	if res.Exit != check.ExitOK {
		return withCode(res.Exit, nil)
	}
	return nil
}

// printCheck writes the human report: one line per step with a verdict
// that reads without colour, then TLS facts, per-host verdicts and the
// overall result. Every server text passes through transcript.Printable.
func printCheck(w io.Writer, r *check.Result) {
	p := transcript.PrintableString
	head := strings.ToUpper(r.Protocol) + " check of " + p(r.Server)
	if r.Address != "" && r.Address != r.Server {
		head += " (" + p(r.Address) + ")"
	}
	fmt.Fprintln(w, head)
	if len(r.Hosts) > 0 {
		fmt.Fprintln(w, "\nMX hosts:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, h := range r.Hosts {
			pref := strconv.Itoa(h.Preference)
			if h.Preference < 0 {
				pref = "implicit"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", pref, p(h.Host), p(h.Address), hostVerdict(h.Verdict), p(h.Err))
		}
		tw.Flush()
	}
	if len(r.Steps) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  STEP\tCOMMAND\tREPLY\tRTT\tVERDICT")
		for _, s := range r.Steps {
			reply := ""
			if len(s.Reply) > 0 {
				reply = s.Reply[0]
				if len(s.Reply) > 1 {
					reply += fmt.Sprintf(" (+%d lines)", len(s.Reply)-1)
				}
			} else if s.Err != "" {
				reply = s.Err
			}
			rtt := ""
			if s.ReplyCode != "" {
				rtt = checkRTT(s.RTT)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", s.Name, checkClip(p(s.Command), 40), checkClip(p(reply), 70), rtt, stepVerdict(s))
		}
		tw.Flush()
	}
	if r.TLS != nil && r.TLS.Version != "" {
		fmt.Fprintln(w, "\n"+p(r.TLS.Summary()))
	} else if r.TLS != nil && r.TLS.VerifyReason != "" {
		fmt.Fprintln(w, "\nTLS: certificate verification failed ("+r.TLS.VerifyReason+"): "+p(r.TLS.VerifyError))
	}
	if r.MessageID != "" {
		fmt.Fprintln(w, "Message-ID: "+p(r.MessageID))
	}
	fmt.Fprintln(w)
	if r.Exit == check.ExitOK {
		fmt.Fprintln(w, "Result: ✓ OK: every step succeeded (exit 0)")
		return
	}
	word := map[int]string{check.ExitRefused: "REFUSED", check.ExitUsage: "USAGE ERROR", check.ExitUnreachable: "UNREACHABLE"}[r.Exit]
	fmt.Fprintf(w, "Result: ✗ %s: %s (exit %d)\n", word, p(r.Error), r.Exit)
}

func stepVerdict(s check.Step) string {
	switch {
	case s.Skipped:
		return "- skipped"
	case s.OK:
		return "✓ ok"
	case s.ErrKind == check.KindServerRefused && s.ReplyCode != "" && s.ReplyCode[0] == '4':
		return "✗ refused (temporary)"
	case s.ErrKind == check.KindServerRefused:
		return "✗ refused"
	case s.ErrKind == check.KindNotOffered:
		return "✗ not offered by the server"
	case s.ErrKind != "":
		return "✗ failed (" + s.ErrKind + ")"
	}
	return "✗ failed"
}

func hostVerdict(v string) string {
	switch v {
	case check.VerdictOK:
		return "✓ ok"
	case check.VerdictNotTried:
		return "- not tried"
	}
	return "✗ " + v
}

func checkRTT(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
	return d.Round(time.Millisecond).String()
}

func checkClip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
