// Package config loads mailflow's configuration file and merges it with
// command-line flags.
//
// The file lives at $XDG_CONFIG_HOME/mailflow/config.toml (by default
// ~/.config/mailflow/config.toml, following the XDG Base Directory
// specification) and is TOML (https://toml.io/en/v1.0.0). It holds
// defaults (sender, recipients, HELO name, resolvers, timeouts, CA file)
// and named server profiles under [profile.NAME]. Unknown keys are an
// error that names the key and its line, so that a typo never silently
// changes nothing.
//
// Passwords are never read from the configuration file: a "password" key
// is refused. ReadPassword takes them from a password_file, from the
// MAILFLOW_PASSWORD environment variable, or from a no-echo prompt when
// standard input is a terminal (and never prompts otherwise).
//
// Flags win over the file: Apply (and FromFlags, the one call a command
// makes) sets only the flags that were not given on the command line.
//
// No RFC is implemented here; the values are passed on to the SMTP
// (RFC 5321), POP3 (RFC 1939) and IMAP (RFC 9051) clients.
package config
