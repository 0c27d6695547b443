package tui

import (
	"github.com/mailflow/mailflow/session/transcript"
)

// transcriptMsg carries the session store's entries after a wake-up (one
// burst, coalesced by Store.WaitSince): the store's own slice, not a
// copy. Messages whose sid is not the current session's are stale and
// ignored.
type transcriptMsg struct {
	sid     int
	entries []transcript.Entry
	closed  bool
	err     error
}

// mxMsg carries MX events gathered since the last mxMsg of the same
// lookup.
type mxMsg struct {
	lookup int
	events []MXEvent
	done   bool
	err    error
	feed   *mxFeed
	next   int // events consumed so far
}

// connectedMsg reports the end of a Connect.
type connectedMsg struct {
	sid    int
	target Target
	sess   Session
	err    error
}

// replyMsg reports the reply to a wizard step or a typed command.
type replyMsg struct {
	sid     int
	step    int // index of the wizard step, -1 for raw commands
	command string
	reply   transcript.Reply
	err     error
}

// tlsMsg reports the end of a TLS handshake.
type tlsMsg struct {
	sid  int
	step int
	err  error
}

// connectRequestMsg is the MX pane's "connect to this host" intent.
type connectRequestMsg struct{ row MXRow }

// existsMsg answers whether the export path already exists.
type existsMsg struct {
	path   string
	exists bool
	err    error
}

// exportedMsg reports the end of an export.
type exportedMsg struct {
	path string
	err  error
}

// closedMsg reports that a session was closed.
type closedMsg struct{ sid int }

// scenarioMsg reports the end of a lab scenario switch.
type scenarioMsg struct {
	name string
	err  error
}
