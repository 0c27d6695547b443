// Package pop3d is a small POP3 server for the mailflow lab.
//
// It implements the whole of RFC 1939 except APOP: the AUTHORIZATION state
// with USER/PASS, the TRANSACTION state (STAT, LIST, UIDL, TOP, RETR with
// dot-stuffing, DELE, RSET, NOOP) and the UPDATE state entered by QUIT,
// where deletions are committed. A session that ends any other way
// (dropped connection, server shutdown) commits nothing, as RFC 1939
// section 6 requires.
//
// Extensions: CAPA and the RESP-CODES / AUTH-RESP-CODE response codes from
// RFC 2449 and RFC 3206 ([AUTH], [IN-USE], [SYS/TEMP], [SYS/PERM]), and
// STLS from RFC 2595. After STLS the server throws away nothing silently:
// if the client pipelined plaintext after the STLS command the connection
// is closed, because accepting those bytes as if they were protected would
// allow command injection (the class of bug described in CVE-2011-0411).
//
// Storage is the caller's: a Backend authenticates a user and returns a
// Maildrop, a snapshot of the messages taken when the maildrop is locked.
package pop3d
