package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"path/filepath"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/mailflow/mailflow/internal/config"
	"github.com/mailflow/mailflow/internal/sshserve"
	"github.com/mailflow/mailflow/session/lab"
)

func init() { register(newServeCmd) }

// serveTUI runs the mailflow TUI for one SSH user. The TUI command file
// sets it; while it is nil, "mailflow serve" runs serveBuiltin, a small
// program that shows who is connected and the window size.
//
// A real implementation builds the program on the session's terminal:
//
//	p := tea.NewProgram(model, tea.WithContext(ctx),
//		tea.WithInput(s.Stdin()), tea.WithOutput(s.Stdout()),
//		tea.WithWindowSize(s.Window()),
//		tea.WithEnvironment([]string{"TERM=" + s.Term()}),
//		tea.WithColorProfile(...), tea.WithoutSignalHandler())
//
// forwards s.Resizes() with p.Send(tea.WindowSizeMsg{...}), keeps the
// user's files under s.Dir(), and uses serveLab(ctx) when it is not nil.
// serveProgram does all of that for a given model.
var serveTUI func(ctx context.Context, s sshserve.ServeSession) error

// serveLabKey is the context key under which the shared lab travels.
type serveLabKey struct{}

// serveLab returns the lab shared by all users of "mailflow serve --lab"
// (a classroom), or nil without --lab.
func serveLab(ctx context.Context) *lab.Lab {
	l, _ := ctx.Value(serveLabKey{}).(*lab.Lab)
	return l
}

// serveOptions are the flags of "mailflow serve".
type serveOptions struct {
	listen         string
	authorizedKeys string
	hostKey        string
	maxSessions    int
	idleTimeout    time.Duration
	dataDir        string
	lab            bool
	builtin        bool // serve serveBuiltin even when serveTUI is set
}

