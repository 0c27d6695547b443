package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// Config is the content of a configuration file. Paths in it (ca_file,
// password_file) are already resolved: "~/" is expanded and a relative
// path is taken relative to the file's directory.
type Config struct {
	// From is the default SMTP sender (MAIL FROM).
	From string `toml:"from"`
	// To are the default SMTP recipients (RCPT TO).
	To StringList `toml:"to"`
	// Helo is the default EHLO/HELO name.
	Helo string `toml:"helo"`
	// Resolvers are the DNS servers to ask, HOST[:PORT] each.
	Resolvers StringList `toml:"resolvers"`
	// Timeouts bound connections, single steps and whole sessions.
	Timeouts Timeouts `toml:"timeouts"`
	// CAFile is a PEM file of extra certificate authorities to trust.
	CAFile string `toml:"ca_file"`
	// Profiles are the named servers, from [profile.NAME] tables.
	Profiles map[string]Profile `toml:"profile"`

	// Path is the file the configuration was loaded from; empty when no
	// file was read.
	Path string `toml:"-"`
}

// Timeouts are the time limits of the [timeouts] table.
type Timeouts struct {
	// Connect bounds one TCP connection attempt (and the TLS handshake).
	Connect Duration `toml:"connect"`
	// Step bounds one command and its reply.
	Step Duration `toml:"step"`
	// Session bounds a whole check or conversation.
	Session Duration `toml:"session"`
}

// Profile is a named server with the settings to talk to it.
type Profile struct {
	// Server is HOST[:PORT] or [V6]:PORT.
	Server string `toml:"server"`
	// Protocol is "smtp", "pop3" or "imap".
	Protocol string `toml:"protocol"`
	// TLS is "none", "starttls" or "implicit".
	TLS string `toml:"tls"`
	// User is the login name.
	User string `toml:"user"`
	// PasswordFile holds the password on its first line.
	PasswordFile string `toml:"password_file"`
	// From overrides the default sender for this server.
	From string `toml:"from"`
	// To overrides the default recipients for this server.
	To StringList `toml:"to"`
	// Helo overrides the default EHLO/HELO name for this server.
	Helo string `toml:"helo"`
}

// Duration is a time.Duration written in the file as a string with a unit,
// such as "10s" or "2m30s".
type Duration time.Duration

// UnmarshalTOML accepts only strings: a bare integer would be read as
// nanoseconds, which is never what a person writing "timeout = 10" means.
func (d *Duration) UnmarshalTOML(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("a duration must be a quoted string with a unit, such as \"10s\", not %v", v)
	}
	td, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (write one such as \"10s\" or \"1m30s\")", s)
	}
	if td < 0 {
		return fmt.Errorf("duration %q is negative", s)
	}
	*d = Duration(td)
	return nil
}

// StringList is a list of strings that may also be written as a single
// string: to = "a@example.com" and to = ["a@example.com"] are the same.
type StringList []string

// UnmarshalTOML accepts a string or an array of strings.
func (l *StringList) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		*l = StringList{v}
		return nil
	case []any:
		out := make(StringList, 0, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("element %d is %v, want a quoted string", i+1, e)
			}
			out = append(out, s)
		}
		*l = out
		return nil
	}
	return fmt.Errorf("want a string or an array of strings, got %v", v)
}

// EnvConfig names the environment variable that replaces DefaultPath.
const EnvConfig = "MAILFLOW_CONFIG"

// DefaultPath is where the configuration file is looked for:
// $MAILFLOW_CONFIG when set, else $XDG_CONFIG_HOME/mailflow/config.toml,
// else ~/.config/mailflow/config.toml.
func DefaultPath() string {
	if p := os.Getenv(EnvConfig); p != "" {
		return p
	}
	return filepath.Join(xdgDir("XDG_CONFIG_HOME", ".config"), "mailflow", "config.toml")
}

