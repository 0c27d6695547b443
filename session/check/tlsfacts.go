package check

import (
	"errors"
	"net"

	"github.com/mailflow/mailflow/session/wire"
)

// tlsFacts returns the TLS facts for a Result: info when the connection
// has them, else, when err is a failed certificate verification, the
// verdict that error carries. An implicit-TLS handshake runs inside
// wire.Dial, which returns no connection (and so no TLSInfo) when it
// fails; the report must still say that verification failed and why,
// and the error carries the facts of the refused session.
func tlsFacts(info *wire.TLSInfo, err error, target string, opts Options) *wire.TLSInfo {
	if info != nil || err == nil {
		return info
	}
	var ve *wire.VerifyError
	if !errors.As(err, &ve) {
		return nil
	}
	if ve.Info != nil {
		return ve.Info
	}
	name := opts.TLSOptions.ServerName
	if name == "" {
		name, _, _ = net.SplitHostPort(target)
	}
	f := &wire.TLSInfo{ServerName: name, VerifyReason: ve.Reason}
	if ve.Err != nil {
		f.VerifyError = ve.Err.Error()
	}
	return f
}
