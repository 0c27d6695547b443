package checklist

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func statusOf(items []Item, id string) (Status, string) {
	for _, it := range items {
		if it.ID == id {
			return it.Status, it.Why
		}
	}
	return "", ""
}

func ids(items []Item, s Status) []string {
	var out []string
	for _, it := range items {
		if it.Status == s {
			out = append(out, it.ID)
		}
	}
	return out
}

func TestEmbeddedDataLoads(t *testing.T) {
	c := Default()
	for _, s := range Steps() {
		if len(c.Items(s)) == 0 {
			t.Errorf("step %s has no checklist items", s)
		}
	}
	if n := len(c.All()); n < 40 {
		t.Errorf("only %d items in the embedded data", n)
	}
}

func TestRulesNameRealItems(t *testing.T) {
	all := Default().All()
	for id := range rules {
		if !slices.ContainsFunc(all, func(it Item) bool { return it.ID == id }) {
			t.Errorf("rule %q has no item in the data", id)
		}
	}
}

// TestRefusedVersusTimeout is the rule the checklist exists for: a refusal
// comes from a live host, a timeout from something that swallows packets.
func TestRefusedVersusTimeout(t *testing.T) {
	refused := Evaluate(StepConnect, Evidence{Port: 25, Connect: ConnectRefused, ConnectTime: 3 * time.Millisecond})
	timeout := Evaluate(StepConnect, Evidence{Port: 25, Connect: ConnectTimeout, ConnectTime: 30 * time.Second})

	wantRefused := []string{"connect-service-down", "connect-not-listening", "connect-wrong-port"}
	wantTimeout := []string{"connect-dest-firewall", "connect-source-blocked", "connect-host-down", "connect-wrong-host"}
	if got := ids(refused, Likely); !slices.Equal(got, wantRefused) {
		t.Errorf("refused: likely = %v, want %v", got, wantRefused)
	}
	if got := ids(timeout, Likely); !slices.Equal(got, wantTimeout) {
		t.Errorf("timeout: likely = %v, want %v", got, wantTimeout)
	}
	for _, id := range wantRefused {
		if st, _ := statusOf(timeout, id); st == Likely {
			t.Errorf("timeout made %s likely", id)
		}
	}
	if st, _ := statusOf(refused, "connect-host-down"); st != RuledOut {
		t.Errorf("refused: host-down = %s, want ruled-out (a refusal comes from a live host)", st)
	}
	if _, why := statusOf(timeout, "connect-source-blocked"); !strings.Contains(why, "port 25") || !strings.Contains(why, "30s") {
		t.Errorf("timeout why should name port 25 and the time: %q", why)
	}
}