// StateDir is mailflow's directory for state that should persist but is
// not configuration (such as the SSH host key): $XDG_STATE_HOME/mailflow,
// else ~/.local/state/mailflow.
func StateDir() string {
	return filepath.Join(xdgDir("XDG_STATE_HOME", filepath.Join(".local", "state")), "mailflow")
}

// DataDir is mailflow's directory for user data (transcripts, journals):
// $XDG_DATA_HOME/mailflow, else ~/.local/share/mailflow.
func DataDir() string {
	return filepath.Join(xdgDir("XDG_DATA_HOME", filepath.Join(".local", "share")), "mailflow")
}

// xdgDir follows the XDG Base Directory rule that a relative value of the
// variable is invalid and must be ignored.
func xdgDir(env, fallback string) string {
	if d := os.Getenv(env); d != "" && filepath.IsAbs(d) {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		home = "."
	}
	return filepath.Join(home, fallback)
}

// ErrNotFound is wrapped by Load when the file does not exist.
var ErrNotFound = errors.New("config: file not found")

// Load reads and checks the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, path)
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	cfg.resolvePaths(filepath.Dir(path))
	return cfg, nil
}

// Parse decodes and checks configuration text. name is used in error
// messages. Relative paths are left as written.
func Parse(data []byte, name string) (*Config, error) {
	cfg := &Config{Path: name}
	md, err := toml.Decode(string(data), cfg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("config: %s:%d: %s", name, pe.Position.Line, oneLine(pe.Message))
		}
		if m := decodeErr.FindStringSubmatch(err.Error()); m != nil {
			return nil, fmt.Errorf("config: %s:%s: %s: %s", name, m[1], oneLine(m[2]), oneLine(m[3]))
		}
		return nil, fmt.Errorf("config: %s: %s", name, oneLine(err.Error()))
	}
	if err := unknownKeys(data, name, md.Undecoded()); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("config: %s: %w", name, err)
	}
	return cfg, nil
}

// decodeErr matches the TOML library's type-mismatch errors, which are
// plain errors with the line in the text.
var decodeErr = regexp.MustCompile(`(?s)^toml: line (\d+) \(last key "(.*?)"\): (.*)$`)

// oneLine keeps an error message on one line (the TOML library's messages
// quote the offending text, which comes from the file).
func oneLine(s string) string {
	return transcript.PrintableString(strings.Join(strings.Fields(s), " "))
}

// passwordHelp explains why a password key is refused.
const passwordHelp = `passwords are never read from the configuration file (it is easily ` +
	`shared, copied or backed up): use password_file = "PATH" (a file only you can read), ` +
	`the MAILFLOW_PASSWORD environment variable, or type it at the prompt`

// unknownKeys turns undecoded keys into one error that names each key and
// its line. Only the outermost unknown key of a table is reported: an
// unknown [foo] table makes every key under it unknown too.
func unknownKeys(data []byte, name string, undecoded []toml.Key) error {
	if len(undecoded) == 0 {
		return nil
	}
	seen := map[string]bool{}
	type found struct {
		key  toml.Key
		line int
	}
	var list []found
	for _, k := range undecoded {
		outer := false
		for i := 1; i < len(k); i++ {
			if seen[k[:i].String()] {
				outer = true
				break
			}
		}
		seen[k.String()] = true
		if outer {
			continue
		}
		list = append(list, found{k, keyLine(data, k)})
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].line < list[j].line })
	var msgs []string
	for _, f := range list {
		where := name
		if f.line > 0 {
			where = fmt.Sprintf("%s:%d", name, f.line)
		}
		key := transcript.PrintableString(f.key.String())
		if f.key[len(f.key)-1] == "password" {
			msgs = append(msgs, fmt.Sprintf("%s: key %q refused: %s", where, key, passwordHelp))
			continue
		}
		msgs = append(msgs, fmt.Sprintf("%s: unknown key %q%s", where, key, suggest(f.key)))
	}
	return fmt.Errorf("config: %s", strings.Join(msgs, "; "))
}

