// Package transcripttest holds the checks that protocol client tests make
// on a recorded conversation (a session/transcript Store): finding the
// entry of a line as it crossed the wire, and proving that no secret
// reached the record in any field a screen or export could show.
//
// It implements no RFC; it backs the tests of the clients that do.
package transcripttest
