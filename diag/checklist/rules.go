package checklist

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// rule decides an item from evidence other than the reply's wording. It
// returns an empty Status when it has no opinion, and the generic
// reply-based judgement then applies.
type rule func(ev Evidence) (Status, string)

// bannerSlow is the greeting delay above which a deliberate delay is the
// likely explanation. Postfix postscreen waits 6 s by default and tarpits
// wait longer; a normal server greets within a second.
const bannerSlow = 5 * time.Second

// rules holds the item-specific logic, keyed by item ID. The tests check
// that every key names an item in the data.
var rules = map[string]rule{
	"connect-service-down":  connectServiceDown,
	"connect-not-listening": connectNotListening,
	"connect-wrong-port":    connectWrongPort,
	"connect-dest-firewall": connectDestFirewall,
	"connect-source-blocked": func(ev Evidence) (Status, string) {
		switch ev.Connect {
		case ConnectTimeout:
			if ev.Port == 25 {
				return Likely, fmt.Sprintf("The connection to port 25 timed out%s; many ISPs and cloud networks block outgoing port 25.", after(ev))
			}
			return Likely, fmt.Sprintf("The connection timed out%s; a firewall on your side can drop it as silently as one at the destination.", after(ev))
		case ConnectRefused:
			return Unknown, "The connection was refused, which usually comes from the destination host rather than your own network."
		}
		return connectedRulesOut(ev)
	},
	"connect-host-down": func(ev Evidence) (Status, string) {
		switch ev.Connect {
		case ConnectTimeout:
			return Likely, fmt.Sprintf("Nothing answered at all%s; a host that is off or cut off looks exactly like this.", after(ev))
		case ConnectUnreachable:
			return Likely, "The network reported the host as unreachable."
		case ConnectRefused, ConnectReset:
			return RuledOut, "The host answered (it refused or reset the connection), so it is up."
		}
		return connectedRulesOut(ev)
	},
	"connect-wrong-host": func(ev Evidence) (Status, string) {
		switch ev.Connect {
		case ConnectTimeout, ConnectUnreachable:
			return Likely, "Nothing useful answered at that address; make sure it is the MX host's current address."
		case ConnectDNSError:
			return Likely, "The host name did not resolve; it may be misspelt."
		case ConnectRefused:
			return Unknown, "A host answered but refused; it may not be the mail server you meant."
		case ConnectOK, ConnectTLSError, ConnectReset:
			return Unknown, "Something answered; compare the host name in the greeting with the MX you meant."
		}
		return Unknown, "No connection attempt has been recorded yet."
	},
	"connect-dns-wrong": connectDNSWrong,

	"banner-delay": func(ev Evidence) (Status, string) {
		switch {
		case ev.Connect != ConnectOK && ev.Connect != ConnectNone:
			return Unknown, "There was no connection, so there was no greeting to wait for."
		case ev.BannerDelay >= bannerSlow:
			return Likely, fmt.Sprintf("The greeting took %s, far longer than a server that greets at once.", round(ev.BannerDelay))
		case ev.Reply.Present():
			return RuledOut, fmt.Sprintf("The greeting arrived after %s, which is normal.", round(ev.BannerDelay))
		case ev.Closed:
			return Likely, "The server closed the connection before greeting; postscreen-style filters do this to clients that speak first or look suspicious."
		case ev.Connect == ConnectOK:
			return Unknown, "Connected, but no greeting yet: wait at least 30 seconds without typing."
		}
		return "", ""
	},

	"ehlo-invalid-domain": func(ev Evidence) (Status, string) {
		if ev.Helo != "" && !ev.Reply.Succeeded() {
			if why := heloProblem(ev.Helo); why != "" {
				return Likely, why
			}
		}
		return "", ""
	},

	"starttls-not-offered": func(ev Evidence) (Status, string) {
		switch {
		case ev.TLSActive:
			return RuledOut, "TLS is active on this connection."
		case ev.Caps.Seen && !ev.Caps.STARTTLS:
			return Likely, "The capability list has no STARTTLS."
		case ev.Caps.STARTTLS && !ev.Reply.Failed():
			return RuledOut, "The capability list offers STARTTLS."
		}
		return "", ""
	},
	"starttls-handshake":              tlsRule(TLSHandshake, "The TLS handshake failed."),
	"starttls-cert-expired":           tlsRule(TLSExpired, "The certificate check failed because the certificate has expired."),
	"starttls-cert-unknown-authority": tlsRule(TLSUnknownAuthority, "The certificate check failed: no trusted authority signed it."),
	"starttls-cert-name-mismatch":     tlsRule(TLSNameMismatch, "The certificate check failed: it does not name this host."),
	"starttls-version-mismatch": func(ev Evidence) (Status, string) {
		if ev.TLSError == TLSHandshake {
			return Unknown, "A generic handshake failure is often a TLS version or cipher mismatch; try forcing a version."
		}
		return tlsRule(TLSProtocolVersion, "The handshake failed because no TLS version was common to both sides.")(ev)
	},

	"auth-not-offered": func(ev Evidence) (Status, string) {
		switch {
		case ev.Authenticated:
			return RuledOut, "Authentication succeeded."
		case ev.Caps.Seen && len(ev.Caps.Auth) == 0 && !ev.TLSActive:
			return Likely, "The capability list has no AUTH and TLS is not active; many servers offer AUTH only after STARTTLS."
		case ev.Caps.Seen && len(ev.Caps.Auth) == 0:
			return Likely, "The capability list has no AUTH even over TLS; this port may not take submissions."
		case ev.Caps.Seen && !ev.Reply.Failed():
			return RuledOut, "The capability list offers AUTH " + strings.Join(safeMechs(ev.Caps.Auth), " ") + "."
		}
		return "", ""
	},
	"auth-mechanism": func(ev Evidence) (Status, string) {
		m := strings.ToUpper(ev.AuthMechanism)
		if ev.Authenticated {
			return RuledOut, "Authentication succeeded."
		}
		if m == "" || !ev.Caps.Seen || len(ev.Caps.Auth) == 0 {
			return "", ""
		}
		if !slices.Contains(upper(ev.Caps.Auth), m) {
			return Likely, fmt.Sprintf("You used %s but the server offers only %s.", safeMech(m), strings.Join(safeMechs(ev.Caps.Auth), " "))
		}
		if !ev.Reply.Failed() {
			return RuledOut, fmt.Sprintf("The server offers %s, the mechanism you used.", safeMech(m))
		}
		return "", ""
	},
	"auth-wrong-credentials": authenticatedRulesOut,
	"auth-account-locked":    authenticatedRulesOut,

	"mail-anonymous-refused": authenticatedRulesOut,

	"eod-too-big": func(ev Evidence) (Status, string) {
		if ev.Caps.Size > 0 && ev.MessageSize > ev.Caps.Size {
			return Likely, fmt.Sprintf("The message is %d bytes and the server's SIZE limit is %d.", ev.MessageSize, ev.Caps.Size)
		}
		return "", ""
	},

	"quit-idle-timeout": func(ev Evidence) (Status, string) {
		switch {
		case !ev.Reply.Present() && ev.Closed:
			return Likely, "The connection was already closed when QUIT was sent."
		case ev.Reply.Code == 221:
			return RuledOut, "The server answered 221, so the session was still open."
		}
		return "", ""
	},
	"quit-no-221": func(ev Evidence) (Status, string) {
		switch {
		case ev.Reply.Code == 221:
			return RuledOut, "The server said goodbye with 221."
		case ev.Reply.Present():
			return Likely, fmt.Sprintf("The server answered %s instead of 221.", ev.Reply.label())
		case ev.Closed:
			return Likely, "The connection closed without a 221."
		}
		return Unknown, "No reply to QUIT has been recorded yet."
	},

	"pop3-plaintext-disabled": func(ev Evidence) (Status, string) {
		if ev.TLSActive {
			return RuledOut, "TLS is active, so a ban on plain-text login does not apply."
		}
		return "", ""
	},
	"imap-login-disabled": func(ev Evidence) (Status, string) {
		switch {
		case ev.TLSActive:
			return RuledOut, "TLS is active, so LOGINDISABLED no longer applies."
		case ev.Caps.LoginDisabled:
			return Likely, "The capability list says LOGINDISABLED on this unencrypted connection."
		}
		return "", ""
	},
}

