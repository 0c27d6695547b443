package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr []string // substrings, all required; nil means success
		check   func(t *testing.T, c *Config)
	}{
		{
			name: "full file",
			in: `from = "a@example.com"
to = "b@example.net"
helo = "client.example.com"
resolvers = ["192.0.2.1", "192.0.2.2:5353"]
ca_file = "/etc/ca.pem"
[timeouts]
connect = "5s"
step = "1m30s"
session = "10m"
[profile.work]
server = "smtp.example.com:587"
protocol = "SMTP"
tls = "starttls"
user = "me"
password_file = "/p"
to = ["c@example.org", "d@example.org"]
`,
			check: func(t *testing.T, c *Config) {
				if c.From != "a@example.com" || c.Helo != "client.example.com" || c.CAFile != "/etc/ca.pem" {
					t.Errorf("scalars: %+v", c)
				}
				if !reflect.DeepEqual([]string(c.To), []string{"b@example.net"}) {
					t.Errorf("to = %q", c.To)
				}
				if !reflect.DeepEqual([]string(c.Resolvers), []string{"192.0.2.1", "192.0.2.2:5353"}) {
					t.Errorf("resolvers = %q", c.Resolvers)
				}
				if time.Duration(c.Timeouts.Step) != 90*time.Second || time.Duration(c.Timeouts.Connect) != 5*time.Second ||
					time.Duration(c.Timeouts.Session) != 10*time.Minute {
					t.Errorf("timeouts = %+v", c.Timeouts)
				}
				p := c.Profiles["work"]
				if p.Server != "smtp.example.com:587" || p.User != "me" || p.PasswordFile != "/p" || len(p.To) != 2 {
					t.Errorf("profile = %+v", p)
				}
			},
		},
		{name: "empty file", in: "", check: func(t *testing.T, c *Config) {
			if c.From != "" || len(c.Profiles) != 0 {
				t.Errorf("not empty: %+v", c)
			}
		}},
		{name: "bad TOML names the line", in: "from = \"a\"\n\nhelo = \n", wantErr: []string{"c.toml:3:"}},
		{name: "unterminated string", in: "from = \"a\nhelo = \"x\"\n", wantErr: []string{"c.toml:1:"}},
		{name: "wrong type names line and key", in: "\nhelo = 1\n", wantErr: []string{"c.toml:2:", "helo", "incompatible"}},
		{name: "unknown top-level key", in: "from = \"a\"\nfrmo = \"b\"\n", wantErr: []string{`c.toml:2: unknown key "frmo"`, "valid keys at the top level"}},
		{name: "unknown timeouts key", in: "[timeouts]\n\nconect = \"1s\"\n", wantErr: []string{`c.toml:3: unknown key "timeouts.conect"`, "connect, step, session"}},
		{name: "unknown profile key", in: "[profile.x]\nserver = \"h\"\nport = 25\n", wantErr: []string{`c.toml:3: unknown key "profile.x.port"`}},
		{name: "unknown table reported once", in: "[smtp]\na = 1\nb = 2\n", wantErr: []string{`c.toml:1: unknown key "smtp"`}},
		{name: "two unknown keys in line order", in: "zz = 1\n[timeouts]\naa = \"1s\"\n", wantErr: []string{`config: c.toml:1: unknown key "zz"`, `; c.toml:3: unknown key "timeouts.aa"`}},
		{name: "password key refused at top level", in: "\npassword = \"hunter2\"\n", wantErr: []string{`c.toml:2: key "password" refused`, "password_file", "MAILFLOW_PASSWORD"}},
		{name: "password key refused in profile", in: "[profile.work]\nuser = \"me\"\npassword = \"hunter2\"\n", wantErr: []string{`c.toml:3: key "profile.work.password" refused`}},
		{name: "integer duration refused", in: "[timeouts]\nconnect = 10\n", wantErr: []string{"c.toml:2:", `such as "10s"`}},
		{name: "bad duration", in: "[timeouts]\nstep = \"ten\"\n", wantErr: []string{"c.toml:2:", `"ten" is not a duration`}},
		{name: "negative duration", in: "[timeouts]\nstep = \"-1s\"\n", wantErr: []string{"negative"}},
		{name: "to with a number", in: "to = [\"a@b\", 2]\n", wantErr: []string{"c.toml:1:", "element 2"}},
		{name: "bad protocol", in: "[profile.x]\nprotocol = \"nntp\"\n", wantErr: []string{`profile "x": protocol "nntp"`}},
		{name: "bad tls", in: "[profile.x]\ntls = \"maybe\"\n", wantErr: []string{`profile "x": tls`}},
		{name: "password_file without user", in: "[profile.x]\npassword_file = \"p\"\n", wantErr: []string{"password_file without user"}},
		{name: "bad profile name", in: "[profile.\"a b\"]\nserver = \"h\"\n", wantErr: []string{`profile name "a b"`}},
		{name: "bad resolver", in: "resolvers = [\"\"]\n", wantErr: []string{"resolvers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.in), "c.toml")
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				tt.check(t, c)
				return
			}
			if err == nil {
				t.Fatalf("Parse succeeded, want error with %q", tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the password: %q", err)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestKeyLine(t *testing.T) {
	data := []byte("a = 1\n[t]\n  b = 2\n[p.\"q r\"]\nc = 3\n")
	tests := []struct {
		key  []string
		want int
	}{
		{[]string{"a"}, 1},
		{[]string{"t"}, 2},
		{[]string{"t", "b"}, 3},
		{[]string{"p", "q r", "c"}, 5},
		{[]string{"missing"}, 0},
	}
	for _, tt := range tests {
		if got := keyLine(data, tt.key); got != tt.want {
			t.Errorf("keyLine(%q) = %d, want %d", tt.key, got, tt.want)
		}
	}
}

// settingLine matches a commented-out setting or table header of the example.
var settingLine = regexp.MustCompile(`^# ([a-z_]+ = |\[)`)

func TestExample(t *testing.T) {
	c, err := Parse([]byte(Example()), "example")
	if err != nil {
		t.Fatalf("example as printed: %v", err)
	}
	if !reflect.DeepEqual(c, &Config{Path: "example"}) {
		t.Errorf("example as printed sets values: %+v", c)
	}
	// Uncommented, the example must set every setting there is.
	var b strings.Builder
	n := 0
	for line := range strings.Lines(Example()) {
		if settingLine.MatchString(line) {
			line = strings.TrimPrefix(line, "# ")
			n++
		}
		b.WriteString(line)
	}
	c, err = Parse([]byte(b.String()), "example")
	if err != nil {
		t.Fatalf("example uncommented (%d lines): %v\n%s", n, err, b.String())
	}
	checkAllSet(t, "Config", reflect.ValueOf(*c))
	for name, p := range c.Profiles {
		if name == "work" {
			checkAllSet(t, "profile.work", reflect.ValueOf(p))
		}
	}
	if len(c.Profiles) != 2 {
		t.Errorf("profiles = %v, want 2", c.ProfileNames())
	}
}

// checkAllSet fails for every zero field of a struct, recursively.
func checkAllSet(t *testing.T, path string, v reflect.Value) {
	t.Helper()
	if v.Kind() == reflect.Struct {
		for i := range v.NumField() {
			checkAllSet(t, path+"."+v.Type().Field(i).Name, v.Field(i))
		}
		return
	}
	if v.IsZero() {
		t.Errorf("%s is not set by the uncommented example", path)
	}
}

func TestLoadResolvesPaths(t *testing.T) {
	dir := t.TempDir()
	home := t.TempDir()
	t.Setenv("HOME", home)
	path := filepath.Join(dir, "config.toml")
	writeFile(t, path, "ca_file = \"ca.pem\"\n[profile.a]\nuser = \"u\"\npassword_file = \"~/pw\"\n[profile.b]\nuser = \"u\"\npassword_file = \"/abs/pw\"\n", 0o600)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.CAFile != filepath.Join(dir, "ca.pem") {
		t.Errorf("ca_file = %q", c.CAFile)
	}
	if got := c.Profiles["a"].PasswordFile; got != filepath.Join(home, "pw") {
		t.Errorf("~ path = %q", got)
	}
	if got := c.Profiles["b"].PasswordFile; got != "/abs/pw" {
		t.Errorf("absolute path = %q", got)
	}
	if _, err := Load(filepath.Join(dir, "nope.toml")); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: %v, want ErrNotFound", err)
	}
}

func TestCheckFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "open"), "pw\n", 0o644)
	writeFile(t, filepath.Join(dir, "closed"), "pw\n", 0o600)
	path := filepath.Join(dir, "config.toml")
	writeFile(t, path, `ca_file = "missing.pem"
[profile.a]
user = "u"
password_file = "open"
[profile.b]
user = "u"
password_file = "closed"
`, 0o600)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	errs := c.CheckFiles()
	if len(errs) != 2 {
		t.Fatalf("CheckFiles = %v, want 2 problems", errs)
	}
	if !strings.Contains(errs[0].Error(), "ca_file") || !strings.Contains(errs[1].Error(), `profile "a"`) ||
		!strings.Contains(errs[1].Error(), "chmod 600") {
		t.Errorf("CheckFiles = %v", errs)
	}
}

