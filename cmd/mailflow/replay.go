package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/mailflow/mailflow/session/transcript"
	"github.com/mailflow/mailflow/tui"
)

func init() { register(newReplayCmd) }

func newReplayCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "replay FILE",
		Short: "Open a saved JSON-lines transcript (an export or a journal) read-only",
		Long: `Open a conversation saved as JSON lines (the TUI's "JSON lines" export, a
journal from $XDG_STATE_HOME/mailflow/journal, or check --transcript
FILE.jsonl) in the full-screen view, read-only. Selecting a reply explains
it and shows the failure checklist of its step, judged from what the
transcript shows; the wizard pane lists the steps that ran. Nothing is
looked up or sent.

Standard input cannot be the file: the full-screen view needs the
terminal. Exit status: 0 closed normally; 2 bad usage, or a file that is
not a mailflow JSON-lines transcript (the message names the line).`,
		Example: `  mailflow replay mailflow-example.com-20250304-100000.jsonl
  mailflow replay ~/.local/state/mailflow/journal/20250304-100000.000-mx1.example.com_25.jsonl
  mailflow check --server 127.0.0.1:2525 --transcript run.jsonl; mailflow replay run.jsonl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := loadReplay(args[0])
			if err != nil {
				return err
			}
			if !stdinIsTerminal() {
				return usageErr("replay: the full-screen view needs a terminal")
			}
			return runReplay(cmd.Context(), r)
		},
	}
}

// loadReplay opens a JSON-lines transcript for replay and reads up to
// its first entry; Load reads the rest into the replay's store while
// the view is shown (the first frame does not wait for a large file).
// A file that cannot be opened, or that fails before its first entry,
// is a usage error (exit 2) that names the file and, for bad content,
// the line; a later bad line is shown in the view by the TUI.
func loadReplay(path string) (*tui.Replay, error) {
	if path == "-" {
		return nil, usageErr("replay: cannot read the transcript from standard input: the full-screen view needs the terminal there; save it to a file first")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErr("replay: %v", err)
	}
	d := transcript.NewJSONLReader(f)
	first, err := d.Next()
	if err == io.EOF {
		f.Close()
		return nil, usageErr("replay: %s holds no transcript entries", path)
	}
	if err != nil {
		f.Close()
		return nil, usageErr("replay: %s: %v", path, err)
	}
	st := transcript.NewStore(transcript.WithCapacity(replayCapacity(f)))
	st.Restore(first)
	var once sync.Once
	load := func(ctx context.Context) error {
		err := errors.New("replay: already read")
		once.Do(func() {
			defer f.Close()
			err = transcript.ReadJSONLInto(ctx, d, st)
		})
		return err
	}
	return &tui.Replay{Source: path, Meta: d.Meta(), Store: st, Load: load}, nil
}

// replayCapacity guesses how many entries a file holds, from its size
// and a short line (about 100 bytes; mailflow's lines are mostly longer),
// so that the store is allocated once instead of doubling its way up.
// Too low a guess only means doubling from there.
func replayCapacity(f *os.File) int {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	return int(min(fi.Size()/100, 1<<24)) + 64
}

// replayOptions are the TUI options of a replay. The backend only
// explains replies and evaluates checklists (both pure): nothing in a
// replay dials or resolves.
func replayOptions(ctx context.Context, r *tui.Replay, onQuit func()) tui.Options {
	return tui.Options{
		Backend: newBackend(tuiBackendConfig{}),
		Replay:  r,
		Export:  exportTranscript,
		OnQuit:  onQuit,
		Context: ctx,
	}
}

func runReplay(ctx context.Context, r *tui.Replay) error {
	if newBackend == nil {
		return fmt.Errorf("replay: the backend is not wired into this build")
	}
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := tui.New(replayOptions(mctx, r, cancel))
	if _, err := tea.NewProgram(m, tuiProgramOptions(ctx, os.Getenv)...).Run(); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	return nil
}