func connectServiceDown(ev Evidence) (Status, string) {
	switch ev.Connect {
	case ConnectRefused:
		return Likely, fmt.Sprintf("The connection was refused: the host is up and answered, but no service accepted on %s.", portName(ev))
	case ConnectReset:
		return Likely, "The connection was accepted and then reset; a crashing or overloaded service can do that."
	case ConnectTimeout, ConnectUnreachable:
		return Unknown, "The packets got no answer, so nothing is known about the service itself."
	}
	return connectedRulesOut(ev)
}

func connectNotListening(ev Evidence) (Status, string) {
	switch ev.Connect {
	case ConnectRefused:
		return Likely, fmt.Sprintf("A refusal is what a live host sends when nothing listens on %s.", portName(ev))
	case ConnectTimeout, ConnectUnreachable, ConnectReset:
		return Unknown, "Without a clean refusal this cannot be told from filtering."
	}
	return connectedRulesOut(ev)
}

func connectWrongPort(ev Evidence) (Status, string) {
	switch ev.Connect {
	case ConnectRefused:
		return Likely, fmt.Sprintf("The host refused %s; the service may listen on another port.", portName(ev))
	case ConnectTLSError:
		if ev.TLSError == TLSHandshake || ev.TLSError == TLSProtocolVersion {
			return Likely, "TLS failed straight after connecting: the port may expect plain text first (25, 587, 110, 143), not TLS from the first byte."
		}
		return RuledOut, "TLS got as far as the certificate check, so the port does speak TLS."
	case ConnectTimeout:
		return Unknown, "A wrong port usually gets a refusal; a timeout points at filtering instead."
	}
	return connectedRulesOut(ev)
}

