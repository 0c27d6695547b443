package wire

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// Kind classifies a transport failure so that the checklist can tell a
// refused connection (nothing listens) from a timed-out one (a firewall
// drops packets), which lead to different causes.
type Kind string

// Failure kinds.
const (
	KindNone        Kind = ""
	KindRefused     Kind = "refused"     // RST to our SYN: host up, nothing listening
	KindTimeout     Kind = "timeout"     // no answer within the limit
	KindReset       Kind = "reset"       // the peer reset an established connection
	KindClosed      Kind = "closed"      // the peer closed the connection (EOF)
	KindUnreachable Kind = "unreachable" // no route to host or network
	KindDNS         Kind = "dns"         // the name did not resolve
	KindTLSVerify   Kind = "tls-verify"  // certificate verification failed
	KindTLS         Kind = "tls"         // TLS handshake or record failure
	KindLimit       Kind = "limit"       // a size limit was hit
	KindCanceled    Kind = "canceled"    // the user cancelled
	KindProtocol    Kind = "protocol"    // the peer broke the protocol
	KindInput       Kind = "input"       // our own input was refused before sending
	KindOther       Kind = "other"
)

// ProtocolError reports a reply that breaks the protocol's grammar.
type ProtocolError struct {
	Proto string
	Step  string
	Msg   string
}

func (e *ProtocolError) Error() string {
	return e.Proto + ": protocol error during " + stepName(e.Step) + ": " + e.Msg
}

// InputError reports input refused before anything was sent.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// Classify returns the kind of a transport error.
func Classify(err error) Kind {
	if err == nil {
		return KindNone
	}
	var (
		le  *LimitError
		te  *TimeoutError
		ve  *VerifyError
		pe  *ProtocolError
		ie  *InputError
		dns *net.DNSError
		ne  net.Error
		rec tls.RecordHeaderError
		ae  tls.AlertError
	)
	switch {
	case errors.As(err, &ie):
		return KindInput
	case errors.As(err, &le):
		return KindLimit
	case errors.Is(err, context.Canceled):
		return KindCanceled
	case errors.As(err, &te):
		return KindTimeout
	case errors.As(err, &ve):
		return KindTLSVerify
	case errors.As(err, &pe):
		return KindProtocol
	case errors.As(err, &dns):
		return KindDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return KindReset
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return KindUnreachable
	case errors.As(err, &rec), errors.As(err, &ae):
		return KindTLS
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return KindTimeout
	case errors.As(err, &ne) && ne.Timeout():
		return KindTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return KindClosed
	}
	var ce *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ce) || errors.As(err, &ua) {
		return KindTLSVerify
	}
	return KindOther
}
