//go:build linux

package wire

import (
	"net"
	"syscall"
)

// quickAckConn turns on TCP_QUICKACK before each read, so that the kernel
// acknowledges what arrives at once instead of up to 40 ms later.
//
// Why: many servers (Postfix's smtpd among them) leave Nagle's algorithm
// on. After a TLS 1.3 handshake such a server writes its session tickets
// and then its reply to the next command; Nagle holds the reply back until
// the tickets are acknowledged, and a Linux client that has nothing to send
// delays that acknowledgement. The result is a 40 ms stall on about every
// other STARTTLS (measured with bench/run.sh), which is more than a whole
// round trip on most links. Linux clears the option by itself, so it is
// set again before every read (one cheap system call per read).
type quickAckConn struct {
	net.Conn
	rc syscall.RawConn
}

// quickAck wraps c when it is a socket; other connections (a test pipe,
// a proxy's stream) are returned as they are.
func quickAck(c net.Conn) net.Conn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	return &quickAckConn{Conn: c, rc: rc}
}

func (c *quickAckConn) Read(b []byte) (int, error) {
	_ = c.rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
	return c.Conn.Read(b)
}