func connectDestFirewall(ev Evidence) (Status, string) {
	switch ev.Connect {
	case ConnectTimeout:
		return Likely, fmt.Sprintf("The connection timed out%s with no answer; firewalls usually drop packets silently like this.", after(ev))
	case ConnectReset:
		return Likely, "The connection was reset; firewalls and intrusion filters do this to refused clients."
	case ConnectRefused:
		return Unknown, "A refusal usually comes from the host itself; most firewalls drop silently instead."
	case ConnectUnreachable:
		return Unknown, "An unreachable error can come from a filtering router, but more often from routing."
	}
	return connectedRulesOut(ev)
}

func connectDNSWrong(ev Evidence) (Status, string) {
	d := ev.DNS
	switch {
	case d.DomainExists == FactNo:
		return Likely, "The domain does not exist in DNS (NXDOMAIN)."
	case d.NullMX:
		return Likely, "The domain publishes a null MX (RFC 7505): it accepts no mail at all."
	case d.HostResolved == FactNo:
		return Likely, "The mail host name has no address record."
	case ev.Connect == ConnectDNSError:
		return Likely, "The name could not be resolved."
	case d.MXFound == FactNo && d.DomainExists == FactYes && failedConnect(ev.Connect):
		return Likely, "The domain has no MX, so mail goes to the domain's own address (RFC 5321 section 5.1), which may not run a mail server."
	case d.MXFound == FactYes && ev.Connect == ConnectOK:
		return RuledOut, "The MX resolved and the connection to it worked."
	case d.MXFound == FactNo && d.DomainExists == FactYes:
		return Unknown, "The domain has no MX, so mail goes to the domain's own address record."
	case d.MXFound == FactYes || d.HostResolved == FactYes:
		return Unknown, "DNS answered; check that the records point at the server you expect."
	}
	return Unknown, "No DNS results have been recorded yet."
}

func failedConnect(c ConnectOutcome) bool {
	return c != ConnectNone && c != ConnectOK
}

// connectedRulesOut is the shared answer of the connect rules once the
// outcome is not one they single out.
func connectedRulesOut(ev Evidence) (Status, string) {
	switch ev.Connect {
	case ConnectOK:
		return RuledOut, fmt.Sprintf("The connection to %s succeeded.", portName(ev))
	case ConnectTLSError:
		return RuledOut, "The connection was accepted (TLS failed later), so something was listening."
	case ConnectDNSError:
		return Unknown, "The name did not resolve, so no connection was tried."
	case ConnectNone:
		return Unknown, "No connection attempt has been recorded yet."
	}
	return Unknown, fmt.Sprintf("The connection ended with %q, which says little about this.", string(ev.Connect))
}

func tlsRule(reason TLSReason, likely string) rule {
	return func(ev Evidence) (Status, string) {
		switch {
		case ev.TLSError == reason:
			return Likely, likely
		case ev.TLSError != TLSNone && knownTLSReason(ev.TLSError):
			return RuledOut, fmt.Sprintf("The TLS error was %q, a different failure.", string(ev.TLSError))
		case ev.TLSActive:
			return RuledOut, "TLS is active, so the handshake and certificate were accepted."
		}
		return "", ""
	}
}

func knownTLSReason(r TLSReason) bool {
	switch r {
	case TLSExpired, TLSUnknownAuthority, TLSNameMismatch, TLSHandshake, TLSProtocolVersion:
		return true
	}
	return false
}

func authenticatedRulesOut(ev Evidence) (Status, string) {
	if ev.Authenticated {
		return RuledOut, "Authentication succeeded on this connection."
	}
	return "", ""
}

// heloProblem returns why a HELO/EHLO name is likely to be refused, or "".
// RFC 5321 section 4.1.1.1 wants the client's fully qualified domain name or,
// failing that, an address literal in square brackets.
func heloProblem(name string) string {
	if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
		inner := strings.TrimPrefix(name[1:len(name)-1], "IPv6:")
		if net.ParseIP(inner) == nil {
			return "The EHLO name looks like an address literal but the address inside the brackets is not valid."
		}
		return ""
	}
	if net.ParseIP(name) != nil {
		return "The EHLO name is a bare IP address; RFC 5321 wants it in square brackets, such as [192.0.2.1]."
	}
	if strings.EqualFold(name, "localhost") || !strings.Contains(strings.Trim(name, "."), ".") {
		return "The EHLO name is not a fully qualified domain name, which many servers refuse."
	}
	for _, r := range name {
		if !(r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return "The EHLO name contains characters that are not allowed in a host name."
		}
	}
	return ""
}

func upper(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToUpper(s)
	}
	return out
}

// safeMech keeps a server-supplied mechanism name printable: SASL names are
// upper-case letters, digits, '-' and '_' (RFC 4422 section 3.1).
func safeMech(m string) string {
	for _, r := range m {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "?"
		}
	}
	if len(m) > 20 {
		return "?"
	}
	return m
}

func safeMechs(ms []string) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = safeMech(strings.ToUpper(m))
	}
	return out
}

func portName(ev Evidence) string {
	if ev.Port > 0 {
		return fmt.Sprintf("port %d", ev.Port)
	}
	return "that port"
}

func after(ev Evidence) string {
	if ev.ConnectTime > 0 {
		return " after " + round(ev.ConnectTime).String()
	}
	return ""
}

func round(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