func TestEvaluateTable(t *testing.T) {
	tests := []struct {
		name     string
		step     Step
		ev       Evidence
		likely   []string // exactly these are likely, in this order
		ruledOut []string // at least these are ruled out
	}{
		{
			name:     "connect ok rules the network out",
			step:     StepConnect,
			ev:       Evidence{Port: 25, Connect: ConnectOK, DNS: DNS{MXFound: FactYes, HostResolved: FactYes}},
			likely:   nil,
			ruledOut: []string{"connect-service-down", "connect-dest-firewall", "connect-source-blocked", "connect-host-down", "connect-dns-wrong"},
		},
		{
			name:   "null MX",
			step:   StepConnect,
			ev:     Evidence{DNS: DNS{DomainExists: FactYes, NullMX: true}},
			likely: []string{"connect-dns-wrong"},
		},
		{
			name:   "dns error",
			step:   StepConnect,
			ev:     Evidence{Connect: ConnectDNSError},
			likely: []string{"connect-wrong-host", "connect-dns-wrong"},
		},
		{
			name:     "unreachable",
			step:     StepConnect,
			ev:       Evidence{Connect: ConnectUnreachable},
			likely:   []string{"connect-host-down", "connect-wrong-host"},
			ruledOut: nil,
		},
		{
			name:     "implicit TLS on a plain port",
			step:     StepConnect,
			ev:       Evidence{Port: 25, Connect: ConnectTLSError, TLSError: TLSHandshake},
			likely:   []string{"connect-wrong-port"},
			ruledOut: []string{"connect-service-down", "connect-host-down"},
		},
		{
			name:     "slow banner",
			step:     StepBanner,
			ev:       Evidence{Connect: ConnectOK, BannerDelay: 12 * time.Second, Reply: Reply{Code: 220}},
			likely:   []string{"banner-delay"},
			ruledOut: []string{"banner-busy", "banner-blocked"},
		},
		{
			name:     "554 banner from a blocklist",
			step:     StepBanner,
			ev:       Evidence{Connect: ConnectOK, BannerDelay: 80 * time.Millisecond, Reply: Reply{Code: 554, Enhanced: "5.7.1", Text: "Service unavailable; client host blocked using zen", Category: "blocklisted"}},
			likely:   []string{"banner-blocked"},
			ruledOut: []string{"banner-delay", "banner-busy"},
		},
		{
			name:   "421 busy banner",
			step:   StepBanner,
			ev:     Evidence{Connect: ConnectOK, Reply: Reply{Code: 421, Enhanced: "4.3.2", Category: "service-unavailable"}},
			likely: []string{"banner-busy"},
		},
		{
			name:   "EHLO localhost refused",
			step:   StepEHLO,
			ev:     Evidence{Helo: "localhost", Reply: Reply{Code: 501, Enhanced: "5.5.4", Text: "Invalid domain name"}},
			likely: []string{"ehlo-invalid-domain"},
		},
		{
			name:   "EHLO unknown to an old server",
			step:   StepEHLO,
			ev:     Evidence{Helo: "client.example.com", Reply: Reply{Code: 502, Enhanced: "5.5.2", Text: "Command not implemented"}},
			likely: []string{"ehlo-not-esmtp"},
		},
		{
			name:     "EHLO accepted",
			step:     StepEHLO,
			ev:       Evidence{Helo: "client.example.com", Reply: Reply{Code: 250}},
			ruledOut: []string{"ehlo-invalid-domain", "ehlo-not-esmtp", "ehlo-restricted"},
		},
		{
			name:     "STARTTLS missing from EHLO",
			step:     StepSTARTTLS,
			ev:       Evidence{Caps: Capabilities{Seen: true, Auth: []string{"PLAIN"}}},
			likely:   []string{"starttls-not-offered"},
			ruledOut: nil,
		},
		{
			name:     "expired certificate",
			step:     StepSTARTTLS,
			ev:       Evidence{Caps: Capabilities{Seen: true, STARTTLS: true}, Reply: Reply{Code: 220}, TLSError: TLSExpired},
			likely:   []string{"starttls-cert-expired"},
			ruledOut: []string{"starttls-not-offered", "starttls-cert-unknown-authority", "starttls-cert-name-mismatch", "starttls-handshake"},
		},
		{
			name:     "TLS fine",
			step:     StepSTARTTLS,
			ev:       Evidence{Caps: Capabilities{Seen: true, STARTTLS: true}, TLSActive: true, Reply: Reply{Code: 220}},
			ruledOut: []string{"starttls-not-offered", "starttls-handshake", "starttls-cert-expired", "starttls-cert-unknown-authority", "starttls-cert-name-mismatch", "starttls-version-mismatch"},
		},
		{
			name:   "no AUTH before TLS",
			step:   StepAuth,
			ev:     Evidence{Caps: Capabilities{Seen: true, STARTTLS: true}},
			likely: []string{"auth-not-offered"},
		},
		{
			name:     "wrong password",
			step:     StepAuth,
			ev:       Evidence{TLSActive: true, Caps: Capabilities{Seen: true, Auth: []string{"PLAIN", "LOGIN"}}, AuthMechanism: "LOGIN", Reply: Reply{Code: 535, Enhanced: "5.7.8", Category: "auth-failed"}},
			likely:   []string{"auth-wrong-credentials"},
			ruledOut: []string{"auth-not-offered", "auth-mechanism"},
		},
		{
			name:   "LOGIN not among the mechanisms",
			step:   StepAuth,
			ev:     Evidence{TLSActive: true, Caps: Capabilities{Seen: true, Auth: []string{"XOAUTH2"}}, AuthMechanism: "login", Reply: Reply{Code: 504, Enhanced: "5.5.4"}},
			likely: []string{"auth-mechanism"},
		},
		{
			name:   "app password",
			step:   StepAuth,
			ev:     Evidence{TLSActive: true, Reply: Reply{Code: 534, Enhanced: "5.7.9", Text: "Application-specific password required"}},
			likely: []string{"auth-account-locked"},
		},
		{
			name:     "anonymous submission refused",
			step:     StepMail,
			ev:       Evidence{Reply: Reply{Code: 530, Enhanced: "5.7.1", Text: "Client was not authenticated", Category: "auth-required"}},
			likely:   []string{"mail-anonymous-refused"},
			ruledOut: []string{"mail-sender-syntax"},
		},
		{
			name:   "bad sender",
			step:   StepMail,
			ev:     Evidence{Reply: Reply{Code: 550, Enhanced: "5.1.7", Text: "Invalid address", Category: "sender-invalid"}},
			likely: []string{"mail-sender-syntax"},
		},
		{
			name:   "sender SPF",
			step:   StepMail,
			ev:     Evidence{Reply: Reply{Code: 550, Enhanced: "5.7.23", Category: "spf-fail"}},
			likely: []string{"mail-sender-policy"},
		},
		{
			name:   "sender rate limited",
			step:   StepMail,
			ev:     Evidence{Reply: Reply{Code: 451, Enhanced: "4.7.0", Text: "Too many messages", Category: "rate-limited"}},
			likely: []string{"mail-rate-limited"},
		},
		{
			name:     "unknown user",
			step:     StepRcpt,
			ev:       Evidence{Reply: Reply{Code: 550, Enhanced: "5.1.1", Text: "User unknown", Category: "mailbox-unknown"}},
			likely:   []string{"rcpt-unknown-user"},
			ruledOut: []string{"rcpt-relay-denied", "rcpt-mailbox-full", "rcpt-greylisted", "rcpt-policy"},
		},
		{
			name:   "relay denied beats generic 5.7.1 policy",
			step:   StepRcpt,
			ev:     Evidence{Reply: Reply{Code: 550, Enhanced: "5.7.1", Text: "Unable to relay", Category: "relay-denied"}},
			likely: []string{"rcpt-relay-denied"},
		},
		{
			name:   "relay denied without a category",
			step:   StepRcpt,
			ev:     Evidence{Reply: Reply{Code: 554, Enhanced: "5.7.1", Text: "Relay access denied"}},
			likely: []string{"rcpt-relay-denied"},
		},
		{
			name:   "mailbox full",
			step:   StepRcpt,
			ev:     Evidence{Reply: Reply{Code: 452, Enhanced: "4.2.2", Category: "mailbox-full"}},
			likely: []string{"rcpt-mailbox-full"},
		},
		{
			name:   "greylisted",
			step:   StepRcpt,
			ev:     Evidence{Reply: Reply{Code: 450, Enhanced: "4.7.1", Text: "Greylisted, see http://x", Category: "greylisted"}},
			likely: []string{"rcpt-greylisted"},
		},
		{
			name:     "recipient accepted",
			step:     StepRcpt,
			ev:       Evidence{Reply: Reply{Code: 250, Enhanced: "2.1.5"}},
			ruledOut: []string{"rcpt-unknown-user", "rcpt-relay-denied", "rcpt-mailbox-full", "rcpt-greylisted", "rcpt-policy"},
		},
		{
			name:   "DATA without recipients",
			step:   StepData,
			ev:     Evidence{Reply: Reply{Code: 503, Enhanced: "5.5.1", Text: "No valid recipients", Category: "bad-sequence"}},
			likely: []string{"data-no-recipients"},
		},
		{
			name:   "DATA temporarily refused",
			step:   StepData,
			ev:     Evidence{Reply: Reply{Code: 451, Enhanced: "4.3.0", Category: "service-unavailable"}},
			likely: []string{"data-temporary"},
		},
		{
			name:   "spam",
			step:   StepEndOfData,
			ev:     Evidence{Reply: Reply{Code: 554, Enhanced: "5.7.1", Text: "Message rejected as spam", Category: "content-rejected"}},
			likely: []string{"eod-content-rejected"},
		},
		{
			name:   "too big by SIZE",
			step:   StepEndOfData,
			ev:     Evidence{Caps: Capabilities{Seen: true, Size: 1000}, MessageSize: 5000, Reply: Reply{Code: 552, Enhanced: "5.3.4", Category: "message-too-big"}},
			likely: []string{"eod-too-big"},
		},
		{
			name:   "DMARC",
			step:   StepEndOfData,
			ev:     Evidence{Reply: Reply{Code: 550, Enhanced: "5.7.26", Text: "Unauthenticated email", Category: "dmarc-fail"}},
			likely: []string{"eod-authentication"},
		},
		{
			name:   "missing headers",
			step:   StepEndOfData,
			ev:     Evidence{Reply: Reply{Code: 550, Enhanced: "5.6.0", Text: "Message does not conform to RFC 5322 header", Category: "syntax"}},
			likely: []string{"eod-format"},
		},
		{
			name:   "queue trouble",
			step:   StepEndOfData,
			ev:     Evidence{Reply: Reply{Code: 452, Enhanced: "4.3.1", Text: "Insufficient system storage", Category: "service-unavailable"}},
			likely: []string{"eod-temporary"},
		},
		{
			name:     "queued",
			step:     StepEndOfData,
			ev:       Evidence{Reply: Reply{Code: 250, Enhanced: "2.6.0"}},
			ruledOut: []string{"eod-content-rejected", "eod-too-big", "eod-authentication", "eod-format", "eod-temporary"},
		},
		{
			name:     "QUIT after the server gave up",
			step:     StepQuit,
			ev:       Evidence{Closed: true},
			likely:   []string{"quit-idle-timeout", "quit-no-221"},
			ruledOut: nil,
		},
		{
			name:     "QUIT 221",
			step:     StepQuit,
			ev:       Evidence{Reply: Reply{Code: 221, Enhanced: "2.0.0"}},
			ruledOut: []string{"quit-idle-timeout", "quit-no-221"},
		},
		{
			name:   "POP3 wrong password",
			step:   StepPOP3Login,
			ev:     Evidence{TLSActive: true, Reply: Reply{Status: "-ERR", Text: "[AUTH] Authentication failed.", Category: "auth-failed"}},
			likely: []string{"pop3-wrong-password"},
			ruledOut: []string{
				"pop3-plaintext-disabled", "pop3-mailbox-in-use",
			},
		},
		{
			name:   "POP3 plaintext refused",
			step:   StepPOP3Login,
			ev:     Evidence{Reply: Reply{Status: "-ERR", Text: "[AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections."}},
			likely: []string{"pop3-plaintext-disabled"},
		},
		{
			name:   "POP3 in use",
			step:   StepPOP3Login,
			ev:     Evidence{TLSActive: true, Reply: Reply{Status: "-ERR", Text: "[IN-USE] Mailbox is locked by another POP3 session"}},
			likely: []string{"pop3-mailbox-in-use"},
		},
		{
			name:     "POP3 logged in",
			step:     StepPOP3Login,
			ev:       Evidence{Reply: Reply{Status: "+OK", Text: "Logged in."}},
			ruledOut: []string{"pop3-wrong-password", "pop3-mailbox-in-use"},
		},
		{
			name:   "IMAP LOGINDISABLED",
			step:   StepIMAPLogin,
			ev:     Evidence{Caps: Capabilities{Seen: true, STARTTLS: true, LoginDisabled: true}, Reply: Reply{Status: "BAD", Text: "Command not permitted"}},
			likely: []string{"imap-login-disabled"},
		},
		{
			name:     "IMAP bad password",
			step:     StepIMAPLogin,
			ev:       Evidence{TLSActive: true, Reply: Reply{Status: "NO", Text: "[AUTHENTICATIONFAILED] Authentication failed."}},
			likely:   []string{"imap-auth-failed"},
			ruledOut: []string{"imap-login-disabled", "imap-account-disabled"},
		},
		{
			name:   "IMAP account disabled",
			step:   StepIMAPLogin,
			ev:     Evidence{TLSActive: true, Reply: Reply{Status: "NO", Text: "[CONTACTADMIN] Account disabled", Category: "mailbox-disabled"}},
			likely: []string{"imap-account-disabled"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(tc.step, tc.ev)
			if len(got) != len(Default().Items(tc.step)) {
				t.Fatalf("got %d items, want every item of %s", len(got), tc.step)
			}
			if l := ids(got, Likely); !slices.Equal(l, tc.likely) {
				t.Errorf("likely = %v, want %v", l, tc.likely)
			}
			for _, id := range tc.ruledOut {
				if st, why := statusOf(got, id); st != RuledOut {
					t.Errorf("%s = %s (%s), want ruled-out", id, st, why)
				}
			}
			for _, it := range got {
				if it.Why == "" || !strings.HasSuffix(it.Why, ".") {
					t.Errorf("%s: Why %q is not a sentence", it.ID, it.Why)
				}
			}
		})
	}
}

