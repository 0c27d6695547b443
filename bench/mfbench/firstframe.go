package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runFirstFrame measures the time from exec of a full-screen command to
// the moment its first complete frame has reached a real terminal: tmux,
// at -width x -height. For each run it starts a private tmux server whose
// one pane waits for a key, then (through "mfbench exec-at") writes the
// time and execs the command; the pane's output is piped (tmux
// pipe-pane -O) into "mfbench stamp", which writes the time at which the
// text -marker (escape sequences removed) has appeared. Put in -marker
// the last words of the frame's bottom line, so that the whole frame has
// been written. The command inherits this process's environment.
//
// It prints RUNS=N MEDIAN_MS MIN_MS MAX_MS.
func runFirstFrame(args []string) error {
	fs := flag.NewFlagSet("firstframe", flag.ContinueOnError)
	marker := fs.String("marker", "", "text whose appearance ends the first frame (required)")
	runs := fs.Int("runs", 10, "runs")
	width := fs.Int("width", 80, "terminal columns")
	height := fs.Int("height", 24, "terminal rows")
	timeout := fs.Duration("timeout", 10*time.Second, "give up on one run after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cmd := fs.Args()
	if *marker == "" || len(cmd) == 0 {
		return errors.New("usage: mfbench firstframe -marker TEXT [-runs N] -- COMMAND [ARGS...]")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		return fmt.Errorf("tmux is needed: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var ds []time.Duration
	for i := range *runs {
		d, err := firstFrameOnce(self, cmd, *marker, *width, *height, *timeout)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		ds = append(ds, d)
	}
	lo, hi := ds[0], ds[0]
	for _, d := range ds {
		lo, hi = min(lo, d), max(hi, d)
	}
	fmt.Printf("RUNS=%d MEDIAN_MS=%s MIN_MS=%s MAX_MS=%s\n", len(ds), ms(median(ds)), ms(lo), ms(hi))
	return nil
}

func firstFrameOnce(self string, cmd []string, marker string, w, h int, timeout time.Duration) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "mfbench-ff")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	// The server's socket lives in dir, so it goes with it.
	t0f, t1f, sock := filepath.Join(dir, "t0"), filepath.Join(dir, "t1"), filepath.Join(dir, "tmux.sock")
	tmux := func(a ...string) error {
		out, err := exec.Command("tmux", append([]string{"-S", sock}, a...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("tmux %s: %v: %s", a[0], err, out)
		}
		return nil
	}
	defer exec.Command("tmux", "-S", sock, "kill-server").Run()
	pane := "read -r _ </dev/tty; exec " + shq(self) + " exec-at " + shq(t0f) + " -- " + shqAll(cmd)
	if err := tmux("new-session", "-d", "-s", "ff", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), pane); err != nil {
		return 0, err
	}
	if err := tmux("pipe-pane", "-O", "-t", "ff", "exec "+shq(self)+" stamp -marker "+shq(marker)+" -out "+shq(t1f)); err != nil {
		return 0, err
	}
	if err := tmux("send-keys", "-t", "ff", "Enter"); err != nil {
		return 0, err
	}
	deadline := time.Now().Add(timeout)
	for {
		t1, err1 := readNanos(t1f)
		t0, err0 := readNanos(t0f)
		if err1 == nil && err0 == nil {
			return time.Duration(t1 - t0), nil
		}
		if time.Now().After(deadline) {
			screen, _ := exec.Command("tmux", "-S", sock, "capture-pane", "-p", "-t", "ff").Output()
			return 0, fmt.Errorf("no %q on screen after %v:\n%s", marker, timeout, screen)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readNanos reads a file written whole by writeNanos.
func readNanos(name string) (int64, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return 0, err
	}
	s, ok := strings.CutSuffix(string(b), "\n")
	if !ok {
		return 0, errors.New("incomplete")
	}
	return strconv.ParseInt(s, 10, 64)
}

// writeNanos writes the time now to name (via a rename, so a reader never
// sees half of it).
func writeNanos(name string) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatInt(time.Now().UnixNano(), 10)+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// runExecAt writes the time to a file and execs the command in place of
// this process: "mfbench exec-at FILE -- COMMAND [ARGS...]".
func runExecAt(args []string) error {
	if len(args) < 3 || args[1] != "--" {
		return errors.New("usage: mfbench exec-at FILE -- COMMAND [ARGS...]")
	}
	path, err := exec.LookPath(args[2])
	if err != nil {
		return err
	}
	if err := writeNanos(args[0]); err != nil {
		return err
	}
	return syscall.Exec(path, args[2:], os.Environ())
}

// runStamp reads a terminal stream on standard input and writes the time
// to -out when -marker has appeared in its text; it then drains the
// input until it ends.
func runStamp(args []string) error {
	fs := flag.NewFlagSet("stamp", flag.ContinueOnError)
	marker := fs.String("marker", "", "text to wait for")
	out := fs.String("out", "", "file for the time")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *marker == "" || *out == "" {
		return errors.New("-marker and -out are required")
	}
	r := bufio.NewReaderSize(os.Stdin, 64<<10)
	var t textStream
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		if t.Write(buf[:n]) && strings.Contains(t.String(), *marker) {
			if err := writeNanos(*out); err != nil {
				return err
			}
			_, err := io.Copy(io.Discard, r)
			return err
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// textStream keeps the printable text of a terminal stream, dropping
// escape sequences (CSI, OSC, DCS and two-byte ESC sequences) even when
// they are split across writes.
type textStream struct {
	b     strings.Builder
	state int // 0 text, 1 after ESC, 2 in CSI, 3 in OSC/DCS string, 4 ESC inside a string
}

// Write adds p and reports whether any text was added.
func (t *textStream) Write(p []byte) bool {
	added := false
	for _, c := range p {
		switch t.state {
		case 0:
			if c == 0x1b {
				t.state = 1
			} else if c >= 0x20 || c == '\n' {
				t.b.WriteByte(c)
				added = true
			}
		case 1:
			switch c {
			case '[':
				t.state = 2
			case ']', 'P', '_', '^':
				t.state = 3
			default:
				t.state = 0
			}
		case 2:
			if c >= 0x40 && c <= 0x7e {
				t.state = 0
			}
		case 3:
			if c == 0x07 {
				t.state = 0
			} else if c == 0x1b {
				t.state = 4
			}
		case 4:
			t.state = 3
			if c == '\\' {
				t.state = 0
			}
		}
	}
	return added
}

// String returns the text so far.
func (t *textStream) String() string { return t.b.String() }

// shq quotes s for sh.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func shqAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = shq(s)
	}
	return strings.Join(q, " ")
}
