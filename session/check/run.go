package check

import (
	"context"
	"strings"
	"sync"
)

// Runner runs the procedure of one protocol.
type Runner func(ctx context.Context, opts Options) *Result

var (
	runnersMu sync.RWMutex
	runners   = map[string]Runner{"smtp": RunSMTP}
)

// Register makes a protocol's runner available to Run. The POP3 and IMAP
// runners register themselves from an init function, so that Run (and
// the check command) needs no change when they are added.
func Register(protocol string, r Runner) {
	runnersMu.Lock()
	defer runnersMu.Unlock()
	runners[strings.ToLower(protocol)] = r
}

// Protocols returns the protocols with a registered runner.
func Protocols() []string {
	runnersMu.RLock()
	defer runnersMu.RUnlock()
	out := make([]string, 0, len(runners))
	for p := range runners {
		out = append(out, p)
	}
	return out
}

// Run runs the procedure for opts.Protocol ("smtp" when empty). An
// unknown protocol gives a usage Result (exit 2).
func Run(ctx context.Context, opts Options) *Result {
	p := strings.ToLower(opts.Protocol)
	if p == "" {
		p = "smtp"
	}
	runnersMu.RLock()
	r, ok := runners[p]
	runnersMu.RUnlock()
	if !ok {
		return usage(newResult(p, opts.Server, opts), "unknown protocol "+p+" (want smtp, pop3 or imap)")
	}
	return r(ctx, opts)
}
