package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/mailflow/mailflow/session/transcript"
)

// genEntries returns n entries of the SMTP conversation that runMem
// records, numbered from 1, 1 ms apart, with a failure (the 550 and 554)
// in every cycle, as a long session of repeated tests would look.
func genEntries(n int) []transcript.Entry {
	t0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	es := make([]transcript.Entry, n)
	for i := range es {
		c := conversation[i%len(conversation)]
		e := transcript.Entry{Seq: i + 1, At: t0.Add(time.Duration(i) * time.Millisecond),
			Elapsed: time.Duration(i) * time.Millisecond, Dir: c.dir, Proto: "smtp", Step: c.step, Raw: []byte(c.raw)}
		if c.reply != nil {
			r := *c.reply
			r.Lines = []string{c.raw}
			e.Reply = &r
			e.RTT = 1200 * time.Microsecond
		}
		es[i] = e
	}
	return es
}

// runJSONL writes a JSON-lines transcript (transcript.WriteJSONL, what
// the TUI's export and the journal write) of -entries generated entries,
// for "mailflow replay".
func runJSONL(args []string) error {
	fs := flag.NewFlagSet("jsonl", flag.ContinueOnError)
	n := fs.Int("entries", 1_000_000, "entries to write")
	out := fs.String("out", "", "file to write (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *n < 1 {
		return errors.New("usage: mfbench jsonl -entries N -out FILE")
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	m := transcript.Meta{Title: "SMTP check of mx.example.com:25 (generated)", Target: "mx.example.com:25",
		Started: time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)}
	if err := transcript.Write(w, transcript.FormatJSONL, m, genEntries(*n)); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fi, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Printf("ENTRIES=%d BYTES=%d\n", *n, fi.Size())
	return nil
}
