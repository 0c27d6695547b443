package clienttest

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/session/wire"
)

// Timeout bounds a test's context: long enough for a busy machine, short
// enough that a hung conversation fails instead of waiting for go test's
// own timeout.
const Timeout = 10 * time.Second

// Context returns a context cancelled after Timeout or when the test ends.
func Context(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	tb.Cleanup(cancel)
	return ctx
}

// Dial calls dial (a protocol package's Dial) for addr with opts, whose
// Transcript it sets to a new store, under a Context. It stops the test
// when dial fails and closes the client when the test ends. It returns the
// client, the context to drive it with and the store.
func Dial[C io.Closer](tb testing.TB, dial func(context.Context, string, wire.Options) (C, error), addr string, opts wire.Options) (C, context.Context, *transcript.Store) {
	tb.Helper()
	ctx := Context(tb)
	ts := transcript.NewStore()
	opts.Transcript = ts
	c, err := dial(ctx, addr, opts)
	if err != nil {
		tb.Fatalf("dial %s: %v", addr, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c, ctx, ts
}