func TestOrderLikelyFirst(t *testing.T) {
	got := Evaluate(StepConnect, Evidence{Port: 25, Connect: ConnectTimeout})
	last := -1
	for _, it := range got {
		r := it.Status.rank()
		if r < last {
			t.Fatalf("order broken at %s (%s): %v", it.ID, it.Status, got)
		}
		last = r
	}
	if got[0].Status != Likely || got[len(got)-1].Status == Likely {
		t.Errorf("want likely first and something else last, got %s ... %s", got[0].Status, got[len(got)-1].Status)
	}
}

// reachable gives, for every item in the data, evidence that makes it
// likely. A new item without an entry here fails the test, so nothing in
// the data can be dead.
var reachable = map[string]struct {
	step Step
	ev   Evidence
}{
	"connect-service-down":            {StepConnect, Evidence{Connect: ConnectRefused}},
	"connect-not-listening":           {StepConnect, Evidence{Connect: ConnectRefused}},
	"connect-wrong-port":              {StepConnect, Evidence{Connect: ConnectRefused}},
	"connect-dest-firewall":           {StepConnect, Evidence{Connect: ConnectTimeout}},
	"connect-source-blocked":          {StepConnect, Evidence{Connect: ConnectTimeout}},
	"connect-host-down":               {StepConnect, Evidence{Connect: ConnectUnreachable}},
	"connect-wrong-host":              {StepConnect, Evidence{Connect: ConnectDNSError}},
	"connect-dns-wrong":               {StepConnect, Evidence{DNS: DNS{DomainExists: FactNo}}},
	"banner-delay":                    {StepBanner, Evidence{Connect: ConnectOK, BannerDelay: time.Minute}},
	"banner-busy":                     {StepBanner, Evidence{Reply: Reply{Code: 421}}},
	"banner-blocked":                  {StepBanner, Evidence{Reply: Reply{Code: 554, Category: "blocklisted"}}},
	"ehlo-invalid-domain":             {StepEHLO, Evidence{Helo: "my host", Reply: Reply{Code: 501}}},
	"ehlo-not-esmtp":                  {StepEHLO, Evidence{Reply: Reply{Code: 500}}},
	"ehlo-restricted":                 {StepEHLO, Evidence{Reply: Reply{Code: 550, Category: "policy"}}},
	"starttls-not-offered":            {StepSTARTTLS, Evidence{Caps: Capabilities{Seen: true}}},
	"starttls-handshake":              {StepSTARTTLS, Evidence{TLSError: TLSHandshake}},
	"starttls-cert-expired":           {StepSTARTTLS, Evidence{TLSError: TLSExpired}},
	"starttls-cert-unknown-authority": {StepSTARTTLS, Evidence{TLSError: TLSUnknownAuthority}},
	"starttls-cert-name-mismatch":     {StepSTARTTLS, Evidence{TLSError: TLSNameMismatch}},
	"starttls-version-mismatch":       {StepSTARTTLS, Evidence{TLSError: TLSProtocolVersion}},
	"auth-not-offered":                {StepAuth, Evidence{Reply: Reply{Code: 530, Enhanced: "5.7.0", Category: "tls-required"}}},
	"auth-wrong-credentials":          {StepAuth, Evidence{Reply: Reply{Code: 535}}},
	"auth-mechanism":                  {StepAuth, Evidence{Reply: Reply{Code: 504}}},
	"auth-account-locked":             {StepAuth, Evidence{Reply: Reply{Code: 534}}},
	"mail-sender-syntax":              {StepMail, Evidence{Reply: Reply{Code: 501}}},
	"mail-anonymous-refused":          {StepMail, Evidence{Reply: Reply{Code: 530}}},
	"mail-sender-policy":              {StepMail, Evidence{Reply: Reply{Code: 550, Category: "spf-fail"}}},
	"mail-rate-limited":               {StepMail, Evidence{Reply: Reply{Code: 452, Category: "rate-limited"}}},
	"rcpt-unknown-user":               {StepRcpt, Evidence{Reply: Reply{Code: 550, Enhanced: "5.1.1"}}},
	"rcpt-relay-denied":               {StepRcpt, Evidence{Reply: Reply{Code: 550, Category: "relay-denied"}}},
	"rcpt-mailbox-full":               {StepRcpt, Evidence{Reply: Reply{Code: 552, Enhanced: "5.2.2"}}},
	"rcpt-greylisted":                 {StepRcpt, Evidence{Reply: Reply{Code: 451, Category: "greylisted"}}},
	"rcpt-policy":                     {StepRcpt, Evidence{Reply: Reply{Code: 550, Category: "policy"}}},
	"data-no-recipients":              {StepData, Evidence{Reply: Reply{Code: 503}}},
	"data-temporary":                  {StepData, Evidence{Reply: Reply{Code: 451}}},
	"eod-content-rejected":            {StepEndOfData, Evidence{Reply: Reply{Code: 554, Category: "content-rejected"}}},
	"eod-too-big":                     {StepEndOfData, Evidence{Caps: Capabilities{Size: 10}, MessageSize: 11}},
	"eod-authentication":              {StepEndOfData, Evidence{Reply: Reply{Code: 550, Category: "dkim-fail"}}},
	"eod-format":                      {StepEndOfData, Evidence{Reply: Reply{Code: 550, Enhanced: "5.6.0"}}},
	"eod-temporary":                   {StepEndOfData, Evidence{Reply: Reply{Code: 451, Enhanced: "4.3.0"}}},
	"quit-idle-timeout":               {StepQuit, Evidence{Closed: true}},
	"quit-no-221":                     {StepQuit, Evidence{Reply: Reply{Code: 500}}},
	"pop3-wrong-password":             {StepPOP3Login, Evidence{Reply: Reply{Status: "-ERR", Category: "auth-failed"}}},
	"pop3-plaintext-disabled":         {StepPOP3Login, Evidence{Reply: Reply{Status: "-ERR", Category: "tls-required"}}},
	"pop3-mailbox-in-use":             {StepPOP3Login, Evidence{Reply: Reply{Status: "-ERR", Text: "[IN-USE] busy"}}},
	"imap-auth-failed":                {StepIMAPLogin, Evidence{Reply: Reply{Status: "NO", Category: "auth-failed"}}},
	"imap-login-disabled":             {StepIMAPLogin, Evidence{Caps: Capabilities{Seen: true, LoginDisabled: true}}},
	"imap-account-disabled":           {StepIMAPLogin, Evidence{Reply: Reply{Status: "NO", Text: "[EXPIRED] gone"}}},
}

