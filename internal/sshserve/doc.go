// Package sshserve is the SSH server behind `mailflow serve`: every user
// who logs in with an authorized key gets a terminal session running one
// program (the mailflow TUI), and nothing else.
//
// What it allows, and why:
//
//   - Public-key authentication only (RFC 4252 §7), checked against an
//     OpenSSH authorized_keys file. No password or keyboard-interactive
//     method is offered, so there is nothing to guess. The file is read
//     again on every login attempt (not on SIGHUP): adding or removing a
//     key takes effect for the next login without a signal, and the file
//     is small. A key line with options the server does not enforce
//     (from=, command=, permitopen=, no-pty and the like) is skipped
//     rather than honoured half-way; options that only take away what is
//     never given (restrict, no-port-forwarding and friends) are fine.
//   - One "session" channel per connection (RFC 4254 §6.1) that must ask
//     for a pseudo-terminal ("pty-req", §6.2) and then a "shell" (§6.5);
//     the shell is the program, never a real shell. An "exec" request
//     runs nothing: it gets a one-line refusal and exit status 1 (it is
//     acknowledged first, because clients drop the output of a failed
//     exec). "subsystem" requests (sftp), X11 and agent forwarding,
//     environment variables, direct-tcpip channels and tcpip-forward
//     global requests (§7) are refused. A session without a PTY gets a
//     one-line error.
//   - "window-change" requests (§6.7) become Resizes, so the program
//     redraws for the new size.
//   - When the program returns, the server sends "exit-status" (§6.10)
//     and closes the connection: there is no way through to a shell.
//   - A limit on concurrent sessions (extra users get a clear message),
//     an idle timeout (no keystroke for a while closes the session), a
//     bound on the handshake time and on handshakes in progress.
//
// The host key is an Ed25519 key (RFC 8709) created on first start and
// reused afterwards, so clients' known_hosts entries stay valid.
//
// Library choice: golang.org/x/crypto/ssh directly, not
// github.com/charmbracelet/wish. Only wish v1.1.1 (2023) is reachable
// from this build's module proxy; it requires the old github.com/
// charmbracelet/bubbletea v0.23, lipgloss v0.7, charmbracelet/log and a
// fork of gliderlabs/ssh, and pins golang.org/x/crypto v0.8. Its
// bubbletea middleware is for bubbletea v1, while mailflow runs bubbletea
// v2 (charm.land/bubbletea/v2), so the part of wish that would save the
// most code is unusable here and the rest is a thin layer over
// x/crypto/ssh, which mailflow already requires. Writing the few hundred
// lines against x/crypto/ssh keeps the dependency graph unchanged and
// makes the refusals above explicit and testable. This package imports
// no UI library; the program is given to it as a Handler.
package sshserve
