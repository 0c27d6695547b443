package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/net/proxy"
	"golang.org/x/term"

	"github.com/mailflow/mailflow/diag/addr"
	"github.com/mailflow/mailflow/internal/config"
	"github.com/mailflow/mailflow/session/check"
	"github.com/mailflow/mailflow/session/smtp"
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

	connectTimeout time.Duration
	quitAfter      string
	ret            string
	envid          string
	mailParams     []string
	rcptParams     []string
	ipv4, ipv6     bool
	socks5         string
	showCommands   bool
	allMX          bool
	slowBanner     time.Duration
	domainsFile    string
	parallel       int
	stdin          io.Reader
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
up and tried in preference order, every address, the way a sending MTA
does (implicit MX and null MX included); --port replaces 25 for every MX.
Like an MTA, the check goes on to the next address or MX when one cannot be
reached or defers the whole session (a 421 or other 4xx greeting, a 4xx to
EHLO or STARTTLS, a 421 at any step), and stops at the first server that
completes or refuses for good. --all-mx tries every address of every MX at
once instead and gives each a verdict, per host and per address family.

--quit-after connect|banner|ehlo|tls|auth|mail|rcpt|data stops early
(default rcpt: MAIL and RCPT are sent, then RSET). "connect" closes the TCP
connection before the banner; "data" sends DATA and, after the server's
354, drops the connection without sending anything: after 354 every line is
message text, so RSET or QUIT cannot end it, and the final "." would hand
the server a message to deliver. A server delivers nothing whose end-of-data
never arrived (RFC 5321 §4.1.1.4).

A banner that takes longer than --slow-banner (default 2s) is reported as a
likely greet pause (Postfix postscreen) or tarpit, not as a failure.

--socks5 HOST:PORT sends every connection through a SOCKS5 proxy, such as
the one "ssh -D 1080 host" opens. With --server the host name is handed to
the proxy, which resolves it. In DOMAIN mode the MX records are looked up
here (SOCKS5 carries TCP only), their addresses are dialled through the
proxy, and an MX host without a local address is handed to the proxy by
name.

--domains FILE checks many domains (one per line, # comments; - reads
standard input), --parallel at a time, and prints a summary table, or one
JSON object per line with --json. In --to and --from, {domain} stands for
each domain (--to 'postmaster@{domain}'). A progress bar is drawn on standard error
only when it is a terminal. The exit status is the worst of the domains.

Passwords are read only from --password-file or the environment variable
MAILFLOW_PASSWORD. There is deliberately no --password flag: a password on
the command line ends up in shell history and in the process list. The
password never appears in the output or in --transcript files.

--show-commands prints the same test as swaks, openssl s_client and curl
command lines; a password appears only as "$MAILFLOW_PASSWORD".

