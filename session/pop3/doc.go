// Package pop3 is mailflow's POP3 client: a thin, fully recorded client
// that speaks the commands an engineer would type in a telnet session and
// parses every server response into a typed form.
//
// Every line sent and received goes to the connection's transcript
// (session/transcript) through session/wire. Secrets never do: the PASS
// argument and AUTH payloads are recorded as "<redacted>". Base64
// challenges sent by the server during AUTH are decoded into the entry's
// annotation when they are printable text.
//
// Responses are parsed strictly. A status other than "+OK" or "-ERR" (for
// example "+ERR") is a protocol error, never a success; multi-line
// responses end with a line holding a single "." and their lines are
// dot-unstuffed (RFC 1939 section 3). The size of a multi-line response is
// bounded by wire.Limits: MaxData for message text (RETR, TOP), MaxReply for
// everything else.
//
// Implemented: RFC 1939 (POP3: USER, PASS, STAT, LIST, UIDL, TOP, RETR,
// DELE, RSET, NOOP, QUIT; the APOP timestamp of the greeting is noted),
// RFC 2449 (CAPA and extended response codes such as [IN-USE] and
// [LOGIN-DELAY]), RFC 2595 (STLS), RFC 3206 ([SYS/TEMP], [SYS/PERM] and
// [AUTH]) and RFC 5034 (AUTH, used here with SASL PLAIN, RFC 4616).
package pop3
