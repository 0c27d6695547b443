// Command mfbench holds the measurements of bench/run.sh that need Go:
//
//	mfbench rtt     round trips and time of a full SMTP check through a
//	                latency-adding proxy, with and without PIPELINING
//	mfbench slowmx  SMTP listeners on 127.0.0.1..N that greet after a delay
//	mfbench dns     full MX pictures of many domains against a DNS server,
//	                and the list of questions they asked (for dig -f)
//	mfbench mem     memory of a transcript store holding many entries
//	mfbench firstframe  time from exec of a full-screen command to its
//	                first whole frame in tmux (with exec-at and stamp,
//	                its helpers inside the tmux pane)
//	mfbench jsonl   a generated JSON-lines transcript of N entries, for
//	                "mailflow replay"
//	mfbench replay  the parts of "mailflow replay FILE": reading, the
//	                model's first frame, heap and peak memory
//
// It talks to loopback addresses only. Run "mfbench CMD -h" for flags.
package main

import (
	"fmt"
	"os"
	"slices"
	"time"
)

var commands = map[string]func(args []string) error{
	"rtt":    runRTT,
	"slowmx": runSlowMX,
	"dns":    runDNS,
	"mem":    runMem,
	"stall":  runStall,

	"firstframe": runFirstFrame,
	"exec-at":    runExecAt,
	"stamp":      runStamp,
	"jsonl":      runJSONL,
	"replay":     runReplay,
}

func main() {
	if len(os.Args) < 2 || commands[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: mfbench rtt|slowmx|dns|mem|stall|firstframe|jsonl|replay [flags]")
		os.Exit(2)
	}
	if err := commands[os.Args[1]](os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "mfbench "+os.Args[1]+":", err)
		os.Exit(1)
	}
}

// median returns the median of ds (the mean of the middle two for an even
// count); zero for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ms formats d in milliseconds with one decimal.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