Exit status: 0 every step succeeded (mail would flow); 1 a server refused a
step (or deferred it, or the domain takes no mail, or the certificate failed
verification); 2 bad usage or input; 3 the server or DNS could not be
reached. In batch mode: the worst of the domains (3, then 1, then 0).`,
		Example: `  mailflow check --server mx.example.com:25 --from me@example.org --to postmaster@example.com
  mailflow check example.com --from me@example.org --to postmaster@example.com --tls starttls
  mailflow check --server smtp.example.com:587 --tls starttls --user kate --password-file ~/.pw
  MAILFLOW_PASSWORD=... mailflow check --server mail.example.com:993 --protocol imap --tls implicit --user kate
  mailflow check --server 127.0.0.1:2525 --from a@b.test --to c@d.test --send --json --transcript run.md
  mailflow check example.com --all-mx --tls starttls --quit-after tls
  mailflow check example.com --to a@example.com --to b@example.com --notify success,failure --ret hdrs --envid run-42
  mailflow check example.com --socks5 127.0.0.1:1080 --show-commands
  mailflow check --domains domains.txt --parallel 16 --to 'postmaster@{domain}' --json > results.jsonl`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The configuration file fills every flag not given here.
			if _, err := config.FromFlags(cmd.Flags()); err != nil {
				return usageErr("%v", err)
			}
			o.stdin = cmd.InOrStdin()
			return runCheck(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.server, "server", "", "server to test, HOST[:PORT] (default port: 25, 465 with --tls implicit; 110/995 POP3, 143/993 IMAP)")
	f.StringVar(&o.protocol, "protocol", "smtp", "protocol: smtp, pop3 or imap")
	f.StringVar(&o.tls, "tls", "none", "how to use TLS: none, starttls or implicit")
	f.StringVar(&o.from, "from", "", "envelope sender (MAIL FROM); without it, RCPT is probed with the null sender <>")
	f.StringArrayVar(&o.to, "to", nil, "envelope recipient (RCPT TO), repeatable")
	f.BoolVar(&o.send, "send", false, "really send a short test message with DATA (default: probe, reset before DATA)")
	f.StringVar(&o.helo, "helo", "", "name to send with EHLO/HELO (default: this host's name)")
	f.StringVar(&o.user, "user", "", "user name to authenticate as (AUTH, USER, LOGIN)")
	f.StringVar(&o.passwordFile, "password-file", "", "file holding the password (first line); or set "+passwordEnv)
	f.StringVar(&o.authMech, "auth-mech", "", "mechanism for SMTP AUTH: PLAIN, LOGIN or CRAM-MD5 (default: picked from those offered)")
	f.StringVar(&o.notify, "notify", "", "delivery notifications (DSN NOTIFY) for every recipient: SUCCESS,FAILURE,DELAY or NEVER (RFC 3461)")
	f.StringVar(&o.ret, "ret", "", "what a DSN returns (RET on MAIL FROM): full or hdrs (RFC 3461)")
	f.StringVar(&o.envid, "envid", "", "envelope ID for DSNs (ENVID on MAIL FROM; printable ASCII, sent as xtext)")
	f.StringArrayVar(&o.mailParams, "mail-param", nil, "extra MAIL FROM parameter KEY or KEY=VALUE (repeatable; no spaces, CR or LF)")
	f.StringArrayVar(&o.rcptParams, "rcpt-param", nil, "extra RCPT TO parameter KEY or KEY=VALUE for every recipient (repeatable)")
	f.StringVar(&o.quitAfter, "quit-after", "", "stop after: connect, banner, ehlo, tls, auth, mail, rcpt or data (default rcpt; --send runs to the end)")
	f.StringVar(&o.mailbox, "mailbox", "", "mailbox to select over IMAP (default INBOX)")
	f.StringVar(&o.caFile, "ca-file", "", "file of extra CA certificates (PEM) to trust")
	f.BoolVar(&o.insecure, "insecure", false, "go on when the certificate fails verification (still reported)")
	f.StringVar(&o.transcript, "transcript", "", "write the transcript to FILE (.txt, .md or .jsonl chooses the format)")
	f.BoolVar(&o.json, "json", false, "print the result as JSON")
	f.StringArrayVar(&o.resolvers, "resolver", nil, "name server for DOMAIN mode, HOST[:PORT] (repeatable; default: /etc/resolv.conf)")
	f.IntVar(&o.port, "port", 0, "port to use instead of the protocol's default (for every MX in DOMAIN mode)")
	f.DurationVar(&o.timeout, "timeout", wire.DefaultStepTimeout, "give up on one step (a command and its reply, or the banner) after this long")
	f.DurationVar(&o.connectTimeout, "connect-timeout", wire.DefaultConnectTimeout, "give up on a TCP connection (and TLS handshake) after this long")
	f.BoolVarP(&o.ipv4, "4", "4", false, "use IPv4 only (dialling and MX addresses)")
	f.BoolVarP(&o.ipv6, "6", "6", false, "use IPv6 only (dialling and MX addresses)")
	f.StringVar(&o.socks5, "socks5", "", "connect through a SOCKS5 proxy HOST:PORT (e.g. ssh -D 1080)")
	f.BoolVar(&o.showCommands, "show-commands", false, "print equivalent swaks, openssl s_client and curl command lines")
	f.BoolVar(&o.allMX, "all-mx", false, "in DOMAIN mode, try every address of every MX concurrently, not only until one decides")
	f.DurationVar(&o.slowBanner, "slow-banner", check.DefaultSlowBanner, "report a banner slower than this as a greet pause or tarpit (0: never)")
	f.StringVar(&o.domainsFile, "domains", "", "check every domain listed in FILE (one per line, # comments; - for standard input)")
	f.IntVar(&o.parallel, "parallel", 8, "with --domains: how many domains to check at once")
	config.AddFlags(f)
	return cmd
}

// readPassword returns the password from --password-file, the
// environment, or a no-echo prompt when standard input is a terminal;
// never from the command line. Without --user no password is needed.
func readPassword(o *checkOptions) (string, error) {
	if o.user == "" {
		return "", nil
	}
	pw, err := config.ReadPassword(o.passwordFile, passwordEnv, true)
	switch {
	case errors.Is(err, config.ErrNoPassword):
		return "", fmt.Errorf("--user %s needs a password: give --password-file FILE or set %s", o.user, passwordEnv)
	case err != nil && o.passwordFile != "":
		return "", fmt.Errorf("--password-file: %w", err)
	}
	return pw, err
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
	if o.connectTimeout <= 0 {
		return usageErr("--connect-timeout must be positive")
	}
	if o.ipv4 && o.ipv6 {
		return usageErr("give --4 or --6, not both")
	}
	domain := ""
	if len(args) == 1 {
		domain = args[0]
	}
	batch := o.domainsFile != ""
	switch {
	case batch && (domain != "" || o.server != ""):
		return usageErr("--domains checks the domains listed in a file; give no DOMAIN or --server with it")
	case domain != "" && o.server != "":
		return usageErr("give either a DOMAIN or --server, not both")
	case !batch && domain == "" && o.server == "":
		return usageErr("nothing to check: give a DOMAIN, --server HOST[:PORT] or --domains FILE")
	case o.allMX && o.server != "":
		return usageErr("--all-mx needs a DOMAIN: with --server there is one server")
	case batch && o.parallel < 1:
		return usageErr("--parallel must be at least 1")
	case batch && o.showCommands:
		return usageErr("--show-commands works with a single check, not with --domains")
	}
	proto := strings.ToLower(o.protocol)
	if (domain != "" || batch) && proto != "smtp" {
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
	if pw != "" {
		ts.AddSecret(pw)
	}
	opts := check.Options{
		Server: o.server, Protocol: proto, TLS: mode,
		TLSOptions: wire.TLSOptions{CAFile: o.caFile, Insecure: o.insecure},
		Transcript: ts, From: o.from, To: o.to, Send: o.send, Helo: o.helo, Notify: o.notify,
		Ret: o.ret, EnvID: o.envid, MailParams: o.mailParams, RcptParams: o.rcptParams, QuitAfter: o.quitAfter,
		User: o.user, Password: pw, AuthMech: o.authMech, Mailbox: o.mailbox,
		Resolver: o.resolvers, Port: o.port, AllMX: o.allMX, SlowBanner: o.slowBanner,
	}
	if o.slowBanner <= 0 {
		opts.SlowBanner = -1
	}
	opts.Limits.StepTimeout = o.timeout
	opts.Limits.ConnectTimeout = o.connectTimeout
	switch {
	case o.ipv4:
		opts.Network = "tcp4"
	case o.ipv6:
		opts.Network = "tcp6"
	}
	if o.socks5 != "" {
		d, err := socks5Dialer(o.socks5)
		if err != nil {
			return usageErr("--socks5: %v", err)
		}
		opts.Dialer, opts.DialNames = d, true
	}
	if batch {
		return runBatch(ctx, stdout, stderr, o, opts, transcriptFormat)
	}
	var res *check.Result
	if domain != "" {
		res = check.RunDomain(ctx, domain, opts)
	} else {
		res = check.Run(ctx, opts)
	}
	var cmds *shownCommands
	if o.showCommands && res.Exit != check.ExitUsage {
		cmds = equivalentCommands(o, opts, domain, res)
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(jsonResult{Result: res, Commands: cmds}); err != nil {
			return withCode(exitUsage, fmt.Errorf("check: write JSON: %w", err))
		}
	} else {
		printCheck(stdout, res)
		if cmds != nil {
			printCommands(stdout, cmds)
		}
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

// jsonResult is the JSON form of a check: the Result's fields, plus
// "commands" with --show-commands.
type jsonResult struct {
	*check.Result
	Commands *shownCommands `json:"commands,omitempty"`
}

// socks5Dialer returns a dialer through the SOCKS5 proxy at hostport
// (RFC 1928, no authentication: what "ssh -D" offers). Host names given
// to it are sent to the proxy unresolved (address type DOMAINNAME), so
// the proxy's side resolves them.
func socks5Dialer(hostport string) (wire.ContextDialer, error) {
	if _, _, err := addr.ParseHostPort(hostport, 0); err != nil {
		return nil, err
	}
	h, p, err := net.SplitHostPort(hostport)
	if err != nil || h == "" || p == "" || p == "0" {
		return nil, fmt.Errorf("%q: want HOST:PORT", hostport)
	}
	d, err := proxy.SOCKS5("tcp", hostport, nil, &net.Dialer{})
	if err != nil {
		return nil, err
	}
	cd, ok := d.(wire.ContextDialer)
	if !ok {
		return nil, fmt.Errorf("the SOCKS5 dialer cannot take a context")
	}
	return cd, nil
}

// printCheck writes the human report: warnings, the MX verdicts, one line
// per step with a verdict that reads without colour, the recipients, the
// capabilities before and after STARTTLS, TLS facts, the explanation of a
// failure and the overall result. Every server text passes through
// transcript.Printable.
func printCheck(w io.Writer, r *check.Result) {
	p := transcript.PrintableString
	head := strings.ToUpper(r.Protocol) + " check of " + p(r.Server)
	if r.Address != "" && r.Address != r.Server {
		head += " (" + p(r.Address) + ")"
	}
	fmt.Fprintln(w, head)
	for _, warn := range r.Warnings {
		fmt.Fprint(w, wrapText("Note: "+p(warn), 80, "      "))
	}
	if len(r.Hosts) > 0 {
		fmt.Fprintln(w, "\nMX hosts:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  PREF\tHOST\tADDRESS\tVERDICT\tBANNER\tREPLY OR ERROR")
		for _, h := range r.Hosts {
			pref := strconv.Itoa(h.Preference)
			if h.Preference < 0 {
				pref = "implicit"
			}
			banner := ""
			if h.GreetingMs > 0 {
				banner = checkRTT(time.Duration(h.GreetingMs * float64(time.Millisecond)))
			}
			detail := h.Reply
			if detail == "" || h.Verdict == check.VerdictUnreachable {
				detail = h.Err
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", pref, p(h.Host), p(h.Address), hostVerdict(h.Verdict), banner, checkClip(p(detail), 60))
		}
		tw.Flush()
		if len(r.Families) > 1 || len(r.MXHosts) > 0 && hasBothFamilies(r.MXHosts) {
			fmt.Fprintln(w, "\nPer address family:")
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  HOST\tVERDICT\tIPV4\tIPV6")
			for _, m := range r.MXHosts {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p(m.Host), hostVerdict(m.Verdict), familyVerdict(m.IPv4), familyVerdict(m.IPv6))
			}
			if len(r.Families) > 0 {
				fmt.Fprintf(tw, "  (domain)\t\t%s\t%s\n", familyVerdict(r.Families["ipv4"]), familyVerdict(r.Families["ipv6"]))
			}
			tw.Flush()
		}
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
			if s.ReplyCode != "" || (s.Name == "connect" && s.OK) {
				rtt = checkRTT(s.RTT)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", s.Name, checkClip(p(s.Command), 40), checkClip(p(reply), 70), rtt, stepVerdict(s))
		}
		tw.Flush()
	}
	if len(r.Recipients) > 1 {
		fmt.Fprintln(w, "\nRecipients:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, rc := range r.Recipients {
			reply := ""
			if len(rc.Reply) > 0 {
				reply = rc.Reply[0]
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", p(rc.Address), recipientVerdict(rc.Verdict), checkClip(p(reply), 60))
		}
		tw.Flush()
	}
	printCaps(w, r)
	if r.TLS != nil && r.TLS.Version != "" {
		fmt.Fprintln(w, "\n"+p(r.TLS.Summary()))
	} else if r.TLS != nil && r.TLS.VerifyReason != "" {
		fmt.Fprintln(w, "\nTLS: certificate verification failed ("+r.TLS.VerifyReason+"): "+p(r.TLS.VerifyError))
	}
	if r.MessageID != "" {
		fmt.Fprintln(w, "Message-ID: "+p(r.MessageID))
	}
	if x := r.Explanation; x != nil && r.Exit != check.ExitOK {
		fmt.Fprintln(w)
		code := x.Code
		if x.EnhancedCode != "" {
			code += " " + x.EnhancedCode
		}
		fmt.Fprint(w, wrapText("Why: "+p(code)+" at "+p(x.Step)+": "+p(x.Summary), 80, "     "))
		if len(x.Causes) > 0 {
			fmt.Fprintln(w, "Likely causes:")
			for _, c := range x.Causes[:min(3, len(x.Causes))] {
				fmt.Fprint(w, wrapText("  - "+p(c), 80, "    "))
			}
		}
		if len(x.NextSteps) > 0 {
			fmt.Fprintln(w, "Next steps:")
			for _, c := range x.NextSteps[:min(3, len(x.NextSteps))] {
				fmt.Fprint(w, wrapText("  - "+p(c), 80, "    "))
			}
		}
	}
	fmt.Fprintln(w)
	if r.Exit == check.ExitOK {
		fmt.Fprintln(w, "Result: ✓ OK: every step succeeded (exit 0)")
		return
	}
	word := map[int]string{check.ExitRefused: "REFUSED", check.ExitUsage: "USAGE ERROR", check.ExitUnreachable: "UNREACHABLE"}[r.Exit]
	fmt.Fprintf(w, "Result: ✗ %s: %s (exit %d)\n", word, p(r.Error), r.Exit)
}

func hasBothFamilies(ms []check.MXSummary) bool {
	v4, v6 := false, false
	for _, m := range ms {
		v4 = v4 || m.IPv4 != ""
		v6 = v6 || m.IPv6 != ""
	}
	return v4 && v6
}

func familyVerdict(v string) string {
	if v == "" {
		return "-"
	}
	return hostVerdict(v)
}

func recipientVerdict(v string) string {
	switch v {
	case "accepted":
		return "✓ accepted"
	case check.VerdictNotTried:
		return "- not tried"
	case check.VerdictDeferred:
		return "✗ deferred (temporary)"
	}
	return "✗ " + v
}

// printCaps shows the capabilities before and after STARTTLS side by
// side, with a marker for what changed: "+" only after, "-" only before,
// "~" different parameters.
func printCaps(w io.Writer, r *check.Result) {
	if len(r.CapsAfter) == 0 {
		return
	}
	p := transcript.PrintableString
	d := r.CapsDiff
	if d == nil {
		d = check.DiffCaps(r.CapsBefore, r.CapsAfter)
	}
	mark := map[string]string{}
	for _, l := range d.Added {
		mark[capKey(l)] = "+"
	}
	for _, l := range d.Removed {
		mark[capKey(l)] = "-"
	}
	for _, c := range d.Changed {
		mark[c.Keyword] = "~"
	}
	before := map[string]string{}
	for _, l := range r.CapsBefore {
		if _, ok := before[capKey(l)]; !ok {
			before[capKey(l)] = l
		}
	}
	after := map[string]string{}
	for _, l := range r.CapsAfter {
		if _, ok := after[capKey(l)]; !ok {
			after[capKey(l)] = l
		}
	}
	var keys []string
	seen := map[string]bool{}
	for _, l := range append(append([]string(nil), r.CapsBefore...), r.CapsAfter...) {
		if k := capKey(l); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	fmt.Fprintln(w, "\nCapabilities:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  \tBEFORE STARTTLS\tAFTER STARTTLS")
	for _, k := range keys {
		m := mark[k]
		if m == "" {
			m = " "
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", m, checkClip(p(orDash(before[k])), 36), checkClip(p(orDash(after[k])), 36))
	}
	tw.Flush()
	if d.Empty() {
		fmt.Fprintln(w, "  (no change)")
		return
	}
	var parts []string
	for _, l := range d.Added {
		parts = append(parts, "+"+p(l))
	}
	for _, l := range d.Removed {
		parts = append(parts, "-"+p(l))
	}
	for _, c := range d.Changed {
		parts = append(parts, "~"+p(c.Before)+" → "+p(c.After))
	}
	fmt.Fprint(w, wrapText("  Changed: "+strings.Join(parts, "; "), 80, "    "))
}

func capKey(l string) string {
	f := strings.Fields(l)
	if len(f) == 0 {
		return ""
	}
	return strings.ToUpper(f[0])
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// wrapText wraps s at width columns (counted in runes), indenting the
// continuation lines, and ends it with a newline.
func wrapText(s string, width int, indent string) string {
	var b strings.Builder
	lead := s[:len(s)-len(strings.TrimLeft(s, " "))]
	b.WriteString(lead)
	line := len(lead)
	for i, word := range strings.Fields(s) {
		n := len([]rune(word))
		if i > 0 {
			if line+1+n > width {
				b.WriteString("\n" + indent)
				line = len([]rune(indent))
			} else {
				b.WriteByte(' ')
				line++
			}
		}
		b.WriteString(word)
		line += n
	}
	b.WriteByte('\n')
	return b.String()
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
	case check.VerdictDeferred:
		return "✗ deferred (temporary)"
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

// domainPlaceholder in --to and --from is replaced by each domain of a
// batch, so that "postmaster@{domain}" probes every domain's postmaster.
const domainPlaceholder = "{domain}"

// readDomains reads a --domains list: one domain per line, "#" starts a
// comment, blank lines are ignored, duplicates are checked once. Every
// line is validated before anything is checked, so that a typo is
// reported with its line number instead of as a failed domain.
func readDomains(r io.Reader, name string) ([]string, error) {
	var out, bad []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		d, err := addr.ParseDomain(line)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s:%d: %q: %v", name, n, transcript.PrintableString(line), err))
			continue
		}
		key := strings.ToLower(d.ASCII)
		if !seen[key] {
			seen[key] = true
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(bad) > 0 {
		if len(bad) > 10 {
			bad = append(bad[:10], fmt.Sprintf("... and %d more", len(bad)-10))
		}
		return nil, errors.New("bad domain names:\n  " + strings.Join(bad, "\n  "))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s lists no domain", name)
	}
	return out, nil
}

// exitRank orders exit statuses for a batch: unreachable is worst, then
// refused, then OK (usage errors are caught before anything runs).
func exitRank(code int) int {
	switch code {
	case check.ExitUnreachable:
		return 3
	case check.ExitUsage:
		return 2
	case check.ExitRefused:
		return 1
	}
	return 0
}

// checkIsTerminal reports whether w is a terminal (for the progress bar).
func checkIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// batchProgress draws a one-line progress bar on a terminal, redrawn in
// place with a carriage return (no full-screen program is needed).
type batchProgress struct {
	w     io.Writer
	total int
}

// progressBar renders done/total as a bar of width cells.
func progressBar(done, total, width int) string {
	full := 0
	if total > 0 {
		full = done * width / total
	}
	return "[" + strings.Repeat("█", full) + strings.Repeat("░", width-full) + "]"
}

func (b *batchProgress) update(done int, last string) {
	if b == nil {
		return
	}
	fmt.Fprintf(b.w, "\r%s %d/%d %s\x1b[K", progressBar(done, b.total, 30), done, b.total, checkClip(transcript.PrintableString(last), 30))
}

func (b *batchProgress) clear() {
	if b != nil {
		fmt.Fprint(b.w, "\r\x1b[K")
	}
}

// runBatch checks every domain of --domains, --parallel at a time, then
// prints a summary table (or one JSON object per line, in input order, as
// soon as each is known) and exits with the worst status.
func runBatch(ctx context.Context, stdout, stderr io.Writer, o *checkOptions, opts check.Options, format transcript.Format) error {
	var in io.Reader
	name := o.domainsFile
	if name == "-" {
		in, name = o.stdin, "standard input"
		if in == nil {
			in = os.Stdin
		}
	} else {
		f, err := os.Open(o.domainsFile)
		if err != nil {
			return usageErr("--domains: %v", err)
		}
		defer f.Close()
		in = f
	}
	domains, err := readDomains(in, name)
	if err != nil {
		return usageErr("--domains: %v", err)
	}
	probe := opts
	probe.From = strings.ReplaceAll(opts.From, domainPlaceholder, "example.com")
	probe.To = nil
	for _, t := range opts.To {
		probe.To = append(probe.To, strings.ReplaceAll(t, domainPlaceholder, "example.com"))
	}
	if err := check.ValidateSMTP(probe); err != nil {
		return usageErr("%v", err)
	}
	var bar *batchProgress
	if checkIsTerminal(stderr) {
		bar = &batchProgress{w: stderr, total: len(domains)}
		bar.update(0, "")
	}
	results := make([]*check.Result, len(domains))
	var (
		mu   sync.Mutex
		done int
		next int // the first result not yet printed as JSON
	)
	enc := json.NewEncoder(stdout)
	sem := make(chan struct{}, o.parallel)
	var wg sync.WaitGroup
	for i, d := range domains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			var r *check.Result
			if ctx.Err() != nil {
				r = &check.Result{Protocol: "smtp", Server: d, Domain: d, Exit: check.ExitUnreachable, ErrorKind: string(wire.KindCanceled), Error: "not checked: " + ctx.Err().Error()}
			} else {
				o := opts
				o.Transcript = nil
				o.From = strings.ReplaceAll(o.From, domainPlaceholder, d)
				o.To = make([]string, len(opts.To))
				for j, t := range opts.To {
					o.To[j] = strings.ReplaceAll(t, domainPlaceholder, d)
				}
				r = check.RunDomain(ctx, d, o)
				<-sem
			}
			r.Domain = d
			mu.Lock()
			defer mu.Unlock()
			results[i] = r
			done++
			bar.update(done, d)
			if o.json {
				for next < len(results) && results[next] != nil {
					if err := enc.Encode(results[next]); err != nil {
						fmt.Fprintf(stderr, "mailflow: write JSON: %v\n", err)
					}
					next++
				}
			}
		}()
	}
	wg.Wait()
	bar.clear()
	worst := check.ExitOK
	for _, r := range results {
		if exitRank(r.Exit) > exitRank(worst) {
			worst = r.Exit
		}
	}
	if !o.json {
		printBatch(stdout, results, worst)
	}
	if o.transcript != "" {
		ts := transcript.NewStore()
		if opts.Password != "" {
			ts.AddSecret(opts.Password)
		}
		for _, r := range results {
			ts.Notef(transcript.Info, "dns", "mx", "mailflow check of "+r.Domain)
			if r.Transcript == nil {
				continue
			}
			for _, e := range r.Transcript.Entries() {
				e.Seq, e.Elapsed = 0, 0
				ts.Append(e)
			}
		}
		meta := transcript.Meta{Title: fmt.Sprintf("SMTP check of %d domains", len(results)), Target: o.domainsFile}
		if err := transcript.WriteFileAtomic(o.transcript, format, meta, ts.Entries(), true); err != nil {
			fmt.Fprintf(stderr, "mailflow: %v\n", err)
			if worst == check.ExitOK {
				return withCode(exitUsage, nil)
			}
		}
	}
	if worst != check.ExitOK {
		return withCode(worst, nil)
	}
	return nil
}

// batchVerdict is a domain's verdict in one word.
func batchVerdict(r *check.Result) string {
	switch {
	case r.Exit == check.ExitOK:
		return "✓ ok"
	case r.Exit == check.ExitUnreachable:
		return "✗ unreachable"
	case r.Exit == check.ExitUsage:
		return "✗ bad input"
	case r.ErrorKind == "deferred" || r.Explanation != nil && strings.HasPrefix(r.Explanation.Code, "4"):
		return "✗ deferred"
	}
	return "✗ refused"
}

// bestHost names the MX host the result comes from.
func bestHost(r *check.Result) string {
	for _, h := range r.Hosts {
		if h.Address != "" && h.Address == r.Address {
			return h.Host
		}
	}
	if r.Address != "" {
		return r.Address
	}
	return "-"
}

// deciding returns the reply that decided the result: the failing one,
// or the last reply before RSET/QUIT on success.
func deciding(r *check.Result) string {
	var last string
	for _, s := range r.Steps {
		if s.Skipped {
			continue
		}
		if !s.OK {
			if len(s.Reply) > 0 {
				return s.Reply[0]
			}
			return s.Err
		}
		if len(s.Reply) > 0 && s.Name != "quit" && s.Name != "rset" {
			last = s.Reply[0]
		}
	}
	if last == "" && r.Error != "" {
		return r.Error
	}
	return last
}

func printBatch(w io.Writer, results []*check.Result, worst int) {
	p := transcript.PrintableString
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DOMAIN\tVERDICT\tBEST HOST\tREPLY\tTIME")
	count := map[string]int{}
	for _, r := range results {
		v := batchVerdict(r)
		count[strings.TrimLeft(v, "✓✗ ")]++
		t := checkRTT(time.Duration(r.ElapsedMs * float64(time.Millisecond)))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p(r.Domain), v, p(bestHost(r)), checkClip(p(deciding(r)), 60), t)
	}
	tw.Flush()
	var parts []string
	for _, k := range []string{"ok", "refused", "deferred", "unreachable", "bad input"} {
		if count[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[k], k))
		}
	}
	fmt.Fprintf(w, "\n%d domains: %s (exit %d)\n", len(results), strings.Join(parts, ", "), worst)
}

// shownCommands are the command lines of --show-commands.
type shownCommands struct {
	Swaks   string   `json:"swaks,omitempty"`
	OpenSSL string   `json:"openssl"`
	Curl    string   `json:"curl"`
	Notes   []string `json:"notes,omitempty"`
}

// shq quotes s for a POSIX shell.
func shq(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// dq quotes s inside double quotes, so that a "$VAR" next to it still
// expands.
func dq(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`")
	return r.Replace(s)
}

