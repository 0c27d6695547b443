// Package wizard holds the guided procedures (the classic "test SMTP by
// hand" run that Exchange administrators do with telnet, plus POP3 and IMAP
// equivalents) as data, and a pure state machine that walks them.
//
// The steps live in embedded TOML under assets/procedure: for each one, what
// will be sent (a template), why, what success and failure look like, the
// common replies, and which diag/checklist step to open when it fails.
//
// Machine does no I/O, starts no goroutines and reads no clock. The TUI asks
// it what to do (Next), carries the action out through the session code in
// a tea.Cmd, and feeds the outcome back (Observe for a reply, ObserveMX for
// the MX lookup, Sent for steps the server does not answer, ObserveFailure
// for a refused connection or a failed TLS handshake). Each of those returns
// a Verdict (ok, fail or retry, with a reason written for a junior operator)
// and the new current step. Machine is a small value: hold it in the model
// and call the pointer methods on the field; copies do not share state.
//
// Passwords never enter the Machine: for a secret step Next returns an
// Action with no Lines, and the caller prompts and calls Action.Fill, which
// encodes the password the way the step needs (base64 for AUTH LOGIN, a
// quoted string for IMAP LOGIN).
//
// CheckTyped serves practice mode: it looks at a line the operator typed
// for a step and spots mistakes before anything is sent (a missing colon or
// angle brackets in MAIL FROM/RCPT TO, commands out of order, a body line
// that would end DATA early, an unknown verb). Errors block; warnings allow.
//
// Example, inside a bubbletea Update:
//
//	case replyMsg:
//		v, step := m.wiz.Observe(wizard.Reply{Lines: msg.lines})
//		m.status = v.Reason
//		if v.Kind == wizard.VerdictFail {
//			ev := m.wiz.Evidence()
//			ev.Reply.Category = string(replycode.Explain(...).Category)
//			m.checklist = checklist.Evaluate(v.Checklist, ev)
//		}
//		if v.StartTLS || m.wiz.Next().Kind == wizard.ActSend {
//			return m, m.run(m.wiz.Next()) // a tea.Cmd that talks to the session
//		}
//		_ = step
//
// RFCs: RFC 5321 (SMTP commands, reply codes, dot-stuffing, HELO fallback),
// RFC 3207 (STARTTLS, and forgetting capabilities afterwards), RFC 4954 and
// the LOGIN mechanism (AUTH), RFC 3461 (DSN NOTIFY), RFC 5322 (headers and
// the blank line), RFC 7505 (null MX), RFC 1939 and RFC 2449/3206 (POP3),
// RFC 2595 (STLS), RFC 9051 and RFC 5530 (IMAP tags, LOGINDISABLED,
// response codes).
package wizard