func TestEveryItemReachable(t *testing.T) {
	all := Default().All()
	for _, it := range all {
		r, ok := reachable[it.ID]
		if !ok {
			t.Errorf("%s: no evidence in the reachable table makes it likely", it.ID)
			continue
		}
		if r.step != it.Step {
			t.Errorf("%s: table says step %s, data says %s", it.ID, r.step, it.Step)
		}
		if st, why := statusOf(Evaluate(it.Step, r.ev), it.ID); st != Likely {
			t.Errorf("%s: status %s (%s), want likely", it.ID, st, why)
		}
	}
	if len(reachable) != len(all) {
		t.Errorf("reachable table has %d entries for %d items (stale entries?)", len(reachable), len(all))
	}
}

func TestEmptyEvidenceIsUnknown(t *testing.T) {
	for _, s := range Steps() {
		for _, it := range Evaluate(s, Evidence{}) {
			if it.Status == Likely {
				t.Errorf("%s: likely with no evidence at all (%s)", it.ID, it.Why)
			}
		}
	}
}

func TestWhyNeverQuotesServerText(t *testing.T) {
	ev := Evidence{Reply: Reply{Code: 550, Enhanced: "5.1.1\x1b]52;c;AAAA\a", Text: "User unknown \x1b[2J SECRETMARK", Category: "mailbox-unknown"}}
	for _, it := range Evaluate(StepRcpt, ev) {
		if strings.ContainsAny(it.Why, "\x1b\a") || strings.Contains(it.Why, "SECRETMARK") {
			t.Errorf("%s: Why leaks server bytes: %q", it.ID, it.Why)
		}
	}
	mech := Evidence{Caps: Capabilities{Seen: true, Auth: []string{"PLAIN\x1b[31m"}}, AuthMechanism: "LOGIN"}
	for _, it := range Evaluate(StepAuth, mech) {
		if strings.ContainsAny(it.Why, "\x1b") {
			t.Errorf("%s: Why leaks a mechanism name: %q", it.ID, it.Why)
		}
	}
}