func newServeCmd() *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the full-screen program over SSH, one session per user",
		Long: `Run an SSH server that gives each user their own mailflow screen. Users
log in with a key listed in --authorized-keys (OpenSSH format; read again
on every login, so edits apply at once); there are no passwords. The
server runs mailflow and nothing else: no shell, no commands, no file
transfer, no port forwarding. A client must ask for a terminal (ssh -t);
when the user quits mailflow the connection closes.

Each user's transcripts and journal are kept under
DATA_DIR/users/<key fingerprint>/. The host key is an Ed25519 key
created on first start and kept in --host-key, so clients can pin it.
With --lab one shared lab (see "mailflow lab") runs for all users, as in
a classroom.

Exit status: 0 stopped by a signal; 2 bad usage or unusable key files;
3 the address could not be listened on.`,
		Example: `  mailflow serve --authorized-keys ~/.ssh/authorized_keys
  mailflow serve --listen 0.0.0.0:2222 --authorized-keys ./class_keys --lab --max-sessions 30
  ssh -t -p 2222 alice@mailflow.example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:2222", "address to listen on, HOST:PORT")
	f.StringVar(&o.authorizedKeys, "authorized-keys", "", "file of the keys allowed in, in OpenSSH authorized_keys format (required)")
	f.StringVar(&o.hostKey, "host-key", "", "host key file, created if missing (default $XDG_STATE_HOME/mailflow/ssh_host_ed25519_key)")
	f.IntVar(&o.maxSessions, "max-sessions", sshserve.DefaultMaxSessions, "most users at once; others are told to try later")
	f.DurationVar(&o.idleTimeout, "idle-timeout", 30*time.Minute, "close a session after this long without a keystroke (0: never)")
	f.StringVar(&o.dataDir, "data-dir", "", "where users' transcripts are kept (default $XDG_DATA_HOME/mailflow)")
	f.BoolVar(&o.lab, "lab", false, "run one shared lab for all users")
	// Tests of the SSH plumbing use the small built-in program, so that
	// they do not depend on the TUI.
	f.BoolVar(&o.builtin, "builtin-program", false, "serve the built-in test program instead of the TUI")
	f.MarkHidden("builtin-program")
	cmd.MarkFlagRequired("authorized-keys")
	return cmd
}

func runServe(ctx context.Context, stdout, stderr io.Writer, o *serveOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.authorizedKeys == "" {
		return usageErr("serve: --authorized-keys is required")
	}
	if o.maxSessions < 1 {
		return usageErr("serve: --max-sessions must be at least 1, got %d", o.maxSessions)
	}
	if o.idleTimeout < 0 {
		return usageErr("serve: --idle-timeout must not be negative, got %v", o.idleTimeout)
	}
	if o.hostKey == "" {
		o.hostKey = filepath.Join(config.StateDir(), "ssh_host_ed25519_key")
	}
	if o.dataDir == "" {
		o.dataDir = config.DataDir()
	}
	handler := serveTUI
	if handler == nil || o.builtin {
		handler = serveBuiltin
	}
	var shared *lab.Lab
	if o.lab {
		startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		l, err := lab.Start(startCtx, lab.Config{})
		cancel()
		if err != nil {
			return withCode(exitUnreachable, fmt.Errorf("serve: lab: %w", err))
		}
		defer l.Close()
		shared = l
	}
	srv, err := sshserve.New(sshserve.Config{
		AuthorizedKeys: o.authorizedKeys,
		HostKey:        o.hostKey,
		DataDir:        o.dataDir,
		MaxSessions:    o.maxSessions,
		IdleTimeout:    o.idleTimeout,
		Handler: func(ctx context.Context, s sshserve.ServeSession) error {
			if shared != nil {
				ctx = context.WithValue(ctx, serveLabKey{}, shared)
			}
			return handler(ctx, s)
		},
		Log: log.New(stderr, "mailflow serve: ", log.LstdFlags),
	})
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("serve: %w", err))
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return withCode(exitUnreachable, fmt.Errorf("serve: %w", err))
	}
	created := ""
	if srv.HostKeyCreated() {
		created = ", created now"
	}
	fmt.Fprintf(stdout, "mailflow serve: listening on %s\n", ln.Addr())
	fmt.Fprintf(stdout, "host key: %s (%s%s)\n", ssh.FingerprintSHA256(srv.HostKey()), o.hostKey, created)
	fmt.Fprintf(stdout, "users' data: %s\n", filepath.Join(o.dataDir, "users"))
	if shared != nil {
		e := shared.Endpoints()
		fmt.Fprintf(stdout, "lab: scenario %s, domain %s, DNS %s, SMTP %s, submission %s, POP3 %s, IMAP %s\n",
			e.Scenario, e.Domain, e.DNS, e.SMTP, e.Submission, e.POP3, e.IMAP)
	}
	if err := srv.Serve(ctx, ln); err != nil {
		return withCode(exitUnreachable, fmt.Errorf("serve: %w", err))
	}
	return nil
}

// serveProgram runs a bubbletea v2 model on an SSH user's terminal until
// it quits or ctx is cancelled.
func serveProgram(ctx context.Context, s sshserve.ServeSession, m tea.Model) error {
	w, h := s.Window()
	env := []string{"TERM=" + s.Term()}
	p := tea.NewProgram(m,
		tea.WithContext(ctx),
		tea.WithInput(s.Stdin()),
		tea.WithOutput(onlcrWriter{s.Stdout()}),
		tea.WithWindowSize(w, h),
		tea.WithEnvironment(env),
		// The output is not a local terminal, so colours are chosen from
		// the client's TERM rather than detected.
		tea.WithColorProfile(colorprofile.Env(env)),
		// Signals belong to the server, not to one user's program.
		tea.WithoutSignalHandler(),
	)
	go func() {
		for win := range s.Resizes() {
			p.Send(tea.WindowSizeMsg{Width: win.Width, Height: win.Height})
		}
	}()
	_, err := p.Run()
	if ctx.Err() != nil {
		// Ended by the server (idle, shutdown) or by the client leaving;
		// sshserve tells the user why.
		return ctx.Err()
	}
	return err
}

// onlcrWriter does what a pseudo-terminal's ONLCR output flag does:
// every LF written becomes CR LF. Bubble Tea's renderer, when its input
// is not a local TTY, assumes the terminal maps newlines that way (it
// moves to the next line's start with a bare LF), but the SSH server has
// no real pty, so without this a full-screen program's lines drift to the
// right. serveProgram puts it under every program it serves.
type onlcrWriter struct{ w io.Writer }

func (o onlcrWriter) Write(p []byte) (int, error) {
	n := bytes.Count(p, []byte{'\n'})
	if n == 0 {
		return o.w.Write(p)
	}
	buf := make([]byte, 0, len(p)+n)
	for _, c := range p {
		if c == '\n' {
			buf = append(buf, '\r')
		}
		buf = append(buf, c)
	}
	if _, err := o.w.Write(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// serveBuiltin is the program served while no TUI is wired in.
func serveBuiltin(ctx context.Context, s sshserve.ServeSession) error {
	w, h := s.Window()
	return serveProgram(ctx, s, serveInfoModel{user: s.User(), width: w, height: h})
}

// serveInfoModel shows who is connected and the window size, and quits on q.
type serveInfoModel struct {
	user          string
	width, height int
}

func (m serveInfoModel) Init() tea.Cmd { return nil }

func (m serveInfoModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.KeyPressMsg:
		switch msg.String() {
		case "q", "ctrl+c":
			return m, tea.Quit
		}
	}
	return m, nil
}

func (m serveInfoModel) View() tea.View {
	v := tea.NewView(fmt.Sprintf("mailflow serve: %s, window %dx%d\n\nPress q to quit.", m.user, m.width, m.height))
	v.AltScreen = true
	return v
}
