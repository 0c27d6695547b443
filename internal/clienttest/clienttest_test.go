package clienttest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mailflow/mailflow/session/wire"
)

// fakeClient records how it was dialled and closed.
type fakeClient struct {
	ctx    context.Context
	opts   wire.Options
	closed int
}

func (f *fakeClient) Close() error { f.closed++; return nil }

// fatalTB turns Fatalf into a recorded message and a Goexit, like
// testing.T, without failing the enclosing test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f)
}

func TestDial(t *testing.T) {
	var fc *fakeClient
	t.Run("inner", func(t *testing.T) {
		limits := wire.Limits{MaxLine: 77}
		c, ctx, ts := Dial(t, func(ctx context.Context, addr string, opts wire.Options) (*fakeClient, error) {
			if addr != "127.0.0.1:1" {
				t.Errorf("addr = %q", addr)
			}
			fc = &fakeClient{ctx: ctx, opts: opts}
			return fc, nil
		}, "127.0.0.1:1", wire.Options{Limits: limits})
		if c != fc || ctx != fc.ctx || ts == nil || fc.opts.Transcript != ts || fc.opts.Limits != limits {
			t.Fatalf("Dial passed opts %+v, ctx %v; returned %v, %v, %v", fc.opts, fc.ctx, c, ctx, ts)
		}
		if d, ok := ctx.Deadline(); !ok || time.Until(d) > Timeout {
			t.Errorf("context deadline %v, %v; want within %v", d, ok, Timeout)
		}
		if fc.closed != 0 {
			t.Error("client closed before the test ended")
		}
	})
	if fc == nil || fc.closed != 1 {
		t.Fatalf("client closed %v times at the end of the test, want 1", fc)
	}
	if fc.ctx.Err() == nil {
		t.Error("context not cancelled at the end of the test")
	}
}

func TestDialFailureStopsTheTest(t *testing.T) {
	refused := errors.New("greeting refused")
	f := &fatalTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != f {
				panic(r)
			}
		}()
		Dial(f, func(context.Context, string, wire.Options) (*fakeClient, error) { return nil, refused }, "127.0.0.1:2", wire.Options{})
		t.Error("Dial returned after a failed dial")
	}()
	if f.msg != "dial 127.0.0.1:2: greeting refused" {
		t.Errorf("Fatalf message = %q", f.msg)
	}
}