func TestHeloProblem(t *testing.T) {
	tests := []struct {
		name string
		bad  bool
	}{
		{"mail.example.com", false},
		{"[192.0.2.1]", false},
		{"[IPv6:2001:db8::1]", false},
		{"localhost", true},
		{"myhost", true},
		{"192.0.2.1", true},
		{"[999.1.1.1]", true},
		{"bad_name.example.com", true},
	}
	for _, tc := range tests {
		if got := heloProblem(tc.name) != ""; got != tc.bad {
			t.Errorf("heloProblem(%q) bad = %v, want %v", tc.name, got, tc.bad)
		}
	}
}

func TestLoadRejectsBadData(t *testing.T) {
	good := "[[item]]\nid = \"x-one\"\nstep = \"rcpt\"\ntitle = \"t\"\ncheck = \"c\"\n"
	tests := map[string]string{
		"unknown step":     strings.Replace(good, "rcpt", "rcpt-to", 1),
		"unknown category": good + "categories = [\"mailbox-gone\"]\n",
		"bad code":         good + "codes = [\"55\"]\n",
		"upper text":       good + "text = [\"Relay\"]\n",
		"missing check":    strings.Replace(good, "check = \"c\"\n", "", 1),
		"unknown key":      good + "severity = 3\n",
		"bad id":           strings.Replace(good, "x-one", "X One", 1),
		"duplicate":        good + good,
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Load(fstest.MapFS{"a.toml": {Data: []byte(data)}}); err == nil {
				t.Fatal("Load accepted bad data")
			} else if !strings.HasPrefix(err.Error(), "checklist: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	if _, err := Load(fstest.MapFS{"a.toml": {Data: []byte(good)}}); err != nil {
		t.Fatalf("good data rejected: %v", err)
	}
	if _, err := Load(fstest.MapFS{}); err == nil {
		t.Fatal("empty FS accepted")
	}
}
