// Package transcript records a mail protocol conversation as an
// append-only log of entries, and turns that log into text, Markdown and
// JSON-lines exports.
//
// An Entry is one line on the wire (a client command, one line of a server
// reply) or a local note (TLS upgrade, an error, a limit that was hit).
// Entries are immutable once appended. Secrets are replaced when an entry
// is created, by the protocol code that knows it is inside AUTH, so no
// later path (screen, export, journal) can leak them.
//
// A Store is written by one session goroutine and read by any number of
// readers. WaitSince lets a reader block until new entries arrive and
// returns everything new at once, so a burst of server lines costs a
// reader one wake-up, not one per line.
//
// Server bytes are untrusted. Printable renders any byte string inert:
// every C0 and C1 control character (except TAB), DEL, bidirectional
// overrides and invalid UTF-8 become visible symbols, so nothing a server
// sends can move the cursor, retitle the window or write the clipboard.
package transcript
