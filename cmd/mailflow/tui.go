package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/miekg/dns"
	"github.com/spf13/cobra"

	"github.com/mailflow/mailflow/internal/config"
	"github.com/mailflow/mailflow/session/lab"
	"github.com/mailflow/mailflow/session/smtp"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/tui"
)

func init() { setupRoot = setupTUIRoot }

// tuiBackendConfig is what the session backend needs from the root flags
// beyond the procedure's parameters.
type tuiBackendConfig struct {
	Resolver string // DNS server host:port, empty for the system's
	CAFile   string // extra trust anchors for TLS verification
	Insecure bool   // record verification failures instead of stopping
	// RootCAs replaces the system roots (the lab's CA).
	RootCAs *x509.CertPool
	// HostAddr, when set, says which HOST:PORT plays a mail host's port
	// 25 (the lab maps its MX names to loopback ports). It is asked at
	// each connect, so a scenario switch that moves hosts is followed.
	HostAddr func(host string) (string, bool)
	// HELO is the client's default EHLO name.
	HELO string
	// StateDir, when set, replaces $XDG_STATE_HOME/mailflow for the
	// session journals: mailflow serve gives each SSH user their own
	// (the process environment is shared by all users).
	StateDir string
}

// newBackend builds the TUI's session backend (backend.go).
var newBackend func(cfg tuiBackendConfig) tui.Backend

// exportTranscript writes an export from the TUI (backend.go sets it to
// transcript.WriteFileAtomic). Nil makes the export dialog report an
// error.
var exportTranscript func(path, format string, meta transcript.Meta, entries []transcript.Entry) error

type tuiOptions struct {
	server, from, helo, protocol, tls, caFile, user string
	// to and resolver are lists so that the configuration file's lists
	// fill them; the procedure uses the first of each.
	to, resolver   []string
	port           int
	insecure, auth bool
}

func setupTUIRoot(root *cobra.Command) {
	o := &tuiOptions{}
	root.Use = "mailflow [DOMAIN]"
	root.Args = cobra.MaximumNArgs(1)
	root.Long = "With a DOMAIN (or --server), mailflow opens a full-screen troubleshooter: " +
		"the MX picture, a live transcript, a reply explainer, a step-by-step wizard and a failure checklist.\n\n" +
		"With neither, it opens a start screen that asks for a domain or HOST:PORT and offers the built-in lab " +
		"(key L), which it suggests when the network looks unusable. That check sends one DNS query to the " +
		"system's resolvers (at most 300 ms); MAILFLOW_NETCHECK=off skips it.\n\n" +
		"Defaults (sender, recipient, HELO name, resolver, CA file, a --profile's server) come from the " +
		"configuration file (see `mailflow config`); flags win. Only the first of several recipients or resolvers is used."
	root.Example = `  mailflow
  mailflow example.com --from me@example.org --to user@example.com
  mailflow --profile office
  mailflow --server mail.example.com:587 --tls starttls --protocol smtp
  mailflow --server 127.0.0.1:1110 --protocol pop3 --tls none
  NO_COLOR=1 MAILFLOW_DEBUG=/tmp/mailflow.log mailflow example.com`
	f := root.Flags()
	f.StringVar(&o.server, "server", "", "connect to `HOST:PORT` instead of the domain's MX hosts")
	f.StringVar(&o.from, "from", "", "envelope sender for MAIL FROM")
	f.StringArrayVar(&o.to, "to", nil, "envelope recipient for RCPT TO")
	f.StringVar(&o.helo, "helo", "", "name to give in EHLO/HELO (default: this host's name)")
	f.StringVar(&o.protocol, "protocol", "smtp", "protocol to speak: smtp, pop3 or imap")
	f.IntVar(&o.port, "port", 0, "port to use when --server has none (default: the protocol's)")
	f.StringVar(&o.tls, "tls", "starttls", "how to use TLS: starttls, implicit or none")
	f.StringArrayVar(&o.resolver, "resolver", nil, "name server `HOST:PORT` (default: the system's)")
	f.StringVar(&o.caFile, "ca-file", "", "file of extra CA certificates (PEM) to trust")
	f.BoolVar(&o.insecure, "insecure", false, "do not stop on TLS verification failures (they are still shown)")
	f.StringVar(&o.user, "user", "", "login name for SMTP AUTH, POP3 and IMAP (the password is asked for in the wizard)")
	f.BoolVar(&o.auth, "auth", false, "include AUTH LOGIN in the SMTP procedure (needs --user)")
	config.AddFlags(f)
	root.RunE = func(cmd *cobra.Command, args []string) error {
		// The configuration file fills every flag not given here.
		if _, err := config.FromFlags(cmd.Flags()); err != nil {
			return usageErr("%v", err)
		}
		return runTUI(cmd.Context(), args, o)
	}
}

