package config

// Example returns a commented example configuration file. Every setting is
// commented out, so the file as printed changes nothing; remove the "# "
// in front of a setting to use it.
func Example() string { return example }

const example = `# mailflow configuration file (TOML, https://toml.io).
#
# mailflow reads it from $XDG_CONFIG_HOME/mailflow/config.toml, by default
# ~/.config/mailflow/config.toml (see "mailflow config path"); the
# MAILFLOW_CONFIG environment variable or --config names another file.
# Flags given on the command line always win over this file.
# Check a file with "mailflow config check".
#
# Every setting below is commented out. Remove the "# " in front of a
# setting to use it. A key mailflow does not know is an error, so that a
# typo is caught instead of silently doing nothing.

# The sender used for MAIL FROM when none is given.
# from = "you@example.com"

# The recipients used for RCPT TO when none are given: one address as a
# string, or several in an array.
# to = ["postmaster@example.net"]

# The name sent with EHLO or HELO. It should be the sending host's own
# fully qualified name; many servers check that it resolves.
# helo = "client.example.com"

# DNS servers to ask instead of those in /etc/resolv.conf, HOST or
# HOST:PORT (the port defaults to 53).
# resolvers = ["192.0.2.53", "[2001:db8::53]:53"]

# A PEM file of extra certificate authorities to trust for TLS, such as a
# company CA. "~/" means your home directory; a relative path is relative
# to the directory of this file.
# ca_file = "~/.config/mailflow/company-ca.pem"

# Time limits, written with a unit ("500ms", "10s", "2m").
# [timeouts]
# connect = "10s"   # one TCP connection attempt, including the TLS handshake
# step = "30s"      # one command and its reply
# session = "5m"    # a whole check or conversation

# Named servers, used with --profile NAME. Each has its own table.
#
# protocol is smtp, pop3 or imap; tls is none, starttls or implicit.
# from, to and helo replace the defaults above for this server.
#
# There is no password key, on purpose: this file is easily shared or
# backed up. The password comes from password_file (its first line; the
# file must be readable by you alone, chmod 600), else from the
# MAILFLOW_PASSWORD environment variable, else you are asked for it
# when mailflow runs on a terminal.
# [profile.work]
# server = "smtp.example.com:587"
# protocol = "smtp"
# tls = "starttls"
# user = "you@example.com"
# password_file = "~/.config/mailflow/work.password"
# from = "you@example.com"
# to = ["colleague@example.com"]
# helo = "laptop.example.com"
#
# [profile.mailbox]
# server = "imap.example.com"
# protocol = "imap"
# tls = "implicit"
# user = "you"
`
