package tui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/mailflow/mailflow/diag/addr"
)

// The start screen is what `mailflow` with no argument shows: one line to
// type a domain (or HOST:PORT of a server) and one key for the lab. The
// network check and the lab start run in Cmds through callbacks from
// cmd/mailflow (Options.CheckNetwork, Options.StartLab): this package
// opens no socket.

// netCheckLimit bounds the network check, whatever the callback does.
const netCheckLimit = 2 * time.Second

// netState is what the start screen knows about the network.
type netState int

const (
	netUnknown netState = iota
	netUp
	netDown
)

// startScreen holds the start screen's state.
type startScreen struct {
	input    textinput.Model
	note     string // the A-label, a look-alike warning, or what is wrong
	bad      bool   // the note is an error
	net      netState
	netWhy   string
	labBusy  bool
	labErr   string
	canLab   bool
	checking bool   // a network check was started
	hostPort string // the parsed HOST:PORT, when the input is one
	domain   addr.Domain
}

// netMsg reports the network check.
type netMsg struct{ err error }

// labMsg reports the end of a lab start.
type labMsg struct {
	opts Options
	err  error
}

func newStartScreen(canLab, checking bool) *startScreen {
	in := textinput.New()
	in.Prompt = "> "
	in.Placeholder = "example.com or mail.example.com:25"
	s := in.Styles()
	s.Cursor.Blink = false
	in.SetStyles(s)
	in.CharLimit = 300
	in.Focus()
	return &startScreen{input: in, canLab: canLab, checking: checking}
}

// InStartScreen reports whether the start screen is shown.
func (m *Model) InStartScreen() bool { return m.start != nil }

// checkNetwork runs the caller's network check in a Cmd, bounded.
func checkNetwork(ctx context.Context, fn func(context.Context) error) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, netCheckLimit)
		defer cancel()
		return netMsg{err: fn(ctx)}
	}
}

// startLab asks the caller to start the lab.
func startLab(ctx context.Context, fn func(context.Context) (Options, error)) tea.Cmd {
	return func() tea.Msg {
		o, err := fn(ctx)
		return labMsg{opts: o, err: err}
	}
}

// validate checks what is typed and fills the note.
func (s *startScreen) validate() {
	v := strings.TrimSpace(s.input.Value())
	s.note, s.bad, s.hostPort, s.domain = "", false, "", addr.Domain{}
	if v == "" {
		return
	}
	if strings.Contains(v, ":") || strings.HasPrefix(v, "[") {
		host, port, err := addr.ParseHostPort(v, 0)
		switch {
		case err != nil:
			s.note, s.bad = err.Error(), true
		case port == 0:
			s.note, s.bad = "a server needs a port: HOST:PORT, such as "+host+":25", true
		default:
			s.hostPort = net.JoinHostPort(host, strconv.Itoa(port))
			s.note = "server " + s.hostPort + " (skips the MX lookup)"
		}
		return
	}
	d, err := addr.ParseDomain(v)
	switch {
	case errors.Is(err, addr.ErrIPAddress):
		s.note, s.bad = "an IP address needs a port: "+v+":25", true
	case err != nil:
		s.note, s.bad = err.Error(), true
	default:
		s.domain = d
		switch {
		case d.Confusable:
			s.note = "looks like another name: " + d.ConfusableReason + "; it is queried as " + d.ASCII
		case d.IsIDN():
			s.note = "queried as " + d.ASCII
		}
	}
}

// updateStart handles a key on the start screen.
func (m *Model) updateStart(k tea.KeyPressMsg) tea.Cmd {
	s := m.start
	if s.labBusy {
		if key := k.String(); key == "q" || key == "esc" {
			return m.quit()
		}
		return nil
	}
	empty := s.input.Value() == ""
	switch k.String() {
	case "enter":
		return m.chooseTarget()
	case "esc":
		if empty {
			return m.quit()
		}
		s.input.SetValue("")
		s.validate()
		return nil
	case "q":
		if empty {
			return m.quit()
		}
	case "L":
		if empty {
			return m.chooseLab()
		}
	}
	var cmd tea.Cmd
	s.input, cmd = s.input.Update(k)
	s.validate()
	return cmd
}