func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

// tuiParams checks the flags and turns them into procedure parameters.
func tuiParams(args []string, o *tuiOptions) (tui.Params, error) { return tuiParamsFor(args, o, false) }

// tuiParamsFor is tuiParams; with startScreen, an SMTP run may lack a
// domain and a server (the start screen asks for them).
func tuiParamsFor(args []string, o *tuiOptions, startScreen bool) (tui.Params, error) {
	p := tui.Params{Protocol: o.protocol, From: o.from, To: first(o.to), HELO: o.helo, TLS: o.tls, Server: o.server, User: o.user, Auth: o.auth}
	if p.HELO == "" {
		p.HELO = smtp.DefaultHelo()
	}
	if len(args) > 0 {
		p.Domain = args[0]
	}
	switch o.protocol {
	case "smtp", "pop3", "imap":
	default:
		return p, usageErr("--protocol must be smtp, pop3 or imap, not %q", o.protocol)
	}
	switch o.tls {
	case "starttls", "implicit", "none":
	default:
		return p, usageErr("--tls must be starttls, implicit or none, not %q", o.tls)
	}
	if o.port < 0 || o.port > 65535 {
		return p, usageErr("--port %d is out of range", o.port)
	}
	if p.Server != "" && o.port > 0 {
		if _, _, err := net.SplitHostPort(p.Server); err != nil {
			p.Server = net.JoinHostPort(p.Server, strconv.Itoa(o.port))
		}
	}
	if p.Domain == "" && p.Server == "" && !(startScreen && o.protocol == "smtp") {
		return p, usageErr("give a DOMAIN or --server HOST:PORT")
	}
	if o.auth && o.user == "" {
		return p, usageErr("--auth needs --user")
	}
	if o.protocol != "smtp" && (p.Server == "" || o.user == "") {
		return p, usageErr("--protocol %s needs --server HOST:PORT and --user", o.protocol)
	}
	return p, nil
}

// noColor reports whether NO_COLOR asks for no colour. no-color.org says
// any non-empty value counts; colorprofile v0.4.3 parses the value as a
// boolean instead, so NO_COLOR=yes would keep colour without this check.
func noColor(getenv func(string) string) bool { return getenv("NO_COLOR") != "" }

// tuiProgramOptions returns the Bubble Tea options that depend on the
// environment.
func tuiProgramOptions(ctx context.Context, getenv func(string) string) []tea.ProgramOption {
	return []tea.ProgramOption{tea.WithContext(ctx), tea.WithColorProfile(tuiColorProfile(getenv))}
}

// tuiColorProfile is ASCII under NO_COLOR, else the profile lipgloss
// detected at start. Passing it on saves bubbletea a second detection,
// which inside tmux runs `tmux info` again (about 10 ms of start-up).
func tuiColorProfile(getenv func(string) string) colorprofile.Profile {
	if noColor(getenv) {
		return colorprofile.ASCII
	}
	return lipgloss.Writer.Profile
}

func runTUI(ctx context.Context, args []string, o *tuiOptions) error {
	start := len(args) == 0 && o.server == ""
	if start && !stdinIsTerminal() {
		// Never a prompt without a terminal.
		return usageErr("give a DOMAIN or --server HOST:PORT: the start screen needs a terminal (use `mailflow check` in scripts)")
	}
	p, err := tuiParamsFor(args, o, start)
	if err != nil {
		return err
	}
	if !stdinIsTerminal() {
		return usageErr("the full-screen view needs a terminal; use `mailflow check` in scripts")
	}
	if newBackend == nil {
		return fmt.Errorf("tui: the session backend is not wired into this build yet; use `mailflow check`")
	}
	if path := os.Getenv("MAILFLOW_DEBUG"); path != "" {
		// The TUI owns stdout: debug logging goes to a file only.
		f, err := tea.LogToFile(path, "mailflow")
		if err != nil {
			return fmt.Errorf("tui: open debug log %s: %w", path, err)
		}
		defer f.Close()
	}
	// The model's context ends when the user quits (OnQuit); the
	// program keeps the parent's, so quitting is not a "killed" error.
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	labs := &labSet{}
	defer labs.closeAll()
	opts := rootTUIOptions(ctx, p, tuiBackendConfig{Resolver: first(o.resolver), CAFile: o.caFile, Insecure: o.insecure, HELO: p.HELO}, labs, os.Getenv)
	opts.OnQuit = cancel
	m := tui.New(opts)
	if _, err := tea.NewProgram(m, tuiProgramOptions(parent, os.Getenv)...).Run(); err != nil {
		return fmt.Errorf("tui: %w", err)
	}
	return nil
}

