package lab

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// imapSession wraps imapmemserver's session: Login consults the scenario
// and accepts "kate" or "kate@lab.test", and APPEND to INBOX records the
// message body so that POP3 sees it too.
type imapSession struct {
	*imapmemserver.UserSession // nil until Login succeeds

	l    *Lab
	conn *imapserver.Conn
	acct *account
}

func (s *imapSession) Login(user, pass string) error {
	if s.l.scenarioOf(s.conn.NetConn()) == IMAPLoginFailed {
		return imapserver.ErrAuthFailed
	}
	a := s.l.store.check(user, pass)
	if a == nil {
		return imapserver.ErrAuthFailed
	}
	s.acct = a
	s.UserSession = imapmemserver.NewUserSession(a.imap)
	return nil
}

func (s *imapSession) Append(mailbox string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	if !strings.EqualFold(mailbox, "INBOX") {
		return s.UserSession.Append(mailbox, r, options)
	}
	buf, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("lab: read APPEND literal: %w", err)
	}
	a := s.acct
	a.mu.Lock()
	defer a.mu.Unlock()
	data, err := s.UserSession.Append("INBOX", literal{bytes.NewReader(buf), int64(len(buf))}, options)
	if err != nil {
		return nil, err
	}
	a.bodies[data.UID] = buf
	return data, nil
}
