package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mailflow/mailflow/session/transcript"
)

// Settings are the values of a configuration with one profile applied on
// top of the file's defaults. Empty fields were not set.
type Settings struct {
	// Profile is the profile name used, or "".
	Profile string
	// Server is HOST[:PORT] from the profile.
	Server string
	// Protocol is "smtp", "pop3" or "imap" from the profile.
	Protocol string
	// TLS is "none", "starttls" or "implicit" from the profile.
	TLS string
	// User is the login name from the profile.
	User string
	// PasswordFile is the profile's password file, resolved.
	PasswordFile string
	// From is the sender (the profile's, else the default).
	From string
	// To are the recipients (the profile's, else the default).
	To []string
	// Helo is the EHLO/HELO name (the profile's, else the default).
	Helo string
	// Resolvers are the DNS servers to ask.
	Resolvers []string
	// ConnectTimeout bounds one connection attempt.
	ConnectTimeout time.Duration
	// StepTimeout bounds one command and its reply.
	StepTimeout time.Duration
	// SessionTimeout bounds a whole check or conversation.
	SessionTimeout time.Duration
	// CAFile is a PEM file of extra certificate authorities.
	CAFile string
}

// Settings merges the named profile (none when profile is "") over the
// defaults.
func (c *Config) Settings(profile string) (Settings, error) {
	s := Settings{
		From:           c.From,
		To:             append([]string(nil), c.To...),
		Helo:           c.Helo,
		Resolvers:      append([]string(nil), c.Resolvers...),
		ConnectTimeout: time.Duration(c.Timeouts.Connect),
		StepTimeout:    time.Duration(c.Timeouts.Step),
		SessionTimeout: time.Duration(c.Timeouts.Session),
		CAFile:         c.CAFile,
	}
	if profile == "" {
		return s, nil
	}
	p, ok := c.Profiles[profile]
	if !ok {
		known := "none are defined"
		if names := c.ProfileNames(); len(names) > 0 {
			known = "defined: " + strings.Join(names, ", ")
		}
		return s, fmt.Errorf("config: %s: no profile %q (%s)", c.Path, transcript.PrintableString(profile), known)
	}
	s.Profile = profile
	s.Server = p.Server
	s.Protocol = strings.ToLower(p.Protocol)
	s.TLS = strings.ToLower(p.TLS)
	s.User = p.User
	s.PasswordFile = p.PasswordFile
	if p.From != "" {
		s.From = p.From
	}
	if len(p.To) > 0 {
		s.To = append([]string(nil), p.To...)
	}
	if p.Helo != "" {
		s.Helo = p.Helo
	}
	return s, nil
}

// Setting keys, as written in the file (profile keys without the
// profile.NAME prefix), used as the keys of a FlagNames map.
const (
	KeyServer         = "server"
	KeyProtocol       = "protocol"
	KeyTLS            = "tls"
	KeyUser           = "user"
	KeyPasswordFile   = "password_file"
	KeyFrom           = "from"
	KeyTo             = "to"
	KeyHelo           = "helo"
	KeyResolvers      = "resolvers"
	KeyConnectTimeout = "timeouts.connect"
	KeyStepTimeout    = "timeouts.step"
	KeySessionTimeout = "timeouts.session"
	KeyCAFile         = "ca_file"
)

// DefaultFlagNames maps each setting to the flag that Apply fills. A
// command that names its flags differently passes its own map to
// ApplyNamed; a flag missing from the command is skipped.
var DefaultFlagNames = map[string]string{
	KeyServer:         "server",
	KeyProtocol:       "protocol",
	KeyTLS:            "tls",
	KeyUser:           "user",
	KeyPasswordFile:   "password-file",
	KeyFrom:           "from",
	KeyTo:             "to",
	KeyHelo:           "helo",
	KeyResolvers:      "resolver",
	KeyConnectTimeout: "connect-timeout",
	KeyStepTimeout:    "timeout",
	KeySessionTimeout: "session-timeout",
	KeyCAFile:         "ca-file",
}

