package mx

import (
	"errors"
	"fmt"
)

// Kind classifies a DNS failure. The values are stable strings: they
// appear in JSON output and scripts may match them.
type Kind string

// Error kinds.
const (
	// KindNXDomain: the name does not exist (RFC 2308 §2.1).
	KindNXDomain Kind = "nxdomain"
	// KindNoData: the name exists but has no record of that type
	// (RFC 2308 §2.2).
	KindNoData Kind = "nodata"
	// KindServFail: the server could not answer; often DNSSEC validation
	// failed or the authoritative servers are broken or unreachable.
	KindServFail Kind = "servfail"
	// KindRefused: the server will not answer this question for us.
	KindRefused Kind = "refused"
	// KindTimeout: no answer in time.
	KindTimeout Kind = "timeout"
	// KindNoResolver: there is no server to ask.
	KindNoResolver Kind = "no_resolver"
	// KindNetwork: the server could not be reached (connection refused,
	// no route).
	KindNetwork Kind = "network"
	// KindBadInput: the domain is malformed; nothing was asked.
	KindBadInput Kind = "bad_input"
	// KindCanceled: the caller cancelled the lookup.
	KindCanceled Kind = "canceled"
	// KindOther: any other rcode (FORMERR, NOTIMP, ...).
	KindOther Kind = "other"
)

// Unreachable reports whether the kind means DNS could not be asked at all,
// as opposed to DNS answering that something is missing or broken.
func (k Kind) Unreachable() bool {
	switch k {
	case KindTimeout, KindNoResolver, KindNetwork, KindRefused, KindCanceled:
		return true
	}
	return false
}

// Error is a failed DNS question.
type Error struct {
	// Kind classifies the failure.
	Kind Kind
	// Name and Type are the question, when there was one.
	Name string
	Type string
	// Server is the HOST:PORT that gave the last answer or failure.
	Server string
	// Message says what happened in words.
	Message string
	// Err is the underlying error, if any.
	Err error
}

// Error returns "mx: TYPE NAME: KIND: MESSAGE (server S)".
func (e *Error) Error() string {
	s := "mx: "
	if e.Name != "" {
		s += e.Type + " " + e.Name + ": "
	}
	s += string(e.Kind) + ": " + e.Message
	if e.Server != "" {
		s += " (server " + e.Server + ")"
	}
	return s
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of an *Error in err's chain, or "" for nil and
// KindOther for any other error.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindOther
}

// ErrorInfo is the plain-value form of an error for pictures, events and
// JSON.
type ErrorInfo struct {
	Kind    Kind   `json:"kind"`
	Message string `json:"message"`
}

func info(err error) *ErrorInfo {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return &ErrorInfo{Kind: e.Kind, Message: e.Error()}
	}
	return &ErrorInfo{Kind: KindOther, Message: err.Error()}
}

// classify turns an answer into records of type t, or an *Error of kind
// nxdomain/nodata/... The CNAME chain is followed inside the answer: the
// records returned are those of type t anywhere in the answer section.
func classify(ans *Answer, err error, name string, t Type) ([]Record, error) {
	if err != nil {
		return nil, err
	}
	switch ans.Rcode {
	case RcodeSuccess:
		recs := ans.Of(t)
		if len(recs) == 0 {
			return nil, &Error{Kind: KindNoData, Name: name, Type: t.String(), Server: ans.Server,
				Message: fmt.Sprintf("the name exists but has no %s record", t)}
		}
		return recs, nil
	case RcodeNXDomain:
		return nil, &Error{Kind: KindNXDomain, Name: name, Type: t.String(), Server: ans.Server,
			Message: "the name does not exist (NXDOMAIN)"}
	case RcodeServFail:
		return nil, &Error{Kind: KindServFail, Name: name, Type: t.String(), Server: ans.Server,
			Message: "the server could not answer (SERVFAIL): often a DNSSEC validation failure or a broken authoritative server"}
	case RcodeRefused:
		return nil, &Error{Kind: KindRefused, Name: name, Type: t.String(), Server: ans.Server, Message: "the server refused to answer (REFUSED)"}
	}
	return nil, &Error{Kind: KindOther, Name: name, Type: t.String(), Server: ans.Server, Message: fmt.Sprintf("unexpected rcode %d", ans.Rcode)}
}
