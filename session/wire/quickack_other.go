//go:build !linux

package wire

import "net"

// quickAck returns c unchanged: TCP_QUICKACK is Linux-only (see
// quickack_linux.go for why it matters there).
func quickAck(c net.Conn) net.Conn { return c }
