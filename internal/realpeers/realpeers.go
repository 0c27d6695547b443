package realpeers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binaries the harness needs; all of them come from the Debian packages that
// .ci/run installs.
var (
	mailBinaries = []string{"postfix", "postconf", "dovecot", "doveconf", "script"}
	dnsBinaries  = []string{"nsd", "nsd-checkzone", "nsd-checkconf"}
)

// Daemon executables, used to make sure a PID read from a pid file still
// belongs to the process the harness started (PIDs are reused).
const (
	postfixMasterExe = "/usr/lib/postfix/sbin/master"
	dovecotExe       = "/usr/sbin/dovecot"
	nsdExe           = "/usr/sbin/nsd"
)

// Strict reports whether missing real peers are a test failure rather than a
// skip: true when CI=true or MAILFLOW_REAL_PEERS=1 is set in the environment.
func Strict() bool {
	return os.Getenv("CI") == "true" || os.Getenv("MAILFLOW_REAL_PEERS") == "1"
}

// Available reports why real peers cannot be used on this machine (a
// missing binary, or not running as root), or nil when they can.
func Available() error {
	return missing(append(append([]string{}, mailBinaries...), dnsBinaries...))
}

// Require reports whether the real daemons can be used by this test. When a
// binary is missing, or the test does not run as root (Postfix and Dovecot
// need root to start and drop privileges), it calls t.Skip locally and
// t.Fatal when Strict reports true, so with a real testing.T it only ever
// returns true. It also skips in -short mode unless Strict is true. Postfix
// and NSD call it themselves.
func Require(t testing.TB) bool {
	t.Helper()
	return require(t, append(append([]string{}, mailBinaries...), dnsBinaries...))
}

func require(t testing.TB, bins []string) bool {
	t.Helper()
	if err := missing(bins); err != nil {
		if Strict() {
			t.Fatalf("realpeers: %v (CI=true or MAILFLOW_REAL_PEERS=1 demands real peers; run .ci/run to install them)", err)
			return false // only reached with a fake testing.TB
		}
		t.Skipf("realpeers: %v (set MAILFLOW_REAL_PEERS=1 to make this a failure)", err)
		return false
	}
	if testing.Short() && !Strict() {
		t.Skip("realpeers: skipped in -short mode")
		return false
	}
	return true
}

func missing(bins []string) error {
	var absent []string
	for _, b := range bins {
		if _, err := lookPath(b); err != nil {
			absent = append(absent, b)
		}
	}
	if len(absent) > 0 {
		return fmt.Errorf("missing binaries: %s", strings.Join(absent, ", "))
	}
	if os.Geteuid() != 0 {
		return errors.New("real peers need root (Postfix and Dovecot start as root and drop privileges)")
	}
	return nil
}

// lookPath finds a binary in PATH or in the sbin directories, which are not
// always in PATH for non-login shells.
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("realpeers: %s not found", name)
}

// Main runs the tests of a package and then stops every daemon the harness
// started in this process. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(realpeers.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	Shutdown()
	return code
}

// registry holds everything started by this process, so that Shutdown can
// stop exactly those daemons and nothing else.
var registry struct {
	mu       sync.Mutex
	stoppers []func()
}

func register(stop func()) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	registry.stoppers = append(registry.stoppers, stop)
}

// Shutdown stops every daemon started by this process (the shared Postfix and
// Dovecot and any NSD still running) and removes their base directories. It
// is safe to call more than once. Main calls it; callers with their own
// TestMain must call it after m.Run. If a test binary dies without calling
// it, a watchdog process stops the daemons when the binary exits.
func Shutdown() {
	registry.mu.Lock()
	stoppers := registry.stoppers
	registry.stoppers = nil
	registry.mu.Unlock()
	// Stop in reverse order of start.
	for i := len(stoppers) - 1; i >= 0; i-- {
		stoppers[i]()
	}
	mailOnce.Lock()
	mailShared, mailErr = nil, nil
	mailOnce.Unlock()
}

// watchdog is a small shell process that outlives a crashed test binary: it
// reads "kill EXE PIDFILE" and "rm DIR" lines on stdin until end of file,
// which happens when the test process exits for any reason (even SIGKILL or
// a go test timeout). Then it terminates the daemons whose pid files still
// name a live process running the expected executable, and removes the base
// directories that are still there.
type watchdog struct {
	mu  sync.Mutex
	w   *os.File
	cmd *exec.Cmd
}

var dog watchdog

const watchdogScript = `
set -u
list=""
while IFS= read -r line; do list="$list
$line"; done
killed=$(printf '%s\n' "$list" | while read -r verb a b; do
  [ "$verb" = kill ] || continue
  [ -r "$b" ] || continue
  pid=$(tr -dc 0-9 < "$b")
  [ -n "$pid" ] || continue
  [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$a" ] || continue
  kill -TERM "$pid" 2>/dev/null && echo k
done)
# Give killed daemons a moment to exit before removing their files.
[ -z "$killed" ] || sleep 1
printf '%s\n' "$list" | while read -r verb a b; do
  [ "$verb" = rm ] || continue
  case $a in /tmp/realpeers-*) rm -rf -- "$a" ;; esac
done
`

// watch asks the watchdog to stop the process named by pidfile if this test
// binary exits without stopping it.
func (d *watchdog) watch(exe, pidfile string) { d.tell("kill " + exe + " " + pidfile) }

