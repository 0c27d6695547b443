package main

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/mailflow/mailflow/diag/addr"
	"github.com/mailflow/mailflow/session/check"
	"github.com/mailflow/mailflow/session/smtp"
	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// "mailflow check --show-commands": the equivalent swaks, openssl s_client
// and curl command lines for what was run.

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