func TestDefaultPath(t *testing.T) {
	home := t.TempDir()
	tests := []struct {
		name, xdg, env, want string
	}{
		{"xdg set", "/xdg", "", "/xdg/mailflow/config.toml"},
		{"xdg unset", "", "", filepath.Join(home, ".config/mailflow/config.toml")},
		{"relative xdg ignored", "rel", "", filepath.Join(home, ".config/mailflow/config.toml")},
		{"MAILFLOW_CONFIG wins", "/xdg", "/etc/mf.toml", "/etc/mf.toml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HOME", home)
			t.Setenv("XDG_CONFIG_HOME", tt.xdg)
			t.Setenv(EnvConfig, tt.env)
			if got := DefaultPath(); got != tt.want {
				t.Errorf("DefaultPath() = %q, want %q", got, tt.want)
			}
		})
	}
	t.Setenv("XDG_STATE_HOME", "/state")
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", home)
	if got := StateDir(); got != "/state/mailflow" {
		t.Errorf("StateDir() = %q", got)
	}
	if got := DataDir(); got != filepath.Join(home, ".local/share/mailflow") {
		t.Errorf("DataDir() = %q", got)
	}
}

// newFlags is a command's flag set as the check command might have it.
func newFlags() *pflag.FlagSet {
	fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
	fs.String("from", "", "")
	fs.StringArray("to", nil, "")
	fs.String("helo", "default.helo", "")
	fs.StringSlice("resolver", []string{"127.0.0.53"}, "")
	fs.Duration("timeout", time.Minute, "")
	fs.Duration("connect-timeout", 10*time.Second, "")
	fs.String("tls", "none", "")
	fs.String("user", "", "")
	fs.String("ca-file", "", "")
	AddFlags(fs)
	return fs
}