// equivalentCommands builds swaks, openssl s_client and curl command
// lines for the test that was run, so that it can be reproduced with
// common tools. The password is never included: it is referred to as
// "$MAILFLOW_PASSWORD".
func equivalentCommands(o *checkOptions, opts check.Options, domain string, res *check.Result) *shownCommands {
	proto := strings.ToLower(o.protocol)
	defPort := map[string][2]int{"smtp": {25, 465}, "pop3": {110, 995}, "imap": {143, 993}}[proto]
	port := defPort[0]
	if opts.TLS == wire.TLSImplicit {
		port = defPort[1]
	}
	if o.port > 0 {
		port = o.port
	}
	host := ""
	if o.server != "" {
		h, pt, err := addr.ParseHostPort(o.server, port)
		if err == nil {
			host, port = h, pt
		}
	} else {
		for _, h := range res.Hosts {
			if h.Address == res.Address || host == "" {
				host = h.Host
				if h.Address == res.Address {
					break
				}
			}
		}
		if host == "" {
			host = domain
		}
	}
	hp := net.JoinHostPort(host, strconv.Itoa(port))
	c := &shownCommands{}
	if domain != "" {
		c.Notes = append(c.Notes, "the lines below talk to "+host+", the MX host the check's result comes from")
	}
	quit := opts.QuitAfter
	if quit == "" && !opts.Send {
		quit = "rcpt"
	}

	// swaks (SMTP only).
	if proto == "smtp" {
		a := []string{"swaks", "--server", shq(hp)}
		switch opts.TLS {
		case wire.TLSStartTLS:
			a = append(a, "--tls")
		case wire.TLSImplicit:
			a = append(a, "--tls-on-connect")
		}
		if opts.TLS == wire.TLSStartTLS || opts.TLS == wire.TLSImplicit {
			if !o.insecure {
				a = append(a, "--tls-verify")
			}
			if o.caFile != "" {
				a = append(a, "--tls-ca-path", shq(o.caFile))
			}
		}
		if o.helo != "" {
			a = append(a, "--ehlo", shq(o.helo))
		}
		from := o.from
		if from == "" {
			from = "<>"
		}
		a = append(a, "--from", shq(from))
		to := strings.Join(o.to, ",")
		if to == "" {
			to = "postmaster@" + strings.TrimSuffix(firstNonEmpty(domain, host), ".")
			c.Notes = append(c.Notes, "swaks needs a recipient even when it quits before RCPT; "+to+" is a placeholder")
		}
		a = append(a, "--to", shq(to))
		if o.user != "" {
			mech := o.authMech
			if mech == "" {
				mech = "PLAIN"
			}
			a = append(a, "--auth", shq(strings.ToUpper(mech)), "--auth-user", shq(o.user), "--auth-password", `"$`+passwordEnv+`"`)
		}
		switch quit {
		case "connect", "banner":
			a = append(a, "--quit-after", "CONNECT")
		case "ehlo":
			a = append(a, "--quit-after", "FIRST-HELO")
		case "tls":
			a = append(a, "--quit-after", "HELO")
		case "auth":
			a = append(a, "--quit-after", "AUTH")
		case "mail":
			a = append(a, "--quit-after", "MAIL")
		case "rcpt":
			a = append(a, "--quit-after", "RCPT")
		case "data":
			a = append(a, "--drop-after", "DATA")
		}
		if quit == "connect" {
			c.Notes = append(c.Notes, "swaks always reads the banner; mailflow's --quit-after connect closes before it")
		}
		if o.ipv4 {
			a = append(a, "-4")
		}
		if o.ipv6 {
			a = append(a, "-6")
		}
		a = append(a, "--timeout", shq(fmt.Sprintf("%ds", int(o.timeout.Seconds()))))
		if o.socks5 != "" {
			h, p, _ := net.SplitHostPort(hp)
			a = append(a[:1], append([]string{"--pipe", shq(fmt.Sprintf("nc -X 5 -x %s %s %s", o.socks5, h, p))}, a[3:]...)...)
		}
		var dsn []string
		if o.notify != "" {
			dsn = append(dsn, "NOTIFY="+strings.ToUpper(o.notify))
		}
		if o.ret != "" {
			dsn = append(dsn, "RET="+strings.ToUpper(o.ret))
		}
		if o.envid != "" {
			dsn = append(dsn, "ENVID")
		}
		dsn = append(dsn, o.mailParams...)
		dsn = append(dsn, o.rcptParams...)
		if len(dsn) > 0 {
			c.Notes = append(c.Notes, "swaks and curl have no option for these MAIL/RCPT parameters, left out: "+strings.Join(dsn, ", "))
		}
		c.Swaks = strings.Join(a, " ")
	}

	// openssl s_client: the TLS side.
	a := []string{"openssl", "s_client", "-connect", shq(hp)}
	if opts.TLS != wire.TLSImplicit {
		a = append(a, "-starttls", proto)
	}
	sni := host
	if opts.TLSOptions.ServerName != "" {
		sni = opts.TLSOptions.ServerName
	}
	if net.ParseIP(sni) == nil {
		a = append(a, "-servername", shq(sni))
	}
	if o.caFile != "" {
		a = append(a, "-CAfile", shq(o.caFile))
	}
	if !o.insecure {
		a = append(a, "-verify_return_error")
	}
	if o.ipv4 {
		a = append(a, "-4")
	}
	if o.ipv6 {
		a = append(a, "-6")
	}
	a = append(a, "-crlf")
	c.OpenSSL = strings.Join(a, " ")
	if opts.TLS == wire.TLSNone || opts.TLS == "" {
		c.Notes = append(c.Notes, "the check ran without TLS; the openssl line shows what STARTTLS would give")
	}
	if o.socks5 != "" {
		c.Notes = append(c.Notes, "openssl s_client cannot use a SOCKS5 proxy by itself; run it under proxychains4 or from the far end of the tunnel")
	}

	// curl.
	scheme := proto
	if opts.TLS == wire.TLSImplicit {
		scheme += "s"
	}
	url := scheme + "://" + hp
	if proto == "smtp" {
		url += "/" + firstNonEmpty(o.helo, smtp.DefaultHelo())
	}
	a = []string{"curl", "-v", "--url", shq(url)}
	if opts.TLS == wire.TLSStartTLS {
		a = append(a, "--ssl-reqd")
	}
	if o.caFile != "" {
		a = append(a, "--cacert", shq(o.caFile))
	}
	if o.insecure {
		a = append(a, "--insecure")
	}
	if o.ipv4 {
		a = append(a, "-4")
	}
	if o.ipv6 {
		a = append(a, "-6")
	}
	if o.socks5 != "" {
		a = append(a, "--socks5-hostname", shq(o.socks5))
	}
	a = append(a, "--connect-timeout", strconv.Itoa(max(1, int(o.connectTimeout.Seconds()))))
	if o.user != "" {
		a = append(a, "--user", `"`+dq(o.user)+`:$`+passwordEnv+`"`)
		if o.authMech != "" {
			a = append(a, "--login-options", shq("AUTH="+strings.ToUpper(o.authMech)))
		}
	}
	if proto == "smtp" {
		if o.send {
			a = append(a, "--mail-from", shq(strings.Trim(o.from, "<>")))
			for _, t := range o.to {
				a = append(a, "--mail-rcpt", shq(t))
			}
			a = append(a, "--upload-file", "message.eml")
			c.Notes = append(c.Notes, "curl sends the file message.eml as the message: write a short test message into it first")
		} else {
			a = append(a, "--request", "NOOP")
			c.Notes = append(c.Notes, "curl cannot stop before DATA; its line checks connect, EHLO, TLS and AUTH, then sends NOOP")
		}
	}
	c.Curl = strings.Join(a, " ")
	return c
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func printCommands(w io.Writer, c *shownCommands) {
	p := transcript.PrintableString
	fmt.Fprintln(w, "\nThe same test with other tools:")
	for _, n := range c.Notes {
		fmt.Fprint(w, wrapText("  # "+p(n), 80, "  # "))
	}
	if c.Swaks != "" {
		fmt.Fprintln(w, "  "+p(c.Swaks))
	}
	fmt.Fprintln(w, "  "+p(c.OpenSSL))
	fmt.Fprintln(w, "  "+p(c.Curl))
}
