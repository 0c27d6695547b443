//go:build linux

package wire

import (
	"context"
	"net"
	"syscall"
	"testing"
)

// TestQuickAckBeforeRead checks that a dialled TCP connection is wrapped
// and that a read leaves TCP_QUICKACK on, and that a connection that is
// not a socket is left alone.
func TestQuickAckBeforeRead(t *testing.T) {
	addr := serve(t, func(c net.Conn) { c.Write([]byte("220 hi\r\n")); c.Read(make([]byte, 1)) })
	c, err := Dial(context.Background(), addr, Options{Proto: "smtp"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	qc, ok := c.nc.(*quickAckConn)
	if !ok {
		t.Fatalf("Dial's connection is a %T, want *quickAckConn", c.nc)
	}
	if _, err := c.ReadLine(context.Background(), "greeting"); err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := qc.rc.Control(func(fd uintptr) {
		v, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK)
	}); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	if v != 1 {
		t.Errorf("TCP_QUICKACK = %d after a read, want 1", v)
	}

	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if got := quickAck(a); got != a {
		t.Errorf("quickAck(pipe) = %T, want the pipe itself", got)
	}
}
