package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// execMailflow runs "mailflow ARGS" on a fresh command tree with ctx, stdin
// and stdout, and returns the exit status main would use and what reached
// standard error, followed by the error main would print (an exitError
// without a message has been reported by its command already, so it adds
// nothing, as in printError). stdout is a writer, not a buffer, so that a
// test can read a long-running command's output while it runs.
func execMailflow(ctx context.Context, t testing.TB, stdin io.Reader, stdout io.Writer, args ...string) (int, string) {
	t.Helper()
	root := newRootCmd()
	var errOut bytes.Buffer
	root.SetOut(stdout)
	root.SetErr(&errOut)
	root.SetIn(stdin)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK, errOut.String()
	}
	// cobra's own errors (unknown flag, wrong arguments) are usage errors,
	// as in run.
	code := exitUsage
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if ee == nil || ee.err != nil {
		errOut.WriteString(err.Error())
	}
	return code, errOut.String()
}

// runMailflow runs "mailflow ARGS" with stdin as standard input and returns
// the exit status main would use, stdout, and stderr with the error.
func runMailflow(t testing.TB, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out bytes.Buffer
	code, stderr = execMailflow(context.Background(), t, strings.NewReader(stdin), &out, args...)
	return code, out.String(), stderr
}

// runCheckCmd runs "mailflow check ARGS" with empty standard input.
func runCheckCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runMailflow(t, "", append([]string{"check"}, args...)...)
}

// runCfgCmd runs "mailflow ARGS" and returns the exit status and everything
// printed, stdout then stderr.
func runCfgCmd(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return runOutput(t, "", args...)
}

// runOutput runs "mailflow ARGS" with stdin as standard input and returns
// the exit status main would use and everything printed, stdout then
// stderr.
func runOutput(t testing.TB, stdin string, args ...string) (int, string) {
	t.Helper()
	code, out, errs := runMailflow(t, stdin, args...)
	return code, out + errs
}