// values lists the settings that have a value, as flag text.
func (s Settings) values() map[string][]string {
	v := map[string][]string{}
	put := func(k, val string) {
		if val != "" {
			v[k] = []string{val}
		}
	}
	put(KeyServer, s.Server)
	put(KeyProtocol, s.Protocol)
	put(KeyTLS, s.TLS)
	put(KeyUser, s.User)
	put(KeyPasswordFile, s.PasswordFile)
	put(KeyFrom, s.From)
	put(KeyHelo, s.Helo)
	put(KeyCAFile, s.CAFile)
	if len(s.To) > 0 {
		v[KeyTo] = s.To
	}
	if len(s.Resolvers) > 0 {
		v[KeyResolvers] = s.Resolvers
	}
	for k, d := range map[string]time.Duration{
		KeyConnectTimeout: s.ConnectTimeout,
		KeyStepTimeout:    s.StepTimeout,
		KeySessionTimeout: s.SessionTimeout,
	} {
		if d > 0 {
			v[k] = []string{d.String()}
		}
	}
	return v
}

// Apply sets, from s, every flag in DefaultFlagNames that the command has
// and that was not given on the command line. It returns the names of the
// flags it set.
func Apply(fs *pflag.FlagSet, s Settings) ([]string, error) {
	return ApplyNamed(fs, s, DefaultFlagNames)
}

// ApplyNamed is Apply with the command's own setting-to-flag names.
//
// The flag values are set through pflag.Value, not FlagSet.Set, so that
// Flag.Changed keeps meaning "given on the command line". A list setting
// replaces a list flag's default (pflag.SliceValue) and is joined with
// commas for a plain flag.
func ApplyNamed(fs *pflag.FlagSet, s Settings, names map[string]string) ([]string, error) {
	var set []string
	vals := s.values()
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := names[k]
		if name == "" {
			continue
		}
		f := fs.Lookup(name)
		if f == nil || f.Changed {
			continue
		}
		var err error
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			err = sv.Replace(vals[k])
		} else {
			err = f.Value.Set(strings.Join(vals[k], ","))
		}
		if err != nil {
			return set, fmt.Errorf("config: %s for --%s: %v", k, name, err)
		}
		set = append(set, name)
	}
	return set, nil
}

// Flag names added by AddFlags.
const (
	FlagConfig  = "config"
	FlagProfile = "profile"
)

// AddFlags adds --config and --profile to a command's flags.
func AddFlags(fs *pflag.FlagSet) {
	fs.String(FlagConfig, "", `configuration file (default $XDG_CONFIG_HOME/mailflow/config.toml; "none" reads no file)`)
	fs.String(FlagProfile, "", "use the server profile NAME ([profile.NAME]) from the configuration file")
}

// FromFlags is the one call a command makes: it loads the configuration
// file (--config, else $MAILFLOW_CONFIG, else DefaultPath), picks the
// --profile, and fills every flag that was not given on the command line
// (see Apply). A missing default file is not an error; a missing file
// that was named explicitly is. The returned Settings also carry values
// no flag took (such as the profile's server, which a command may take as
// an argument instead).
func FromFlags(fs *pflag.FlagSet) (Settings, error) {
	path, explicit := DefaultPath(), os.Getenv(EnvConfig) != ""
	if f := fs.Lookup(FlagConfig); f != nil && f.Changed {
		path, explicit = f.Value.String(), true
	}
	profile := ""
	if f := fs.Lookup(FlagProfile); f != nil {
		profile = f.Value.String()
	}
	if path == "none" || path == "" {
		if profile != "" {
			return Settings{}, fmt.Errorf("config: --profile %q needs a configuration file", transcript.PrintableString(profile))
		}
		return Settings{}, nil
	}
	cfg, err := Load(path)
	if errors.Is(err, ErrNotFound) && !explicit {
		if profile != "" {
			return Settings{}, fmt.Errorf("config: --profile %q: no configuration file at %s", transcript.PrintableString(profile), path)
		}
		return Settings{}, nil
	}
	if err != nil {
		return Settings{}, err
	}
	s, err := cfg.Settings(profile)
	if err != nil {
		return s, err
	}
	_, err = Apply(fs, s)
	return s, err
}