// knownKeys lists the keys of each table, for "did you mean" hints.
var knownKeys = map[string][]string{
	"":         {"from", "to", "helo", "resolvers", "timeouts", "ca_file", "profile"},
	"timeouts": {"connect", "step", "session"},
	"profile.": {"server", "protocol", "tls", "user", "password_file", "from", "to", "helo"},
}

// suggest names the valid keys of the table an unknown key sits in.
func suggest(k toml.Key) string {
	table := strings.Join(k[:len(k)-1], ".")
	if len(k) == 3 && k[0] == "profile" {
		table = "profile."
	}
	keys, ok := knownKeys[table]
	if !ok {
		return ""
	}
	where := "at the top level"
	switch {
	case table == "profile.":
		where = "in a [profile.NAME] table"
	case table != "":
		where = "in [" + table + "]"
	}
	return fmt.Sprintf(" (valid keys %s: %s)", where, strings.Join(keys, ", "))
}

var profileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// validate checks values the TOML types cannot express.
func (c *Config) validate() error {
	names := make([]string, 0, len(c.Profiles))
	for n := range c.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !profileName.MatchString(n) {
			return fmt.Errorf("profile name %q: use letters, digits, '.', '_' or '-' (at most 64)", transcript.PrintableString(n))
		}
		p := c.Profiles[n]
		switch strings.ToLower(p.Protocol) {
		case "", "smtp", "pop3", "imap":
		default:
			return fmt.Errorf("profile %q: protocol %q: want smtp, pop3 or imap", n, transcript.PrintableString(p.Protocol))
		}
		if _, err := wire.ParseTLSMode(p.TLS); err != nil {
			return fmt.Errorf("profile %q: tls: %s", n, transcript.PrintableString(err.Error()))
		}
		if p.PasswordFile != "" && p.User == "" {
			return fmt.Errorf("profile %q: password_file without user", n)
		}
	}
	for _, r := range c.Resolvers {
		if strings.TrimSpace(r) == "" || strings.ContainsAny(r, " \t/") {
			return fmt.Errorf("resolvers: %q is not HOST[:PORT]", transcript.PrintableString(r))
		}
	}
	return nil
}

// resolvePaths expands "~/" and makes relative paths relative to dir.
func (c *Config) resolvePaths(dir string) {
	c.CAFile = resolvePath(c.CAFile, dir)
	for n, p := range c.Profiles {
		p.PasswordFile = resolvePath(p.PasswordFile, dir)
		c.Profiles[n] = p
	}
}

func resolvePath(p, dir string) string {
	if p == "" {
		return ""
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// CheckFiles reports problems with the files the configuration points at:
// a CA file or password file that cannot be read, or a password file that
// other users may read. Load does not do this, so that a missing file
// hurts only the command that needs it; `mailflow config check` does.
func (c *Config) CheckFiles() []error {
	var errs []error
	if c.CAFile != "" {
		if _, err := os.ReadFile(c.CAFile); err != nil {
			errs = append(errs, fmt.Errorf("config: ca_file: %w", err))
		}
	}
	names := make([]string, 0, len(c.Profiles))
	for n := range c.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		pf := c.Profiles[n].PasswordFile
		if pf == "" {
			continue
		}
		st, err := os.Stat(pf)
		if err != nil {
			errs = append(errs, fmt.Errorf("config: profile %q: password_file: %w", n, err))
			continue
		}
		if st.Mode().Perm()&0o077 != 0 {
			errs = append(errs, fmt.Errorf("config: profile %q: password_file %s can be read by other users (mode %04o); chmod 600 it",
				n, pf, st.Mode().Perm()))
		}
	}
	return errs
}

// ProfileNames returns the profile names in order.
func (c *Config) ProfileNames() []string {
	names := make([]string, 0, len(c.Profiles))
	for n := range c.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
