// Package imap is mailflow's IMAP client: a thin, fully recorded client
// that sends the lines an engineer would type in a telnet session (tagged
// automatically when the user did not type a tag) and parses every server
// response into a typed form.
//
// It is deliberately not a general IMAP library: it reads responses line by
// line through session/wire so that the transcript shows exactly what
// travelled, keeps literals bounded, and can send lines that a structured
// client would never produce (the wizard's raw mode).
//
// Every line sent and received goes to the connection's transcript. Secrets
// never do: the LOGIN password and AUTHENTICATE payloads are recorded as
// "<redacted>". Base64 continuation requests ("+ ...") are decoded into the
// entry's annotation when they are printable text.
//
// Implemented, as far as a troubleshooting client needs: the response
// grammar of RFC 9051 and RFC 3501 (tagged, untagged and continuation
// responses, response codes, quoted strings, literals and parenthesized
// lists), RFC 7888 literals ({n} and {n+}), RFC 5530 response codes,
// STARTTLS (RFC 9051 section 6.2.1, RFC 2595), LOGIN, AUTHENTICATE PLAIN
// (RFC 4616) with SASL-IR (RFC 4959), CAPABILITY, LIST, SELECT, EXAMINE,
// FETCH, SEARCH, NOOP and LOGOUT.
package imap
