package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailflow/mailflow/session/lab"
)

func init() { register(newLabCmd) }

// runLabTUI opens the full-screen program on a running lab. The TUI
// package sets it; while it is nil, "mailflow lab" behaves like --serve.
var runLabTUI func(ctx context.Context, l *lab.Lab) error

// stdinIsTerminal reports whether the TUI may take over the terminal;
// tests replace it.
var stdinIsTerminal = func() bool {
	fi, err := os.Stdin.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// labOptions are the flags of "mailflow lab".
type labOptions struct {
	scenario      string
	addrs         map[string]*string
	serve         bool
	json          bool
	writeCA       string
	greylistDelay time.Duration
	bannerDelay   time.Duration
}

// labEndpointFlags lists the address flags in the order help shows them.
var labEndpointFlags = []struct{ name, role string }{
	{"dns", "the name server, UDP and TCP"},
	{"smtp", "the MX role: SMTP with STARTTLS"},
	{"submission", "submission (STARTTLS, then AUTH)"},
	{"smtps", "submission over implicit TLS"},
	{"pop3", "the POP3 server (STLS)"},
	{"pop3s", "the POP3 server over implicit TLS"},
	{"imap", "the IMAP server (STARTTLS)"},
	{"imaps", "the IMAP server over implicit TLS"},
}

func newLabCmd() *cobra.Command {
	o := &labOptions{addrs: make(map[string]*string)}
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run local mail servers and DNS with injectable faults, to practise on",
		Long: `Run a complete mail system on loopback: DNS for lab.test, SMTP (MX role),
submission, SMTPS, POP3, POP3S, IMAP and IMAPS, with a throw-away CA and the
accounts kate/kate-pass and chris/chris-pass. Mail accepted over SMTP can be
read over POP3 and IMAP. Nothing is written to disk unless --write-ca asks.

--scenario injects one fault (a rejection code, a TLS problem, a DNS
layout, a silent or slow server); "--scenario list" prints them all.
Each endpoint listens on a free loopback port unless set with its flag.
DNS names hosts, not ports, so the MX list printed with the endpoints
says which address plays each exchanger's port 25.

Without --serve the lab opens in the full-screen program; with --serve it
prints the endpoints (one JSON object with --json) once they all accept
connections, then runs until interrupted.

Exit status: 0 stopped cleanly; 2 bad usage (unknown scenario, bad
address); 3 a port could not be opened.`,
		Example: `  mailflow lab
  mailflow lab --scenario list
  mailflow lab --scenario greylisted --serve
  mailflow lab --serve --json --write-ca /tmp/lab-ca.pem
  mailflow lab --serve --smtp 127.0.0.1:2525 --dns 127.0.0.1:5353
  swaks --server 127.0.0.1 --port 2525 --to kate@lab.test --tls --tls-verify --tls-ca-path /tmp/lab-ca.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLab(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.scenario, "scenario", lab.Healthy, `fault to inject, or "list" to print them`)
	for _, ep := range labEndpointFlags {
		o.addrs[ep.name] = f.String(ep.name, "", ep.role+", HOST:PORT (default: a free loopback port)")
	}
	f.BoolVar(&o.serve, "serve", false, "run headless: print the endpoints and wait for Ctrl-C")
	f.BoolVar(&o.json, "json", false, "print the endpoints (or the scenario list) as JSON")
	f.StringVar(&o.writeCA, "write-ca", "", "write the lab CA certificate (PEM) to this file")
	f.DurationVar(&o.greylistDelay, "greylist-delay", lab.DefaultGreylistDelay, "how long greylisted senders must wait before a retry is accepted")
	f.DurationVar(&o.bannerDelay, "banner-delay", lab.DefaultBannerDelay, "how long slow-banner holds back the SMTP greeting")
	return cmd
}

func runLab(ctx context.Context, w, errw io.Writer, o *labOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.scenario == "list" {
		return printScenarios(w, o.json)
	}
	if _, err := lab.LookupScenario(o.scenario); err != nil {
		return withCode(exitUsage, fmt.Errorf("%w; see --scenario list", err))
	}
	if o.greylistDelay <= 0 || o.bannerDelay <= 0 {
		return usageErr("lab: --greylist-delay and --banner-delay must be positive")
	}
	cfg := lab.Config{Scenario: o.scenario, GreylistDelay: o.greylistDelay, BannerDelay: o.bannerDelay}
	targets := map[string]*string{
		"dns": &cfg.DNS, "smtp": &cfg.SMTP, "submission": &cfg.Submission, "smtps": &cfg.SMTPS,
		"pop3": &cfg.POP3, "pop3s": &cfg.POP3S, "imap": &cfg.IMAP, "imaps": &cfg.IMAPS,
	}
	for name, v := range o.addrs {
		if *v == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(*v); err != nil {
			return usageErr("lab: --%s %q is not HOST:PORT: %v", name, *v, err)
		}
		*targets[name] = *v
	}
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	l, err := lab.Start(startCtx, cfg)
	cancel()
	if err != nil {
		return withCode(exitUnreachable, err)
	}
	defer l.Close()
	if o.writeCA != "" {
		if err := os.WriteFile(o.writeCA, l.CAPEM(), 0o644); err != nil {
			return withCode(exitUsage, fmt.Errorf("lab: write CA: %w", err))
		}
	}
	if !o.serve && runLabTUI != nil && stdinIsTerminal() {
		if err := runLabTUI(ctx, l); err != nil {
			return err
		}
		return closeLab(l)
	}
	if o.json {
		if err := json.NewEncoder(w).Encode(l.Endpoints()); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
	} else {
		printEndpoints(w, l.Endpoints(), o.writeCA)
	}
	<-ctx.Done()
	if !o.json {
		fmt.Fprintln(errw, "mailflow lab: stopping")
	}
	return closeLab(l)
}

func closeLab(l *lab.Lab) error {
	if err := l.Close(); err != nil {
		return withCode(exitRefused, err)
	}
	return nil
}

func printScenarios(w io.Writer, asJSON bool) error {
	if asJSON {
		if err := json.NewEncoder(w).Encode(lab.Scenarios()); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range lab.Scenarios() {
		fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.Description)
	}
	return tw.Flush()
}

func printEndpoints(w io.Writer, e lab.Endpoints, caFile string) {
	fmt.Fprintf(w, "mailflow lab: domain %s, scenario %s\n\n", e.Domain, e.Scenario)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	rows := []struct{ name, addr, note string }{
		{"DNS", e.DNS, "UDP and TCP; dig @HOST -p PORT lab.test MX"},
		{"SMTP", e.SMTP, "MX role, STARTTLS"},
		{"Submission", e.Submission, "STARTTLS, then AUTH PLAIN/LOGIN"},
		{"SMTPS", e.SMTPS, "submission over implicit TLS"},
		{"POP3", e.POP3, "STLS"},
		{"POP3S", e.POP3S, "implicit TLS"},
		{"IMAP", e.IMAP, "STARTTLS"},
		{"IMAPS", e.IMAPS, "implicit TLS"},
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.name, r.addr, r.note)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nMX for lab.test (each with the address that plays its port 25):")
	switch {
	case e.NullMX:
		fmt.Fprintln(w, "  MX 0 .  (null MX: the domain accepts no mail)")
	case len(e.MX) == 0:
		fmt.Fprintln(w, "  (none)")
	}
	for _, m := range e.MX {
		note := ""
		if m.Implicit {
			note = "  (no MX record: implicit MX from the A record)"
		}
		fmt.Fprintf(w, "  %d %s -> %s%s\n", m.Preference, m.Host, m.Addr, note)
	}
	fmt.Fprintln(w, "\nAccounts:")
	for _, u := range e.Users {
		fmt.Fprintf(w, "  %s / %s (%s)\n", u.Login, u.Password, u.Address)
	}
	if caFile != "" {
		fmt.Fprintf(w, "\nLab CA written to %s (use with curl --cacert, swaks --tls-ca-path).\n", caFile)
	} else {
		fmt.Fprintln(w, "\nThe lab CA is in --json output (ca_pem), or save it with --write-ca FILE.")
	}
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
}
