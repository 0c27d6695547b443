package transcript

import (
	"bytes"
	"encoding/base64"
)

// redactedMark replaces a secret in a recorded line.
const redactedMark = "<redacted>"

// AddSecret registers values that must never be recorded: every later
// Append replaces each value, and its base64 form, with "<redacted>".
//
// Protocol clients already record the redacted form of the lines that
// carry credentials; this is the second line of defence, for a secret that
// shows up where nobody expected it (a server echoing a password back in
// an error, a user typing it in raw mode). Values shorter than four bytes
// are ignored: they would mangle ordinary text and guard nothing.
func (s *Store) AddSecret(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		if len(v) < 4 {
			continue
		}
		s.secrets = append(s.secrets, []byte(v), []byte(base64.StdEncoding.EncodeToString([]byte(v))))
	}
}

// scrub replaces registered secrets in e.Raw and e.Annotation.
func (s *Store) scrub(e *Entry) {
	for _, sec := range s.secrets {
		if bytes.Contains(e.Raw, sec) {
			e.Raw = bytes.ReplaceAll(e.Raw, sec, []byte(redactedMark))
			e.Redacted = true
		}
		if bytes.Contains([]byte(e.Annotation), sec) {
			e.Annotation = string(bytes.ReplaceAll([]byte(e.Annotation), sec, []byte(redactedMark)))
			e.Redacted = true
		}
		if e.Reply != nil {
			for i, l := range e.Reply.Lines {
				if bytes.Contains([]byte(l), sec) {
					r := *e.Reply
					r.Lines = append([]string(nil), r.Lines...)
					r.Lines[i] = string(bytes.ReplaceAll([]byte(l), sec, []byte(redactedMark)))
					e.Reply = &r
					e.Redacted = true
				}
			}
		}
	}
}
