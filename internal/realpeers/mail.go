package realpeers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Domain is the mail domain the shared Postfix accepts mail for
// (mydestination); addresses are user@Domain, optionally user+tag@Domain.
const Domain = "realpeers.test"

// mailUID is the owner of the mailboxes: both Postfix's virtual(8) and
// Dovecot refuse to deliver or log in as root or as low system UIDs.
const mailUID = 65534

// Mail is a running Postfix (SMTP and submission) plus Dovecot (POP3, IMAP
// and SASL for Postfix) on 127.0.0.1. It is shared by every test of a test
// binary: treat every field as read-only and do not assume a mailbox is empty
// (use a unique marker with WaitMessage, or count with Delivered first).
type Mail struct {
	// SMTP is host:port of plain SMTP (port 25 style): STARTTLS offered, no
	// AUTH, accepts mail for Domain, refuses relaying with 554 5.7.1 and
	// unknown local users with 550 5.1.1, message_size_limit 1 MiB.
	SMTP string
	// Submission is host:port of a submission listener (port 587 style):
	// STARTTLS required before anything else, then AUTH PLAIN or LOGIN
	// (Dovecot SASL); only authenticated clients may send.
	Submission string
	// Submissions is host:port of submission over implicit TLS (port 465
	// style, RFC 8314): TLS from the first byte, then AUTH PLAIN or LOGIN.
	Submissions string
	// POP3 and IMAP are Dovecot's plain listeners (STLS / STARTTLS offered).
	POP3, IMAP string
	// POP3S and IMAPS are Dovecot's implicit-TLS listeners.
	POP3S, IMAPS string
	// ExpiredCertSMTP is like SMTP but presents an expired certificate
	// (signed by the CA in CAFile), for verification-failure tests.
	ExpiredCertSMTP string
	// SelfSignedSMTP is like SMTP but presents a self-signed certificate not
	// issued by the CA in CAFile.
	SelfSignedSMTP string
	// Domain is the accepted mail domain (the constant Domain).
	Domain string
	// Users maps user name to password (kate, chris and postmaster). Each
	// user receives mail as user@Domain and logs in to POP3, IMAP and
	// submission with the bare user name (user@Domain works too).
	Users map[string]string
	// ServerName is the host name in the certificates and the SMTP banner.
	ServerName string
	// CAFile is the PEM file of the CA that signed the servers' certificate
	// (SANs: ServerName, "localhost", 127.0.0.1 and ::1).
	CAFile string
	// Dir is the base directory; PostfixLog and DovecotLog live in it.
	Dir string
	// PostfixLog and DovecotLog are the daemons' log files.
	PostfixLog, DovecotLog string

	mailDir string
	roots   *x509.CertPool
}

var (
	mailOnce   sync.Mutex
	mailShared *Mail
	mailErr    error
)

// Postfix returns the shared Postfix+Dovecot of this test binary, starting
// it on first use (about 2 s). It skips or fails like Require when the
// daemons are not installed, and fails the test when they do not start
// (the failure message includes Postfix's own diagnosis and log tails).
func Postfix(t testing.TB) *Mail {
	t.Helper()
	require(t, mailBinaries)
	mailOnce.Lock()
	defer mailOnce.Unlock()
	if mailShared == nil && mailErr == nil {
		mailShared, mailErr = startMail()
	}
	if mailErr != nil {
		t.Fatalf("realpeers: Postfix/Dovecot did not start: %v", mailErr)
	}
	return mailShared
}

// TLSConfig returns a client TLS configuration that trusts only the test CA
// and expects ServerName. Each call returns a new value the caller may
// modify.
func (m *Mail) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: m.roots, ServerName: m.ServerName, MinVersion: tls.VersionTLS12}
}

// RootCAs returns a pool holding only the test CA.
func (m *Mail) RootCAs() *x509.CertPool { return m.roots.Clone() }

// Address returns user@Domain.
func (m *Mail) Address(user string) string { return user + "@" + m.Domain }

