//go:build linux

package main

import (
	"net"
	"syscall"
)

// quickAck turns on TCP_QUICKACK on c, so that the proxy acknowledges at
// once and adds no delay of its own beyond OneWay: a delayed ACK from the
// proxy would stall a server that leaves Nagle on, which is the client's
// behaviour to measure (mfbench stall), not the proxy's.
func quickAck(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		if rc, err := tc.SyscallConn(); err == nil {
			_ = rc.Control(func(fd uintptr) {
				_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
			})
		}
	}
}
