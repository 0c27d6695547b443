// Package addr checks and normalises what a user types where mailflow
// expects a domain, a mailbox, a host[:port] or any other argument that
// ends up on the wire of a mail protocol.
//
// Everything here is pure: no DNS, no network. The parsers refuse bad input
// with a *SyntaxError that says what is wrong and where (a 1-based character
// position), so that a command or the TUI can show it to the user as is.
//
// Implemented specifications:
//
//   - RFC 5321 §4.1.2 (Mailbox, Local-part, Dot-string, Quoted-string,
//     address literals) and §4.5.3.1 (size limits: local part 64 octets,
//     domain 255, path 256 including the angle brackets, so 254 for the
//     mailbox itself).
//   - RFC 5321 §4.1.3 (address literals: [192.0.2.1], [IPv6:2001:db8::1]).
//   - RFC 1035 §2.3.1/§2.3.4 and RFC 1123 §2.1 (host name syntax: letters,
//     digits and hyphens; labels of at most 63 octets).
//   - RFC 5890/5891 (IDNA2008) through golang.org/x/net/idna, with UTS #46
//     mapping for lookup, so a domain can be typed in Unicode.
//   - RFC 6531 §3.3 (SMTPUTF8: a local part with non-ASCII characters needs
//     the SMTPUTF8 extension).
//   - RFC 7505 has nothing to parse, but the null reverse-path "<>" of
//     RFC 5321 §4.5.5 is accepted only by ParseReversePath.
//
// CheckArg guards every protocol argument against CR, LF and NUL, which
// would let a value smuggle a second command into an SMTP, POP3 or IMAP
// conversation (the "SMTP smuggling" family of bugs).
package addr
