package transcript

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"
)

// Journal appends every entry of a running session to a JSON-lines file
// under the XDG state directory, so that a dropped SSH connection or a
// crash still leaves the transcript behind. Entries reach the journal
// already redacted. The file is created with permissions 0600 in a 0700
// directory, and each entry is written with one append-mode write, so a
// crash leaves at most one truncated last line (ReadJSONL reports it).
type Journal struct {
	mu   sync.Mutex
	f    *os.File
	path string
}

// StateDir returns $XDG_STATE_HOME/mailflow, or ~/.local/state/mailflow.
func StateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "mailflow"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("transcript: no state directory: set XDG_STATE_HOME or HOME: %w", err)
	}
	return filepath.Join(home, ".local", "state", "mailflow"), nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// OpenJournal creates a new journal file in dir/journal named after the
// time and target, writes the header line and returns it. Pass it to
// NewStore with WithSink.
func OpenJournal(dir, target string, now time.Time) (*Journal, error) {
	jdir := filepath.Join(dir, "journal")
	if err := os.MkdirAll(jdir, 0o700); err != nil {
		return nil, fmt.Errorf("transcript: journal directory %s: %w", jdir, err)
	}
	name := now.UTC().Format("20060102-150405.000") + "-" + unsafeName.ReplaceAllString(target, "_") + ".jsonl"
	path := filepath.Join(jdir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("transcript: journal %s: %w", path, err)
	}
	j := &Journal{f: f, path: path}
	b, _ := marshalInert(JSONHeader{Type: "header", Version: JSONSchemaVersion, Target: target, Started: now})
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return nil, fmt.Errorf("transcript: journal %s: %w", path, err)
	}
	return j, nil
}

// Path returns the journal's file name.
func (j *Journal) Path() string { return j.path }

// Write appends e as one JSON line. It implements Sink.
func (j *Journal) Write(e Entry) error {
	b, err := marshalInert(toJSON(e))
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return fmt.Errorf("transcript: journal %s is closed", j.path)
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("transcript: journal %s: %w", j.path, err)
	}
	return nil
}

// Close syncs and closes the file.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Sync()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	j.f = nil
	return err
}
