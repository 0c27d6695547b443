package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strconv"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/spf13/cobra"

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
}

// newBackend builds the TUI's session backend (backend.go).
var newBackend func(cfg tuiBackendConfig) tui.Backend

// exportTranscript writes an export from the TUI (backend.go sets it to
// transcript.WriteFileAtomic). Nil makes the export dialog report an
// error.
var exportTranscript func(path, format string, meta transcript.Meta, entries []transcript.Entry) error

type tuiOptions struct {
	server, from, to, helo, protocol, tls, resolver, caFile, user string
	port                                                          int
	insecure, auth                                                bool
}

func setupTUIRoot(root *cobra.Command) {
	o := &tuiOptions{}
	root.Use = "mailflow [DOMAIN]"
	root.Args = cobra.MaximumNArgs(1)
	root.Long = "With a DOMAIN (or --server), mailflow opens a full-screen troubleshooter: " +
		"the MX picture, a live transcript, a reply explainer, a step-by-step wizard and a failure checklist."
	root.Example = `  mailflow example.com --from me@example.org --to user@example.com
  mailflow --server mail.example.com:587 --tls starttls --protocol smtp
  mailflow --server 127.0.0.1:1110 --protocol pop3 --tls none
  NO_COLOR=1 MAILFLOW_DEBUG=/tmp/mailflow.log mailflow example.com`
	f := root.Flags()
	f.StringVar(&o.server, "server", "", "connect to `HOST:PORT` instead of the domain's MX hosts")
	f.StringVar(&o.from, "from", "", "envelope sender for MAIL FROM")
	f.StringVar(&o.to, "to", "", "envelope recipient for RCPT TO")
	f.StringVar(&o.helo, "helo", "", "name to give in EHLO/HELO (default: this host's name)")
	f.StringVar(&o.protocol, "protocol", "smtp", "protocol to speak: smtp, pop3 or imap")
	f.IntVar(&o.port, "port", 0, "port to use when --server has none (default: the protocol's)")
	f.StringVar(&o.tls, "tls", "starttls", "TLS mode: starttls, implicit or none")
	f.StringVar(&o.resolver, "resolver", "", "DNS server `HOST:PORT` (default: the system's)")
	f.StringVar(&o.caFile, "ca-file", "", "PEM file with extra CA certificates")
	f.BoolVar(&o.insecure, "insecure", false, "do not stop on TLS verification failures (they are still shown)")
	f.StringVar(&o.user, "user", "", "login name for SMTP AUTH, POP3 and IMAP (the password is asked for in the wizard)")
	f.BoolVar(&o.auth, "auth", false, "include AUTH LOGIN in the SMTP procedure (needs --user)")
	root.RunE = func(cmd *cobra.Command, args []string) error {
		return runTUI(cmd.Context(), args, o)
	}
}

// tuiParams checks the flags and turns them into procedure parameters.
func tuiParams(args []string, o *tuiOptions) (tui.Params, error) {
	p := tui.Params{Protocol: o.protocol, From: o.from, To: o.to, HELO: o.helo, TLS: o.tls, Server: o.server, User: o.user, Auth: o.auth}
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
	if p.Domain == "" && p.Server == "" {
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
	opts := []tea.ProgramOption{tea.WithContext(ctx)}
	if noColor(getenv) {
		opts = append(opts, tea.WithColorProfile(colorprofile.ASCII))
	}
	return opts
}

func runTUI(ctx context.Context, args []string, o *tuiOptions) error {
	p, err := tuiParams(args, o)
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
	m := tui.New(tui.Options{
		Backend: newBackend(tuiBackendConfig{Resolver: o.resolver, CAFile: o.caFile, Insecure: o.insecure, HELO: p.HELO}),
		Params:  p,
		Export:  exportTranscript,
		OnQuit:  cancel,
		Context: ctx,
	})
	if _, err := tea.NewProgram(m, tuiProgramOptions(parent, os.Getenv)...).Run(); err != nil {
		return fmt.Errorf("tui: %w", err)
	}
	return nil
}
