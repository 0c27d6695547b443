package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// EnvPassword is the environment variable ReadPassword is usually given.
const EnvPassword = "MAILFLOW_PASSWORD"

// ErrNoPassword is returned by ReadPassword when no source has a password
// and it may not prompt.
var ErrNoPassword = errors.New("config: no password: set password_file in the profile, " +
	"set " + EnvPassword + ", or run on a terminal to be asked")

// maxPasswordFile bounds how much of a password file is read.
const maxPasswordFile = 4096

// Hooks for tests; the real ones use standard input and standard error.
var (
	stdinFd                = func() int { return int(os.Stdin.Fd()) }
	isTerminal             = term.IsTerminal
	readNoEcho             = term.ReadPassword
	promptOutput io.Writer = os.Stderr
)

// ReadPassword finds a password: the first line of file when file is not
// empty, else the environment variable envVar when it is set and not
// empty, else a no-echo prompt on standard error when tty is true and
// standard input really is a terminal. It never prompts otherwise (a
// script must not hang), and returns ErrNoPassword.
//
// A password file that group or other users can read or write is
// refused, as OpenSSH refuses such private keys.
func ReadPassword(file string, envVar string, tty bool) (string, error) {
	if file != "" {
		return readPasswordFile(file)
	}
	if envVar != "" {
		if v := os.Getenv(envVar); v != "" {
			return v, nil
		}
	}
	if !tty || !isTerminal(stdinFd()) {
		return "", ErrNoPassword
	}
	fmt.Fprint(promptOutput, "Password: ")
	b, err := readNoEcho(stdinFd())
	fmt.Fprintln(promptOutput)
	if err != nil {
		return "", fmt.Errorf("config: read password: %w", err)
	}
	if len(b) == 0 {
		return "", fmt.Errorf("config: empty password typed")
	}
	return string(b), nil
}

func readPasswordFile(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("config: password file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("config: password file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("config: password file %s is not a regular file", file)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("config: password file %s can be read or written by other users (mode %04o); run chmod 600 %s",
			file, st.Mode().Perm(), file)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxPasswordFile+1))
	if err != nil {
		return "", fmt.Errorf("config: password file %s: %w", file, err)
	}
	if len(b) > maxPasswordFile {
		return "", fmt.Errorf("config: password file %s is longer than %d bytes; it should hold the password on one line", file, maxPasswordFile)
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return "", fmt.Errorf("config: password file %s: the first line is empty", file)
	}
	return string(b), nil
}
