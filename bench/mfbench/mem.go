package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/mailflow/mailflow/session/transcript"
)

// conversation is one realistic SMTP exchange as the transcript records
// it: client commands, server reply lines, the last line of each reply
// carrying its parsed Reply and RTT.
var conversation = []struct {
	dir   transcript.Dir
	step  string
	raw   string
	reply *transcript.Reply
}{
	{transcript.Server, "connect", "220 mx.example.com ESMTP Postfix (Debian/GNU)", &transcript.Reply{Code: "220", OK: true}},
	{transcript.Client, "ehlo", "EHLO client.example.org", nil},
	{transcript.Server, "ehlo", "250-mx.example.com", nil},
	{transcript.Server, "ehlo", "250-PIPELINING", nil},
	{transcript.Server, "ehlo", "250-SIZE 10240000", nil},
	{transcript.Server, "ehlo", "250-STARTTLS", nil},
	{transcript.Server, "ehlo", "250-ENHANCEDSTATUSCODES", nil},
	{transcript.Server, "ehlo", "250 8BITMIME", &transcript.Reply{Code: "250", OK: true}},
	{transcript.Client, "mail", "MAIL FROM:<kate@example.org> SIZE=1432", nil},
	{transcript.Client, "rcpt", "RCPT TO:<postmaster@example.com>", nil},
	{transcript.Client, "data", "DATA", nil},
	{transcript.Server, "mail", "250 2.1.0 Ok", &transcript.Reply{Code: "250", Enhanced: "2.1.0", OK: true}},
	{transcript.Server, "rcpt", "550 5.1.1 <postmaster@example.com>: Recipient address rejected: User unknown in virtual mailbox table", &transcript.Reply{Code: "550", Enhanced: "5.1.1"}},
	{transcript.Server, "data", "554 5.5.1 Error: no valid recipients", &transcript.Reply{Code: "554", Enhanced: "5.5.1"}},
	{transcript.Client, "quit", "QUIT", nil},
	{transcript.Server, "quit", "221 2.0.0 Bye", &transcript.Reply{Code: "221", Enhanced: "2.0.0", OK: true}},
}

// runMem fills a transcript.Store with -entries entries the way a session
// does (fresh byte slices and replies per line) and reports the heap they
// hold and the peak resident memory of the process.
func runMem(args []string) error {
	fs := flag.NewFlagSet("mem", flag.ContinueOnError)
	n := fs.Int("entries", 1_000_000, "entries to append")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := transcript.NewStore()
	start := time.Now()
	for i := range *n {
		c := conversation[i%len(conversation)]
		e := transcript.Entry{Dir: c.dir, Proto: "smtp", Step: c.step, Raw: []byte(c.raw)}
		if c.reply != nil {
			r := *c.reply
			r.Lines = []string{c.raw}
			e.Reply = &r
			e.RTT = 1200 * time.Microsecond
		}
		s.Append(e)
	}
	fill := time.Since(start)
	runtime.GC()
	debug.FreeOSMemory()
	runtime.ReadMemStats(&after)
	if s.Len() != *n {
		return fmt.Errorf("store holds %d entries, want %d", s.Len(), *n)
	}
	held := after.HeapAlloc - before.HeapAlloc
	fmt.Printf("ENTRIES=%d HEAP_MB=%.1f BYTES_PER_ENTRY=%.0f PEAK_RSS_MB=%.1f FILL_MS=%s\n",
		*n, float64(held)/(1<<20), float64(held)/float64(*n), float64(peakRSS())/(1<<20), ms(fill))
	runtime.KeepAlive(s)
	return nil
}

// peakRSS reads VmHWM (the peak resident set) from /proc/self/status.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
			return kb * 1024
		}
	}
	return 0
}