// chooseTarget leaves the start screen for the typed domain or server
// and runs the first step.
func (m *Model) chooseTarget() tea.Cmd {
	s := m.start
	s.validate()
	switch {
	case s.bad:
		return nil
	case s.hostPort != "":
		m.opts.Params.Server = s.hostPort
	case s.domain.ASCII != "":
		m.opts.Params.Domain = s.domain.ASCII
	default:
		s.note, s.bad = "type a domain or HOST:PORT (or press L for the lab)", true
		return nil
	}
	m.start = nil
	m.newMachine("", 0)
	return m.runCurrent("", "")
}

// chooseLab starts the lab through the caller's callback.
func (m *Model) chooseLab() tea.Cmd {
	s := m.start
	if !s.canLab {
		s.note, s.bad = "the lab is not available here", true
		return nil
	}
	s.labBusy, s.labErr = true, ""
	m.status = "starting the lab ..."
	return startLab(m.opts.Context, m.opts.StartLab)
}

// onLab switches to lab mode with the options the caller built, exactly
// as `mailflow lab` starts, and runs the MX step.
func (m *Model) onLab(msg labMsg) tea.Cmd {
	if m.start == nil {
		return nil
	}
	if msg.err != nil {
		m.start.labBusy, m.start.labErr = false, msg.err.Error()
		m.status = ""
		return nil
	}
	o := msg.opts
	prevQuit := m.opts.OnQuit
	switch labQuit := o.OnQuit; {
	case labQuit == nil:
		o.OnQuit = prevQuit
	case prevQuit != nil:
		o.OnQuit = func() { labQuit(); prevQuit() }
	}
	if o.Keys == nil {
		k := m.keys
		o.Keys = &k
	}
	if o.Context == nil {
		o.Context = m.opts.Context
	}
	if o.Now == nil {
		o.Now = m.opts.Now
	}
	if o.ExportDir == "" {
		o.ExportDir = m.opts.ExportDir
	}
	o.Light = !m.st.IsDark
	w, h, mouse := m.w, m.h, m.mouse
	m.cancel()
	*m = *New(o)
	m.mouse = mouse
	m.resize(w, h)
	return m.runCurrent("", "")
}

// startView draws the start screen in w×h cells.
func (m *Model) startView(w, h int) []string {
	s := m.start
	st := m.st
	ps := display
	out := []string{
		st.App.Header.Render("What should mailflow test?"),
		"",
		"Type a domain to look up its mail servers and walk through a test",
		"message, or HOST:PORT to talk to one server directly.",
		"",
		s.input.View(),
	}
	switch {
	case s.note != "" && s.bad:
		out = append(out, st.App.Error.Render("  ✗ "+ps(s.note)))
	case s.note != "":
		out = append(out, st.Text.Dim.Render("  "+ps(s.note)))
	default:
		out = append(out, "")
	}
	out = append(out, "", "enter  go")
	if s.canLab {
		lab := "L      practise on the built-in lab (runs here, no network needed)"
		if s.net == netDown {
			lab = st.Transcript.Selected.Render("L      suggested: no network here, practise on the built-in lab")
		}
		out = append(out, lab)
	}
	out = append(out, "q      quit (on an empty line)", "")
	switch {
	case !s.checking:
	case s.net == netUnknown:
		out = append(out, st.Text.Dim.Render("network: checking ..."))
	case s.net == netUp:
		out = append(out, st.Text.Good.Render("network: DNS answers"))
	case s.net == netDown:
		out = append(out, st.Text.Bad.Render("network: "+ps(s.netWhy)))
	}
	switch {
	case s.labBusy:
		out = append(out, "", st.Text.Dim.Render("starting the lab ..."))
	case s.labErr != "":
		out = append(out, "", st.App.Error.Render("✗ lab: "+ps(s.labErr)))
	}
	for i, l := range out {
		out[i] = ansiCut(l, w)
	}
	return fitLines(out, w, h)
}

// onNet records the network check.
func (m *Model) onNet(msg netMsg) {
	if m.start == nil {
		return
	}
	if msg.err == nil {
		m.start.net = netUp
		return
	}
	m.start.net, m.start.netWhy = netDown, fmt.Sprint(msg.err)
}