// rootTUIOptions are the options of the root program: the procedure's
// parameters and, for the start screen, the network check and a lab
// started on demand (kept in labs, which the caller closes).
func rootTUIOptions(ctx context.Context, p tui.Params, cfg tuiBackendConfig, labs *labSet, getenv func(string) string) tui.Options {
	o := tui.Options{
		Backend:   newBackend(cfg),
		Params:    p,
		Export:    exportTranscript,
		Context:   ctx,
		ExportDir: cfg.StateDir,
		StartLab: func(ctx context.Context) (tui.Options, error) {
			l, err := labs.start(ctx)
			if err != nil {
				return tui.Options{}, err
			}
			lo := labTUIOptions(ctx, l, nil)
			lcfg := labBackendConfig(l)
			lcfg.StateDir = cfg.StateDir
			lo.Backend = newBackend(lcfg)
			lo.ExportDir = cfg.StateDir
			return lo, nil
		},
	}
	if getenv("MAILFLOW_NETCHECK") != "off" {
		o.CheckNetwork = defaultNetProbe().check
	}
	return o
}

// labSet holds the labs started from the start screen; closeAll stops
// them, and a lab that finishes starting after that is stopped at once.
type labSet struct {
	mu     sync.Mutex
	labs   []*lab.Lab
	closed bool
	// shared, when set, is offered instead of starting a lab (mailflow
	// serve --lab); it is not closed here.
	shared *lab.Lab
}

func (s *labSet) start(ctx context.Context) (*lab.Lab, error) {
	if s.shared != nil {
		return s.shared, nil
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	l, err := lab.Start(sctx, lab.Config{})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		l.Close()
		return nil, errors.New("lab: mailflow is quitting")
	}
	s.labs = append(s.labs, l)
	return l, nil
}

func (s *labSet) closeAll() {
	s.mu.Lock()
	labs := s.labs
	s.labs, s.closed = nil, true
	s.mu.Unlock()
	for _, l := range labs {
		l.Close()
	}
}

// netProbe tells quickly whether the network is usable: a default route
// exists (Linux: /proc/net/route and /proc/net/ipv6_route; elsewhere
// this part is skipped) and one of resolv.conf's servers answers a query
// for the root's NS records within the timeout. It never blocks longer
// than the timeout, and the start screen runs it in a Cmd.
type netProbe struct {
	routeFiles []string
	resolvConf string
	port       string
	timeout    time.Duration
}

func defaultNetProbe() netProbe {
	return netProbe{
		routeFiles: []string{"/proc/net/route", "/proc/net/ipv6_route"},
		resolvConf: "/etc/resolv.conf", port: "53", timeout: 300 * time.Millisecond,
	}
}

// defaultRoute reports whether a default route exists, and whether the
// route tables could be read at all.
func (n netProbe) defaultRoute() (has, known bool) {
	for _, f := range n.routeFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		known = true
		for _, line := range strings.Split(string(b), "\n") {
			fs := strings.Fields(line)
			switch {
			case len(fs) > 1 && fs[1] == "00000000" && fs[0] != "Iface": // IPv4 0.0.0.0/0
				return true, true
			case len(fs) > 1 && fs[0] == strings.Repeat("0", 32) && fs[1] == "00" && fs[len(fs)-1] != "lo": // IPv6 ::/0
				return true, true
			}
		}
	}
	return false, known
}

// servers lists resolv.conf's name servers.
func (n netProbe) servers() []string {
	b, err := os.ReadFile(n.resolvConf)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		fs := strings.Fields(line)
		if len(fs) >= 2 && fs[0] == "nameserver" {
			out = append(out, fs[1])
		}
	}
	return out
}

func (n netProbe) check(ctx context.Context) error {
	if has, known := n.defaultRoute(); known && !has {
		return errors.New("no default route")
	}
	servers := n.servers()
	if len(servers) == 0 {
		return fmt.Errorf("no name server in %s", n.resolvConf)
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	// Each server reports whether it answered at all and whether the
	// answer was good: silence and a bad answer mean different things.
	type result struct{ answered, good bool }
	results := make(chan result, len(servers))
	for _, s := range servers {
		go func() {
			q := new(dns.Msg)
			q.SetQuestion(".", dns.TypeNS)
			c := &dns.Client{Net: "udp", Timeout: n.timeout}
			r, _, err := c.ExchangeContext(ctx, q, net.JoinHostPort(s, n.port))
			results <- result{answered: err == nil && r != nil, good: err == nil && r != nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0}
		}()
	}
	answered := false
	for range servers {
		select {
		case r := <-results:
			if r.good {
				return nil
			}
			answered = answered || r.answered
		case <-ctx.Done():
			return fmt.Errorf("the DNS servers did not answer within %s", n.timeout)
		}
	}
	if !answered {
		return fmt.Errorf("the DNS servers did not answer within %s", n.timeout)
	}
	return errors.New("the DNS servers could not resolve the root")
}
