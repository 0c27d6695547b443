package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/mailflow/mailflow/session/lab"
	"github.com/mailflow/mailflow/tui"
)

// "mailflow lab" opens the full-screen program on the running lab: the
// procedure mails chris@lab.test → kate@lab.test through the lab's DNS
// and MX endpoints, the lab CA is trusted, and S switches scenarios.

func init() { runLabTUI = runLabProgram }

// Lab defaults for the procedure.
const (
	labFrom = "chris@lab.test"
	labTo   = "kate@lab.test"
	labHELO = "client.lab.test"
)

// labBackendConfig points the backend at l: its DNS server, its CA, and
// its per-MX endpoints in place of port 25 (looked up at each connect,
// since a scenario may move them).
func labBackendConfig(l *lab.Lab) tuiBackendConfig {
	return tuiBackendConfig{
		Resolver: l.Endpoints().DNS,
		RootCAs:  l.CAPool(),
		HELO:     labHELO,
		HostAddr: func(host string) (string, bool) {
			host = strings.TrimSuffix(strings.ToLower(host), ".")
			for _, m := range l.Endpoints().MX {
				if strings.EqualFold(m.Host, host) {
					return m.Addr, true
				}
			}
			return "", false
		},
	}
}

// labOptions returns the TUI options for the lab.
func labTUIOptions(ctx context.Context, l *lab.Lab, onQuit func()) tui.Options {
	var infos []tui.ScenarioInfo
	for _, s := range lab.Scenarios() {
		infos = append(infos, tui.ScenarioInfo{Name: s.Name, Description: s.Description})
	}
	return tui.Options{
		Backend: newBackend(labBackendConfig(l)),
		Params: tui.Params{
			Domain: lab.Domain, Protocol: "smtp", From: labFrom, To: labTo, HELO: labHELO, TLS: "starttls",
		},
		Export:         exportTranscript,
		OnQuit:         onQuit,
		Context:        ctx,
		Scenarios:      infos,
		SwitchScenario: l.SetScenario,
		Scenario:       l.Scenario(),
	}
}

// runLabProgram runs the TUI until the user quits.
func runLabProgram(ctx context.Context, l *lab.Lab) error {
	if path := os.Getenv("MAILFLOW_DEBUG"); path != "" {
		f, err := tea.LogToFile(path, "mailflow")
		if err != nil {
			return fmt.Errorf("tui: open debug log %s: %w", path, err)
		}
		defer f.Close()
	}
	// The model's context ends when the user quits; the program keeps
	// the parent's, so quitting is not reported as a killed program.
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := tui.New(labTUIOptions(mctx, l, cancel))
	if _, err := tea.NewProgram(m, tuiProgramOptions(ctx, os.Getenv)...).Run(); err != nil {
		return fmt.Errorf("tui: %w", err)
	}
	return nil
}
