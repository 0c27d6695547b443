package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mailflow/mailflow/internal/config"
)

func init() { register(newConfigCmd) }

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show where the configuration file is, print an example, check a file",
		Long: `mailflow reads defaults (sender, recipients, HELO name, resolvers, timeouts,
CA file) and named server profiles from a TOML file, by default
$XDG_CONFIG_HOME/mailflow/config.toml (~/.config/mailflow/config.toml).
The MAILFLOW_CONFIG environment variable names another file. Flags given
on the command line always win over the file.

Passwords are never read from the file: use password_file in a profile,
the MAILFLOW_PASSWORD environment variable, or type it when asked.`,
		Example: `  mailflow config path
  mailflow config example > "$(mailflow config path)"
  mailflow config check
  mailflow config check ./test-config.toml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(&cobra.Command{
		Use:     "path",
		Short:   "Print the path of the configuration file",
		Example: `  mailflow config path`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), config.DefaultPath())
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "example",
		Short: "Print a commented example configuration file",
		Long: `Print a commented example configuration file. Every setting in it is
commented out, so saving it unchanged changes nothing.`,
		Example: `  mailflow config example
  mkdir -p ~/.config/mailflow && mailflow config example > ~/.config/mailflow/config.toml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := io.WriteString(cmd.OutOrStdout(), config.Example())
			return err
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "check [FILE]",
		Short: "Check a configuration file (default: the one mailflow reads)",
		Long: `Check a configuration file: TOML syntax, unknown keys (each named with its
line), values, and the files it points at (ca_file, password files, which
must be readable by you alone).

Exit status: 0 the file is valid (or there is no file at the default
path, so mailflow uses its built-in defaults); 2 it has a problem or a
named file does not exist.`,
		Example: `  mailflow config check
  mailflow config check ~/other-mailflow.toml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConfigCheck(cmd.OutOrStdout(), args)
		},
	})
	return cmd
}

func runConfigCheck(w io.Writer, args []string) error {
	path, explicit := config.DefaultPath(), false
	if len(args) == 1 {
		path, explicit = args[0], true
	}
	cfg, err := config.Load(path)
	if errors.Is(err, config.ErrNotFound) && !explicit {
		fmt.Fprintf(w, "%s: no configuration file; mailflow uses its built-in defaults\n", path)
		return nil
	}
	if err != nil {
		return withCode(exitUsage, err)
	}
	if errs := cfg.CheckFiles(); len(errs) > 0 {
		return withCode(exitUsage, errors.Join(errs...))
	}
	profiles := "no profiles"
	if names := cfg.ProfileNames(); len(names) > 0 {
		profiles = fmt.Sprintf("%d profile(s): %s", len(names), strings.Join(names, ", "))
	}
	fmt.Fprintf(w, "%s: ok (%s)\n", path, profiles)
	return nil
}