const precedenceFile = `from = "file@example.com"
to = ["f1@example.net", "f2@example.net"]
helo = "file.helo"
resolvers = ["192.0.2.9"]
ca_file = "/file/ca.pem"
[timeouts]
step = "3m"
connect = "4s"
[profile.work]
server = "smtp.example.com"
tls = "implicit"
user = "worker"
helo = "profile.helo"
`

func TestFlagPrecedence(t *testing.T) {
	cfg, err := Parse([]byte(precedenceFile), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		profile string
		want    map[string]string // flag -> value after Apply
		applied []string
	}{
		{
			name: "file fills everything",
			want: map[string]string{
				"from": "file@example.com", "to": "[f1@example.net,f2@example.net]", "helo": "file.helo",
				"resolver": "[192.0.2.9]", "timeout": "3m0s", "connect-timeout": "4s", "ca-file": "/file/ca.pem",
				"tls": "none", "user": "",
			},
			applied: []string{"ca-file", "from", "helo", "resolver", "connect-timeout", "timeout", "to"},
		},
		{
			name: "command line wins",
			args: []string{"--from", "cli@example.com", "--to", "c@example.org", "--timeout", "5s", "--resolver", "198.51.100.1"},
			want: map[string]string{
				"from": "cli@example.com", "to": "[c@example.org]", "timeout": "5s", "resolver": "[198.51.100.1]",
				"helo": "file.helo", "connect-timeout": "4s",
			},
			applied: []string{"ca-file", "helo", "connect-timeout"},
		},
		{
			name:    "profile over defaults, command line over profile",
			args:    []string{"--tls", "starttls"},
			profile: "work",
			want:    map[string]string{"helo": "profile.helo", "user": "worker", "tls": "starttls", "from": "file@example.com"},
			applied: []string{"ca-file", "from", "helo", "resolver", "connect-timeout", "timeout", "to", "user"},
		},
		{
			name:    "same value on the command line as the default still wins",
			args:    []string{"--helo", "default.helo"},
			want:    map[string]string{"helo": "default.helo"},
			applied: []string{"ca-file", "from", "resolver", "connect-timeout", "timeout", "to"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFlags()
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			s, err := cfg.Settings(tt.profile)
			if err != nil {
				t.Fatal(err)
			}
			applied, err := Apply(fs, s)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				if got := fs.Lookup(name).Value.String(); got != want {
					t.Errorf("--%s = %q, want %q", name, got, want)
				}
			}
			if !sameSet(applied, tt.applied) {
				t.Errorf("applied %q, want %q", applied, tt.applied)
			}
			// Applying must not make a flag look as if it had been typed.
			for _, name := range applied {
				if fs.Lookup(name).Changed {
					t.Errorf("--%s marked Changed by Apply", name)
				}
			}
		})
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestApplyBadValue(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.Int("timeout", 0, "") // a command whose --timeout is in seconds
	_, err := Apply(fs, Settings{StepTimeout: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "timeouts.step for --timeout") {
		t.Fatalf("Apply = %v, want an error naming the setting and flag", err)
	}
}

func TestFromFlags(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	t.Setenv(EnvConfig, "")
	other := filepath.Join(t.TempDir(), "other.toml")
	writeFile(t, other, "from = \"other@example.com\"\n", 0o600)
	defPath := filepath.Join(xdg, "mailflow", "config.toml")

	tests := []struct {
		name     string
		file     string // content of the default file; "" = no file
		args     []string
		wantFrom string
		wantSrv  string
		wantErr  string
	}{
		{name: "no default file is fine", wantFrom: ""},
		{name: "default file read", file: precedenceFile, wantFrom: "file@example.com"},
		{name: "explicit file", file: precedenceFile, args: []string{"--config", other}, wantFrom: "other@example.com"},
		{name: "explicit missing file", args: []string{"--config", other + ".missing"}, wantErr: "file not found"},
		{name: "none reads nothing", file: precedenceFile, args: []string{"--config", "none"}, wantFrom: ""},
		{name: "profile", file: precedenceFile, args: []string{"--profile", "work"}, wantFrom: "file@example.com", wantSrv: "smtp.example.com"},
		{name: "unknown profile", file: precedenceFile, args: []string{"--profile", "home"}, wantErr: `no profile "home" (defined: work)`},
		{name: "profile without file", args: []string{"--profile", "work"}, wantErr: "no configuration file"},
		{name: "bad default file is an error", file: "frm = 1\n", wantErr: `config.toml:1: unknown key "frm"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.RemoveAll(filepath.Dir(defPath))
			if tt.file != "" {
				writeFile(t, defPath, tt.file, 0o600)
			}
			fs := newFlags()
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			s, err := FromFlags(fs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FromFlags = %v, want error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := fs.GetString("from"); got != tt.wantFrom {
				t.Errorf("--from = %q, want %q", got, tt.wantFrom)
			}
			if s.Server != tt.wantSrv {
				t.Errorf("Server = %q, want %q", s.Server, tt.wantSrv)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask may have narrowed it
		t.Fatal(err)
	}
}

// BenchmarkParseExample parses the uncommented example, the size of a
// real configuration file, as every command start does.
func BenchmarkParseExample(b *testing.B) {
	var sb strings.Builder
	for line := range strings.Lines(Example()) {
		if settingLine.MatchString(line) {
			line = strings.TrimPrefix(line, "# ")
		}
		sb.WriteString(line)
	}
	data := []byte(sb.String())
	for b.Loop() {
		if _, err := Parse(data, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
