package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/net/proxy"

	"github.com/mailflow/mailflow/diag/addr"
	"github.com/mailflow/mailflow/internal/config"
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
