package lab

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/mailflow/mailflow/session/lab/pop3d"
)

// Domain is the mail domain the lab serves.
const Domain = "lab.test"

// User is a lab account. The credentials are published fixtures, not
// secrets: they only open mailboxes that live in the lab's memory.
type User struct {
	// Login is the name for USER, LOGIN and AUTH; the full address is
	// accepted too.
	Login string `json:"login"`
	// Password is the account's password.
	Password string `json:"password"`
	// Address is the account's mail address.
	Address string `json:"address"`
}

// defaultUsers are the lab's two accounts.
var defaultUsers = []User{
	{Login: "kate", Password: "kate-pass", Address: "kate@" + Domain},
	{Login: "chris", Password: "chris-pass", Address: "chris@" + Domain},
}

// account is one mailbox. IMAP (imapmemserver) is the authority on which
// messages exist in INBOX; bodies keeps every message's bytes by UID so
// that POP3 can read the very same messages without an IMAP round trip.
type account struct {
	User
	imap *imapmemserver.User

	mu      sync.Mutex
	bodies  map[imap.UID][]byte
	popLock bool
}

// store is the lab's shared in-memory mailbox store.
type store struct {
	imap     *imapmemserver.Server
	accounts map[string]*account // by login and by address, lower case
	list     []*account
}

func newStore(users []User) (*store, error) {
	s := &store{imap: imapmemserver.New(), accounts: make(map[string]*account)}
	for _, u := range users {
		iu := imapmemserver.NewUser(u.Login, u.Password)
		if err := iu.Create("INBOX", nil); err != nil {
			return nil, fmt.Errorf("lab: create INBOX for %s: %w", u.Login, err)
		}
		a := &account{User: u, imap: iu, bodies: make(map[imap.UID][]byte)}
		s.imap.AddUser(iu)
		s.accounts[strings.ToLower(u.Login)] = a
		s.accounts[strings.ToLower(u.Address)] = a
		s.list = append(s.list, a)
	}
	return s, nil
}

// users lists the accounts in configuration order.
func (s *store) users() []User {
	out := make([]User, len(s.list))
	for i, a := range s.list {
		out[i] = a.User
	}
	return out
}

// lookup finds an account by login name or address.
func (s *store) lookup(name string) *account {
	return s.accounts[strings.ToLower(strings.TrimSpace(name))]
}

// check returns the account if the password matches.
func (s *store) check(name, pass string) *account {
	a := s.lookup(name)
	if a == nil || a.imap.Login(a.Login, pass) != nil {
		return nil
	}
	return a
}

// literal adapts a byte slice to imap.LiteralReader.
type literal struct {
	*bytes.Reader
	n int64
}

func (l literal) Size() int64 { return l.n }

// deliver appends msg to the account's INBOX.
func (a *account) deliver(msg []byte) error {
	msg = bytes.Clone(msg)
	// Hold the lock across the append so that a POP3 login never sees a
	// UID in INBOX whose body is not recorded yet.
	a.mu.Lock()
	defer a.mu.Unlock()
	data, err := a.imap.Append("INBOX", literal{bytes.NewReader(msg), int64(len(msg))}, &imap.AppendOptions{})
	if err != nil {
		return fmt.Errorf("lab: deliver to %s: %w", a.Address, err)
	}
	a.bodies[data.UID] = msg
	return nil
}

// inbox returns the UID validity and the UIDs of the messages now in
// INBOX, in order. The caller holds a.mu.
func (a *account) inboxLocked() (sess *imapmemserver.UserSession, validity uint32, uids []imap.UID, err error) {
	sess = imapmemserver.NewUserSession(a.imap)
	sel, err := sess.Select("INBOX", &imap.SelectOptions{})
	if err != nil {
		return nil, 0, nil, fmt.Errorf("lab: select INBOX of %s: %w", a.Login, err)
	}
	res, err := sess.Search(imapserver.NumKindUID, &imap.SearchCriteria{}, &imap.SearchOptions{})
	if err != nil {
		sess.Close()
		return nil, 0, nil, fmt.Errorf("lab: list INBOX of %s: %w", a.Login, err)
	}
	set, _ := res.All.(imap.UIDSet)
	uids, _ = set.Nums()
	slices.Sort(uids)
	return sess, sel.UIDValidity, uids, nil
}

// messages returns a copy of the INBOX messages, oldest first.
func (a *account) messages() ([][]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	sess, _, uids, err := a.inboxLocked()
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	var out [][]byte
	for _, uid := range uids {
		if b, ok := a.bodies[uid]; ok {
			out = append(out, bytes.Clone(b))
		}
	}
	return out, nil
}

// openMaildrop locks the account for POP3 (RFC 1939 section 4: one
// session at a time) and snapshots INBOX.
func (a *account) openMaildrop() (*maildrop, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.popLock {
		return nil, pop3d.ErrInUse
	}
	sess, validity, uids, err := a.inboxLocked()
	if err != nil {
		return nil, err
	}
	sess.Close()
	d := &maildrop{a: a, byUID: make(map[string]imap.UID)}
	for _, uid := range uids {
		// Messages that reached INBOX by IMAP COPY/MOVE have no recorded
		// body; POP3 does not show them.
		b, ok := a.bodies[uid]
		if !ok {
			continue
		}
		id := fmt.Sprintf("%d.%d", validity, uid)
		d.msgs = append(d.msgs, pop3d.Message{UID: id, Data: b})
		d.byUID[id] = uid
	}
	a.popLock = true
	return d, nil
}

// maildrop is a POP3 view of one account.
type maildrop struct {
	a     *account
	msgs  []pop3d.Message
	byUID map[string]imap.UID
	once  sync.Once
}

func (d *maildrop) Messages() []pop3d.Message { return d.msgs }

// Commit flags the messages \Deleted and expunges them from INBOX, so IMAP
// sees the deletion too.
func (d *maildrop) Commit(deleted []string) error {
	var set imap.UIDSet
	for _, id := range deleted {
		if uid, ok := d.byUID[id]; ok {
			set.AddNum(uid)
		}
	}
	if len(set) == 0 {
		return nil
	}
	a := d.a
	a.mu.Lock()
	defer a.mu.Unlock()
	sess, _, _, err := a.inboxLocked()
	if err != nil {
		return err
	}
	defer sess.Close()
	flags := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
	if err := sess.Store(nil, set, flags, &imap.StoreOptions{}); err != nil {
		return fmt.Errorf("lab: flag deleted messages of %s: %w", a.Login, err)
	}
	if err := sess.Expunge(nil, &set); err != nil {
		return fmt.Errorf("lab: expunge messages of %s: %w", a.Login, err)
	}
	uids, _ := set.Nums()
	for _, uid := range uids {
		delete(a.bodies, uid)
	}
	return nil
}

func (d *maildrop) Close() error {
	d.once.Do(func() {
		d.a.mu.Lock()
		d.a.popLock = false
		d.a.mu.Unlock()
	})
	return nil
}

// pop3Backend connects pop3d to the store and the active scenario.
type pop3Backend struct{ l *Lab }

func (b pop3Backend) Login(conn net.Conn, user, pass string) (pop3d.Maildrop, error) {
	if b.l.scenarioOf(conn) == POP3LoginFailed {
		return nil, pop3d.ErrAuthFailed
	}
	a := b.l.store.check(user, pass)
	if a == nil {
		return nil, pop3d.ErrAuthFailed
	}
	return a.openMaildrop()
}