// removeLater asks the watchdog to remove dir (a base directory under /tmp)
// if this test binary exits without cleaning up. Removing a directory that
// Shutdown already removed does nothing.
func (d *watchdog) removeLater(dir string) {
	if !keepDirs() {
		d.tell("rm " + dir)
	}
}

func (d *watchdog) tell(line string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.w == nil {
		r, w, err := os.Pipe()
		if err != nil {
			return // the watchdog is a fallback only
		}
		cmd := exec.Command("/bin/sh", "-c", watchdogScript)
		cmd.Stdin = r
		cmd.Env = daemonEnv()
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			r.Close()
			w.Close()
			return
		}
		r.Close()
		d.w, d.cmd = w, cmd
		go cmd.Wait() //nolint:errcheck // reaped only to avoid a zombie
	}
	fmt.Fprintln(d.w, line)
}

// startDetachedTo runs a daemon-starting command with stdin on /dev/null,
// stdout and stderr in out (a regular file, or /dev/null when out is nil), no
// other inherited descriptors and in its own session, so that the daemon
// neither holds the test binary's pipes open nor receives the terminal's
// signals. It waits for the command (which forks the real daemon) to return.
func startDetachedTo(ctx context.Context, out *os.File, name string, args ...string) error {
	path, err := lookPath(name)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Env = daemonEnv()
	if out != nil {
		cmd.Stdout, cmd.Stderr = out, out
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("realpeers: %s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

// runOutput runs a short helper command and returns its combined output.
func runOutput(ctx context.Context, name string, args ...string) (string, error) {
	path, err := lookPath(name)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = daemonEnv()
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	return buf.String(), err
}

// daemonEnv is a minimal environment: the daemons must not see the test's
// variables (GOFLAGS, CI, proxies and the like).
func daemonEnv() []string {
	return []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", "TERM=dumb"}
}

// readPID reads a pid file and returns the PID when it names a live process
// running exe; 0 otherwise.
func readPID(pidfile, exe string) int {
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return 0
	}
	if link, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err != nil || link != exe {
		return 0
	}
	return pid
}

// stopPID sends SIGTERM to the process in pidfile (if it still runs exe) and
// waits until it is gone, escalating to SIGKILL after the grace period.
func stopPID(pidfile, exe string, grace time.Duration) {
	pid := readPID(pidfile, exe)
	if pid == 0 {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !alive(pid, exe) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	for i := 0; i < 100 && alive(pid, exe); i++ {
		time.Sleep(10 * time.Millisecond)
	}
}

func alive(pid int, exe string) bool {
	link, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil || link != exe {
		return false
	}
	// A zombie still has /proc/PID but no longer runs; its exe link is gone,
	// so the Readlink check above already covers it.
	return true
}

// freePorts picks n distinct free TCP ports on 127.0.0.1 (for NSD the same
// number is also used for UDP, checked separately). The ports are released
// before the daemons bind them, so a concurrent test binary may grab one in
// between; the start-up code retries with new ports when a bind fails.
func freePorts(n int, udpToo bool) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for len(ports) < n {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("realpeers: pick a free port: %w", err)
		}
		ls = append(ls, l)
		port := l.Addr().(*net.TCPAddr).Port
		if udpToo {
			u, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				continue // keep l open so the next pick differs
			}
			u.Close()
		}
		ports = append(ports, port)
	}
	return ports, nil
}

// newBaseDir creates a fresh base directory under /tmp that every daemon user
// can traverse: Postfix and Dovecot refuse or fail on 0700 parents (the
// default of os.MkdirTemp).
func newBaseDir(prefix string) (string, error) {
	dir, err := os.MkdirTemp("/tmp", prefix)
	if err != nil {
		return "", fmt.Errorf("realpeers: base dir: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.Remove(dir)
		return "", fmt.Errorf("realpeers: base dir: %w", err)
	}
	dog.removeLater(dir)
	return dir, nil
}

// keepDirs reports whether base directories are kept after Shutdown, for
// debugging (MAILFLOW_REAL_PEERS_KEEP=1).
func keepDirs() bool { return os.Getenv("MAILFLOW_REAL_PEERS_KEEP") == "1" }

// writeFile writes a file with the given mode, creating parent directories.
func writeFile(path, content string, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}

// waitTCP waits until addr accepts a connection and sends a greeting line
// starting with prefix.
func waitTCP(ctx context.Context, addr, prefix string) error {
	var last error
	for {
		last = probe(addr, prefix)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("realpeers: %s not ready: %w", addr, last)
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func probe(addr, prefix string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	if n == 0 && err != nil {
		return err
	}
	if !strings.HasPrefix(string(buf[:n]), prefix) {
		return fmt.Errorf("unexpected greeting %q", buf[:n])
	}
	return nil
}

// tail returns at most the last max bytes of a file, for failure messages.
func tail(path string, max int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%s: %v)", path, err)
	}
	if len(b) > max {
		b = b[len(b)-max:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// withRetries runs once up to three times, for as long as it fails and
// says another attempt might succeed (a free port that another process
// bound between our pick and the daemon's bind), and returns the first
// success or all the attempts' errors joined.
func withRetries[T any](once func() (v T, retry bool, err error)) (T, error) {
	var errs []error
	for range 3 {
		v, retry, err := once()
		if err == nil {
			return v, nil
		}
		errs = append(errs, err)
		if !retry {
			break
		}
	}
	var zero T
	return zero, errors.Join(errs...)
}
