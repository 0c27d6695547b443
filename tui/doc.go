// Package tui is mailflow's full-screen terminal interface, built on
// Bubble Tea v2.
//
// One root model (Model) owns five panes: the MX picture, the live
// transcript, the reply explainer, the procedure wizard and the failure
// checklist. Panes are plain structs with pointer receivers; the root
// routes keys to the focused pane and data messages by type and session
// id. All session and DNS work goes through the Backend interface and runs
// inside tea.Cmd bodies, so Update never blocks and the package never
// opens a socket itself.
//
// The procedure is a diag/wizard.Machine held by the root model (pure
// logic, no I/O): Update asks it for the next action, runs the action in
// a Cmd and feeds the outcome back; the wizard pane draws rows rebuilt
// from the machine, and a failed verdict opens the diag/checklist step it
// names. Passwords are typed at a masked prompt and live only in the Cmd
// that sends them.
//
// Every byte that came from a server reaches the screen only through
// transcript.Printable (directly or via transcript.Entry.Text), so a
// hostile server cannot send escape sequences (OSC 52 clipboard writes,
// title changes, cursor moves) to the operator's terminal.
//
// The package implements no protocol itself; the RFCs it shows data for
// (RFC 5321 SMTP, RFC 1939 POP3, RFC 9051 IMAP, RFC 3463 enhanced status
// codes, RFC 4954 AUTH) are implemented in session and diag.
package tui
