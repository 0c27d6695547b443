package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/tui"
)

// runReplay splits the cost of "mailflow replay FILE" into its parts, in
// one process: reading the file with transcript.ReadJSONL (what the
// command does), building the root tui.Model in replay mode and its
// first 80x24 frame (Update of the window size, then View), and, for
// comparison, a one-pass reader (-onepass: one json.Unmarshal per line
// instead of two, entries slice grown in large steps). It reports the
// time of each part (wall and CPU), the heap held per entry and the peak resident set
// (VmHWM). The backend is a stub: a replay never dials or resolves, and
// the real backend's Explain and Checklist run for one reply only.
func runReplay(args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	in := fs.String("in", "", "JSON-lines transcript (mfbench jsonl writes one)")
	onepass := fs.Bool("onepass", false, "read with the one-pass reader instead of transcript.ReadJSONL")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuprofile != "" {
		pf, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pf.Close()
		defer pprof.StopCPUProfile()
	}
	if *in == "" {
		return errors.New("usage: mfbench replay -in FILE [-onepass]")
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start, cpu0 := time.Now(), cpuTime()
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	var meta transcript.Meta
	var es []transcript.Entry
	if *onepass {
		meta, es, err = readJSONLOnePass(f)
	} else {
		meta, es, err = transcript.ReadJSONL(f)
	}
	f.Close()
	if err != nil {
		return err
	}
	read, readCPU := time.Since(start), cpuTime()-cpu0
	hwmRead := peakRSS()

	start, cpu0 = time.Now(), cpuTime()
	m := tui.New(tui.Options{Backend: stubBackend{}, Replay: &tui.Replay{Source: *in, Meta: meta, Entries: es}})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	v := m.View()
	frame, frameCPU := time.Since(start), cpuTime()-cpu0
	if v.Content == "" {
		return errors.New("empty first frame")
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	fmt.Printf("ENTRIES=%d READ_MS=%s READ_CPU_MS=%s MODEL_FRAME_MS=%s MODEL_FRAME_CPU_MS=%s HEAP_MB=%.1f HEAP_BYTES_PER_ENTRY=%.0f PEAK_RSS_AFTER_READ_MB=%.1f PEAK_RSS_MB=%.1f\n",
		len(es), ms(read), ms(readCPU), ms(frame), ms(frameCPU), float64(held)/(1<<20), float64(held)/float64(len(es)),
		float64(hwmRead)/(1<<20), float64(peakRSS())/(1<<20))
	runtime.KeepAlive(m)
	return nil
}

// readJSONLOnePass is the reader that the README proposes for
// session/transcript: each line is decoded once, into one struct that
// has the header's fields and the entry's, and the entries slice grows
// by at most 64 Ki entries at a time past the first 64 Ki (so growing
// never holds two copies of a large slice). It accepts what ReadJSONL
// accepts for the files mfbench jsonl writes (no raw_b64, no level
// checks beyond ReadJSONL's): it is a measurement, not a replacement.
func readJSONLOnePass(f *os.File) (transcript.Meta, []transcript.Entry, error) {
	type line struct {
		transcript.JSONEntry
		Version int       `json:"version"`
		Title   string    `json:"title"`
		Target  string    `json:"target"`
		Started time.Time `json:"started"`
	}
	var m transcript.Meta
	var chunks [][]transcript.Entry
	cur := make([]transcript.Entry, 0, 1<<16)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	n := 0
	for sc.Scan() {
		n++
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		var j line
		if err := json.Unmarshal(b, &j); err != nil {
			return m, nil, fmt.Errorf("line %d: %w", n, err)
		}
		switch j.Type {
		case "header":
			m = transcript.Meta{Title: j.Title, Target: j.Target, Started: j.Started}
		case "entry":
			e := transcript.Entry{Seq: j.Seq, At: j.At, Elapsed: time.Duration(j.ElapsedMS * float64(time.Millisecond)), Dir: j.Dir,
				Proto: j.Proto, Step: j.Step, Raw: []byte(j.Line), Secure: j.TLS, Redacted: j.Redacted, Annotation: j.Annotation,
				Reply: j.Reply, RTT: time.Duration(j.RTTMS * float64(time.Millisecond)), Partial: j.Partial}
			if j.Level != "" {
				if err := e.Level.UnmarshalText([]byte(j.Level)); err != nil {
					return m, nil, fmt.Errorf("line %d: %w", n, err)
				}
			}
			if len(cur) == cap(cur) {
				chunks = append(chunks, cur)
				cur = make([]transcript.Entry, 0, 1<<16)
			}
			cur = append(cur, e)
		default:
			return m, nil, fmt.Errorf("line %d: unknown type %q", n, j.Type)
		}
	}
	if err := sc.Err(); err != nil {
		return m, nil, err
	}
	// The pane needs one slice: one exact-size copy at the end (the
	// chunks become garbage as they are copied).
	total := len(cur)
	for _, c := range chunks {
		total += len(c)
	}
	es := make([]transcript.Entry, 0, total)
	for i, c := range chunks {
		es = append(es, c...)
		chunks[i] = nil
	}
	return m, append(es, cur...), nil
}

// cpuTime is the process's user plus system CPU time so far (all
// threads, the garbage collector's included): on a shared machine it
// varies less than the wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// stubBackend answers nothing: a replay does no I/O.
type stubBackend struct{}

func (stubBackend) LookupMX(context.Context, string, func(tui.MXEvent)) error {
	return errors.New("mfbench: no DNS in a replay")
}

func (stubBackend) Connect(context.Context, tui.Target) (tui.Session, error) {
	return nil, errors.New("mfbench: no connections in a replay")
}

func (stubBackend) Explain(_, command string, r transcript.Reply) tui.Explanation {
	return tui.Explanation{Command: command, Code: r.Code, Enhanced: r.Enhanced}
}

func (stubBackend) Checklist(tui.Evidence) []tui.ChecklistItem { return nil }
