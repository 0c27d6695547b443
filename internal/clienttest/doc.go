// Package clienttest holds the set-up steps every test of a mailflow
// protocol client repeats: a context that bounds the test, and a dial that
// records into a fresh transcript, stops the test when the connection or
// greeting fails and closes the client when the test ends.
//
// It works with any client whose Dial has the shape of the POP3 (RFC
// 1939) and IMAP (RFC 9051) clients' Dial: (context, address,
// wire.Options) -> (client, error). It implements no RFC itself.
package clienttest