// Logs returns the last part of the Postfix and Dovecot logs, for failure
// messages.
func (m *Mail) Logs() string {
	return "--- postfix log (" + m.PostfixLog + ") ---\n" + tail(m.PostfixLog, 8000) +
		"--- dovecot log (" + m.DovecotLog + ") ---\n" + tail(m.DovecotLog, 8000)
}

// LogOnFailure registers a cleanup that prints Logs when t has failed.
func (m *Mail) LogOnFailure(t testing.TB) {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(m.Logs())
		}
	})
}

// Delivered returns how many messages user's mailbox holds now (new and cur).
// POP3 DELE and IMAP EXPUNGE by other tests make it go down.
func (m *Mail) Delivered(user string) int {
	return len(m.messageFiles(user))
}

func (m *Mail) messageFiles(user string) []string {
	var files []string
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(m.mailDir, user, sub))
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				files = append(files, filepath.Join(m.mailDir, user, sub, e.Name()))
			}
		}
	}
	sort.Strings(files)
	return files
}

// WaitDelivered waits until user's mailbox holds at least n messages, polling
// until timeout, and fails the test (with the logs) if it does not.
func (m *Mail) WaitDelivered(t testing.TB, user string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := m.Delivered(user)
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("realpeers: %s has %d messages after %v, want at least %d\n%s", user, got, timeout, n, m.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitMessage waits until a message containing marker (for example a unique
// Subject or Message-ID) is in user's mailbox and returns its full text as
// delivered (with Postfix's Return-Path, Delivered-To and Received headers).
// It fails the test with the logs after timeout.
func (m *Mail) WaitMessage(t testing.TB, user, marker string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, f := range m.messageFiles(user) {
			b, err := os.ReadFile(f)
			if err == nil && strings.Contains(string(b), marker) {
				return string(b)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("realpeers: no message containing %q for %s after %v\n%s", marker, user, timeout, m.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mailLayout holds the paths of one instance.
type mailLayout struct {
	dir, postfixConf, queue, data, mail, dovecotConf, dovecotBase, dovecotState, passwd string
	postfixLog, dovecotLog, postfixStart, dovecotStart                                  string
	ports                                                                               mailPorts
	certs                                                                               certSet
	instance                                                                            string
}

type mailPorts struct {
	smtp, submission, expired, selfSigned, pop3, pop3s, imap, imaps, submissions int
}

var mailUsers = map[string]string{
	"kate":       "kate-pass",
	"chris":      "chris-pass",
	"postmaster": "postmaster-pass",
}

// startMail starts Postfix and Dovecot, retrying with fresh ports and a
// fresh directory when another test binary grabbed a port in between.
func startMail() (*Mail, error) {
	return withRetries(func() (*Mail, bool, error) {
		p, err := freePorts(9, false)
		if err != nil {
			return nil, false, err
		}
		return startMailOnce(mailPorts{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8]})
	})
}

// startMailOnce makes one attempt with the given ports; retry reports
// whether another attempt with other ports might succeed.
func startMailOnce(ports mailPorts) (m *Mail, retry bool, err error) {
	dir, err := newBaseDir("realpeers-mail-")
	if err != nil {
		return nil, false, err
	}
	l := mailLayout{
		dir:          dir,
		postfixConf:  filepath.Join(dir, "postfix"),
		queue:        filepath.Join(dir, "spool"),
		data:         filepath.Join(dir, "data"),
		mail:         filepath.Join(dir, "mail"),
		dovecotConf:  filepath.Join(dir, "dovecot", "dovecot.conf"),
		dovecotBase:  filepath.Join(dir, "dovecot", "run"),
		dovecotState: filepath.Join(dir, "dovecot", "state"),
		passwd:       filepath.Join(dir, "dovecot", "passwd"),
		postfixLog:   filepath.Join(dir, "postfix.log"),
		dovecotLog:   filepath.Join(dir, "dovecot.log"),
		postfixStart: filepath.Join(dir, "postfix-start.out"),
		dovecotStart: filepath.Join(dir, "dovecot-start.out"),
		ports:        ports,
		instance:     "realpeers-" + filepath.Base(dir)[len("realpeers-mail-"):],
	}
	cleanupDir := func() {
		if !keepDirs() {
			os.RemoveAll(dir)
		}
	}
	if l.certs, err = writeCerts(dir); err != nil {
		cleanupDir()
		return nil, false, err
	}
	if err := l.writeConfig(); err != nil {
		cleanupDir()
		return nil, false, err
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	stopDovecot := func() { stopPID(filepath.Join(l.dovecotBase, "master.pid"), dovecotExe, 5*time.Second) }
	stopPostfix := func() { stopPID(filepath.Join(l.queue, "pid", "master.pid"), postfixMasterExe, 5*time.Second) }

	// Dovecot first: Postfix's submission service asks its auth socket.
	dog.watch(dovecotExe, filepath.Join(l.dovecotBase, "master.pid"))
	if err := startLogged(ctx, l.dovecotStart, "dovecot", "-c", l.dovecotConf); err != nil {
		out, _ := os.ReadFile(l.dovecotStart)
		logs := tail(l.dovecotLog, 4000)
		stopDovecot()
		cleanupDir()
		// Only a port taken in the meantime is worth another attempt.
		retry := strings.Contains(string(out)+logs, "in use")
		return nil, retry, fmt.Errorf("%w\n%s\n%s", err, out, logs)
	}
	for _, port := range []int{l.ports.imap, l.ports.pop3} {
		prefix := "* OK"
		if port == l.ports.pop3 {
			prefix = "+OK"
		}
		if err := waitTCP(ctx, addr(port), prefix); err != nil {
			stopDovecot()
			logs := tail(l.dovecotLog, 4000)
			cleanupDir()
			return nil, true, fmt.Errorf("dovecot: %w\n%s", err, logs)
		}
	}

	dog.watch(postfixMasterExe, filepath.Join(l.queue, "pid", "master.pid"))
	if err := startLogged(ctx, l.postfixStart, "postfix", "-c", l.postfixConf, "start"); err != nil {
		// Postfix reports fatal configuration errors only to syslog or a
		// terminal; "postfix check" under script(1) gets a pseudo-terminal.
		diag, checkErr := runOutput(ctx, "script", "-qec", "postfix -c "+l.postfixConf+" check", "/dev/null")
		out, _ := os.ReadFile(l.postfixStart)
		stopPostfix()
		stopDovecot()
		logs := tail(l.postfixLog, 4000)
		cleanupDir()
		// A configuration that "postfix check" rejects will not get better
		// with other ports; a bind failure might.
		retry := checkErr == nil && !strings.Contains(diag, "fatal")
		return nil, retry, fmt.Errorf("%w\n%s\npostfix check: %s\n%s", err, out, diag, logs)
	}
	for _, port := range []int{l.ports.smtp, l.ports.submission, l.ports.expired, l.ports.selfSigned} {
		if err := waitTCP(ctx, addr(port), "220"); err != nil {
			diag, _ := runOutput(ctx, "script", "-qec", "postfix -c "+l.postfixConf+" check", "/dev/null")
			stopPostfix()
			stopDovecot()
			logs := tail(l.postfixLog, 4000)
			cleanupDir()
			return nil, true, fmt.Errorf("postfix: %w\npostfix check: %s\n%s", err, diag, logs)
		}
	}

	caPEM, err := os.ReadFile(l.certs.CAFile)
	if err != nil {
		return nil, false, err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)

	register(func() {
		// In parallel: Dovecot's master takes about a second to reap its
		// children, Postfix's much less.
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); stopPostfix() }()
		go func() { defer wg.Done(); stopDovecot() }()
		wg.Wait()
		cleanupDir()
	})

	users := make(map[string]string, len(mailUsers))
	for u, pw := range mailUsers {
		users[u] = pw
	}
	return &Mail{
		SMTP:            addr(l.ports.smtp),
		Submission:      addr(l.ports.submission),
		Submissions:     addr(l.ports.submissions),
		POP3:            addr(l.ports.pop3),
		POP3S:           addr(l.ports.pop3s),
		IMAP:            addr(l.ports.imap),
		IMAPS:           addr(l.ports.imaps),
		ExpiredCertSMTP: addr(l.ports.expired),
		SelfSignedSMTP:  addr(l.ports.selfSigned),
		Domain:          Domain,
		Users:           users,
		ServerName:      ServerName,
		CAFile:          l.certs.CAFile,
		Dir:             dir,
		PostfixLog:      l.postfixLog,
		DovecotLog:      l.dovecotLog,
		mailDir:         l.mail,
		roots:           roots,
	}, false, nil
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// startLogged is startDetached with the starter's output in a regular file
// (a file, unlike a pipe, never keeps anyone waiting for end of file).
func startLogged(ctx context.Context, outFile, name string, args ...string) error {
	f, err := os.Create(outFile)
	if err != nil {
		return fmt.Errorf("realpeers: %w", err)
	}
	defer f.Close()
	return startDetachedTo(ctx, f, name, args...)
}

func (l *mailLayout) writeConfig() error {
	for _, d := range []string{l.postfixConf, l.queue, l.data, l.mail, filepath.Dir(l.dovecotConf)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("realpeers: %w", err)
		}
	}
	postfixUID, postfixGID, err := lookupIDs("postfix", "postfix")
	if err != nil {
		return err
	}
	if err := os.Chown(l.data, postfixUID, postfixGID); err != nil {
		return fmt.Errorf("realpeers: %w", err)
	}
	_, dovecotGID, err := lookupIDs("dovecot", "dovecot")
	if err != nil {
		return err
	}

	// Mailboxes: maildirs owned by the mail UID, pre-created so Postfix and
	// Dovecot agree on them from the first message on.
	var vmailbox, passwd strings.Builder
	names := make([]string, 0, len(mailUsers))
	for u := range mailUsers {
		names = append(names, u)
	}
	sort.Strings(names)
	for _, u := range names {
		fmt.Fprintf(&vmailbox, "%s@%s %s/\n", u, Domain, u)
		fmt.Fprintf(&passwd, "%s:{PLAIN}%s\n", u, mailUsers[u])
		for _, sub := range []string{"", "new", "cur", "tmp"} {
			d := filepath.Join(l.mail, u, sub)
			if err := os.MkdirAll(d, 0o700); err != nil {
				return fmt.Errorf("realpeers: %w", err)
			}
			if err := os.Chown(d, mailUID, mailUID); err != nil {
				return fmt.Errorf("realpeers: %w", err)
			}
		}
	}
	if err := os.Chown(l.mail, mailUID, mailUID); err != nil {
		return fmt.Errorf("realpeers: %w", err)
	}
	if err := writeFile(filepath.Join(l.postfixConf, "vmailbox"), vmailbox.String(), 0o644); err != nil {
		return fmt.Errorf("realpeers: %w", err)
	}
	if err := writeFile(l.passwd, passwd.String(), 0o640); err != nil {
		return fmt.Errorf("realpeers: %w", err)
	}
	if err := os.Chown(l.passwd, 0, dovecotGID); err != nil {
		return fmt.Errorf("realpeers: %w", err)
	}

	mainCF := l.postfixMainCF()
	masterCF := l.postfixMasterCF()
	for name, text := range map[string]string{"main.cf": mainCF, "master.cf": masterCF} {
		path := filepath.Join(l.postfixConf, name)
		if err := writeFile(path, text, 0o644); err != nil {
			return fmt.Errorf("realpeers: %w", err)
		}
		// Postfix waits ~1.5 s for a main.cf changed within the last
		// second ("being edited"): back-date the fresh files.
		old := time.Now().Add(-10 * time.Second)
		if err := os.Chtimes(path, old, old); err != nil {
			return fmt.Errorf("realpeers: %w", err)
		}
	}
	if err := writeFile(l.dovecotConf, l.dovecotConfText(), 0o644); err != nil {
		return fmt.Errorf("realpeers: %w", err)
	}
	return nil
}

func lookupIDs(userName, groupName string) (int, int, error) {
	u, err := user.Lookup(userName)
	if err != nil {
		return 0, 0, fmt.Errorf("realpeers: user %s: %w", userName, err)
	}
	g, err := user.LookupGroup(groupName)
	if err != nil {
		return 0, 0, fmt.Errorf("realpeers: group %s: %w", groupName, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(g.Gid)
	return uid, gid, nil
}

func (l *mailLayout) postfixMainCF() string {
	r := strings.NewReplacer(
		"@DIR@", l.dir,
		"@QUEUE@", l.queue,
		"@DATA@", l.data,
		"@MAIL@", l.mail,
		"@CONF@", l.postfixConf,
		"@LOG@", l.postfixLog,
		"@CERT@", l.certs.CertFile,
		"@KEY@", l.certs.KeyFile,
		"@AUTH@", filepath.Join(l.dovecotBase, "auth-postfix"),
		"@HOST@", ServerName,
		"@DOMAIN@", Domain,
	)
	return r.Replace(`# Generated by mailflow internal/realpeers: a private loopback instance.
compatibility_level = 3.6
queue_directory = @QUEUE@
data_directory = @DATA@
mail_owner = postfix
setgid_group = postdrop
myhostname = @HOST@
mydomain = @DOMAIN@
myorigin = $mydomain
mydestination = @DOMAIN@, localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_banner = $myhostname ESMTP Postfix (realpeers)
biff = no
append_dot_mydomain = no
alias_maps =
alias_database =
recipient_delimiter = +

# Local recipients without Unix accounts: virtual(8) delivers to maildirs
# that Dovecot reads, as uid/gid 65534.
local_transport = virtual
virtual_mailbox_domains =
virtual_mailbox_base = @MAIL@
virtual_mailbox_maps = texthash:@CONF@/vmailbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
local_recipient_maps = $virtual_mailbox_maps
smtpd_reject_unlisted_recipient = yes

# No relaying, ever: loopback is not trusted (no permit_mynetworks).
relay_domains =
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions =
relay_domains_reject_code = 554

# Nothing leaves this machine.
default_transport = discard:realpeers delivers nothing off-host
relay_transport = discard:realpeers delivers nothing off-host

message_size_limit = 1048576
mailbox_size_limit = 0
virtual_mailbox_limit = 0

smtpd_tls_cert_file = @CERT@
smtpd_tls_key_file = @KEY@
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtp_tls_security_level = none

smtpd_sasl_type = dovecot
smtpd_sasl_path = @AUTH@
smtpd_sasl_auth_enable = no

maillog_file = @LOG@
maillog_file_prefixes = @DIR@
`)
}

func (l *mailLayout) postfixMasterCF() string {
	var b strings.Builder
	b.WriteString("# Generated by mailflow internal/realpeers. No chroot (column 5 = n): a private queue has no jail.\n")
	fmt.Fprintf(&b, "127.0.0.1:%d inet n - n - - smtpd\n", l.ports.smtp)
	fmt.Fprintf(&b, "127.0.0.1:%d inet n - n - - smtpd\n", l.ports.submission)
	b.WriteString("  -o syslog_name=postfix/submission\n")
	b.WriteString("  -o smtpd_tls_security_level=encrypt\n")
	b.WriteString("  -o smtpd_sasl_auth_enable=yes\n")
	b.WriteString("  -o smtpd_tls_auth_only=yes\n")
	b.WriteString("  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject_unauth_destination\n")
	b.WriteString("  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject\n")
	fmt.Fprintf(&b, "127.0.0.1:%d inet n - n - - smtpd\n", l.ports.submissions)
	b.WriteString("  -o syslog_name=postfix/submissions\n")
	b.WriteString("  -o smtpd_tls_wrappermode=yes\n")
	b.WriteString("  -o smtpd_sasl_auth_enable=yes\n")
	b.WriteString("  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject_unauth_destination\n")
	b.WriteString("  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject\n")
	fmt.Fprintf(&b, "127.0.0.1:%d inet n - n - - smtpd\n", l.ports.expired)
	b.WriteString("  -o syslog_name=postfix/expired\n")
	fmt.Fprintf(&b, "  -o smtpd_tls_cert_file=%s\n  -o smtpd_tls_key_file=%s\n", l.certs.ExpiredCertFile, l.certs.ExpiredKeyFile)
	fmt.Fprintf(&b, "127.0.0.1:%d inet n - n - - smtpd\n", l.ports.selfSigned)
	b.WriteString("  -o syslog_name=postfix/selfsigned\n")
	fmt.Fprintf(&b, "  -o smtpd_tls_cert_file=%s\n  -o smtpd_tls_key_file=%s\n", l.certs.SelfSignedCertFile, l.certs.SelfSignedKeyFile)
	b.WriteString(`pickup     unix  n - n 60   1 pickup
cleanup    unix  n - n -    0 cleanup
qmgr       unix  n - n 300  1 qmgr
tlsmgr     unix  - - n 1000? 1 tlsmgr
rewrite    unix  - - n -    - trivial-rewrite
bounce     unix  - - n -    0 bounce
defer      unix  - - n -    0 bounce
trace      unix  - - n -    0 bounce
verify     unix  - - n -    1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -    - proxymap
proxywrite unix  - - n -    1 proxymap
smtp       unix  - - n -    - smtp
relay      unix  - - n -    - smtp
showq      unix  n - n -    - showq
error      unix  - - n -    - error
retry      unix  - - n -    - error
discard    unix  - - n -    - discard
local      unix  - n n -    - local
virtual    unix  - n n -    - virtual
lmtp       unix  - - n -    - lmtp
anvil      unix  - - n -    1 anvil
scache     unix  - - n -    1 scache
postlog    unix-dgram n - n - 1 postlogd
`)
	return b.String()
}

func (l *mailLayout) dovecotConfText() string {
	r := strings.NewReplacer(
		"@INSTANCE@", l.instance,
		"@BASE@", l.dovecotBase,
		"@STATE@", l.dovecotState,
		"@LOG@", l.dovecotLog,
		"@CERT@", l.certs.CertFile,
		"@KEY@", l.certs.KeyFile,
		"@PASSWD@", l.passwd,
		"@MAIL@", l.mail,
		"@IMAP@", strconv.Itoa(l.ports.imap),
		"@IMAPS@", strconv.Itoa(l.ports.imaps),
		"@POP3@", strconv.Itoa(l.ports.pop3),
		"@POP3S@", strconv.Itoa(l.ports.pop3s),
	)
	return r.Replace(`# Generated by mailflow internal/realpeers: a standalone private instance.
instance_name = @INSTANCE@
base_dir = @BASE@
state_dir = @STATE@
log_path = @LOG@
info_log_path = @LOG@
default_internal_user = dovecot
default_login_user = dovenull
protocols = imap pop3
listen = 127.0.0.1
shutdown_clients = yes

ssl = yes
ssl_cert = <@CERT@
ssl_key = <@KEY@

# Plaintext logins are refused on insecure connections; note that Dovecot
# counts 127.0.0.1 -> 127.0.0.1 as secure.
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_username_format = %Ln

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n @PASSWD@
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=@MAIL@/%n allow_all_users=yes
}
mail_location = maildir:@MAIL@/%n
pop3_uidl_format = %08Xu%08Xv

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = @IMAP@
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = @IMAPS@
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = @POP3@
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = @POP3S@
    ssl = yes
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}
# No growing per-IP penalty (2, 4, 8 ... 15 s): every test comes from
# 127.0.0.1, so one test's wrong passwords would slow down the next. The
# fixed delay of about 2 s before each failure reply stays.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`)
}
