// Command mailflow is a full-screen terminal program, and a set of batch
// commands, for troubleshooting mail flow: MX lookups, live SMTP, POP3 and
// IMAP conversations, reply-code explanations and a guided procedure.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"charm.land/fang/v2"
	"github.com/spf13/cobra"
)

// Exit statuses shared by every batch command. They are part of the
// documented interface: scripts branch on them.
const (
	exitOK          = 0 // every step succeeded / mail would flow
	exitRefused     = 1 // a server (or DNS) said no
	exitUsage       = 2 // bad usage or bad input
	exitUnreachable = 3 // DNS or the network could not be asked
)

// exitError carries an exit status out of a cobra RunE.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err so that main exits with code. A nil err with a
// non-zero code means the command already reported what happened.
func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// usageErr is a shortcut for a bad-input error (exit status 2).
func usageErr(format string, args ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, args...))
}

// commands is filled by each command file's init function, so that files
// can be added without editing this one.
var commands []func() *cobra.Command

func register(f func() *cobra.Command) { commands = append(commands, f) }

// setupRoot, when set (by the TUI command file), adds the root command's
// own flags and RunE: `mailflow [DOMAIN]` opens the TUI.
var setupRoot func(root *cobra.Command)

// version is set by the linker for release builds.
var version = "dev"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "mailflow",
		Short:         "Troubleshoot mail flow: MX, live SMTP/POP3/IMAP transcripts, reply codes",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, f := range commands {
		root.AddCommand(f())
	}
	if setupRoot != nil {
		setupRoot(root)
	}
	// cobra adds "completion" itself; give it examples like every other
	// command.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Example = `  mailflow completion bash > /etc/bash_completion.d/mailflow
  mailflow completion zsh > "${fpath[1]}/_mailflow"
  mailflow completion fish > ~/.config/fish/completions/mailflow.fish`
		for _, sh := range c.Commands() {
			sh.Example = "  source <(mailflow completion " + sh.Name() + ")"
			if sh.Name() == "powershell" {
				sh.Example = "  mailflow completion powershell | Out-String | Invoke-Expression"
			}
		}
	}
	return root
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	root.SetArgs(args)
	err := fang.Execute(ctx, root, fang.WithVersion(version), fang.WithErrorHandler(printError))
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// cobra's own errors (unknown flag, wrong arguments) are usage errors.
	return exitUsage
}

// printError writes err on one line; an exitError without a message has
// already been reported by its command.
func printError(w io.Writer, _ fang.Styles, err error) {
	var ee *exitError
	if errors.As(err, &ee) && ee.err == nil {
		return
	}
	fmt.Fprintf(w, "mailflow: %v\n", err)
}
