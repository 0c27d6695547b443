// Package sshtest holds what the SSH server tests (internal/sshserve and
// the serve command) share: a fresh in-memory client key and a buffer
// that the server's goroutines and the test can write and read at once.
//
// It implements no RFC; it backs the tests of the code that implements
// RFC 4253 and RFC 4254 through golang.org/x/crypto/ssh.
package sshtest
