package config

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// newFlags returns a flag set with the configuration flags registered and
// args parsed, as a command line would.
func newFlags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("tokend", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return fs
}

// writeFile writes content to name in a fresh temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantErrContains fails unless err is non-nil and mentions every part.
func wantErrContains(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func TestDefault(t *testing.T) {
	t.Parallel()
	want := Config{
		Addr:              "127.0.0.1:8080",
		PublicURL:         "http://127.0.0.1:8080",
		DataDir:           "./tokend-data",
		LogLevel:          "info",
		LogFormat:         "json",
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		ShutdownTimeout:   15 * time.Second,
		RequestTimeout:    5 * time.Second,
		StaleFor:          3 * time.Minute,
		RefreshGrace:      10 * time.Second,
		PruneInterval:     10 * time.Minute,
		PruneAfter:        7 * 24 * time.Hour,
		MaxBodyBytes:      1 << 20,
		VaultAppRoleMount: "approle",
		VaultCacheTTL:     time.Minute,
		VaultTimeout:      5 * time.Second,
		UpstreamTimeout:   5 * time.Second,
		JWKSMaxAge:        5 * time.Minute,
		KeyRotationStage:  10 * time.Minute,

		AuditWebhookTimeout: 5 * time.Second,
		AuditSinkInterval:   2 * time.Second,
	}
	if got := Default(); got != want {
		t.Errorf("Default() = %+v, want %+v", got, want)
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}

	for _, tc := range []struct {
		name string
		fs   *pflag.FlagSet
	}{
		{"registered flags, no args", newFlags(t)},
		{"nil flag set", nil},
		{"empty flag set", pflag.NewFlagSet("x", pflag.ContinueOnError)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Load(tc.fs, []string{"HOME=/root", "PATH=/bin"})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got != want {
				t.Errorf("Load() = %+v, want %+v", got, want)
			}
		})
	}
}

func TestRegisterFlags(t *testing.T) {
	t.Parallel()
	fs := newFlags(t)
	defaults := map[string]string{
		"addr":                             "127.0.0.1:8080",
		"public-url":                       "",
		"data":                             "./tokend-data",
		"database":                         "",
		"dev":                              "false",
		"log-level":                        "info",
		"log-format":                       "json",
		"read-header-timeout":              "5s",
		"read-timeout":                     "15s",
		"write-timeout":                    "15s",
		"idle-timeout":                     "1m0s",
		"shutdown-timeout":                 "15s",
		"refresh-grace":                    "10s",
		"request-timeout":                  "5s",
		"stale-for":                        "3m0s",
		"require-synchronous-standby":      "false",
		"prune-interval":                   "10m0s",
		"prune-after":                      "168h0m0s",
		"max-body-bytes":                   "1048576",
		"max-inflight":                     "0",
		"trusted-proxies":                  "",
		"surface-hosts":                    "",
		"tls-cert":                         "",
		"tls-key":                          "",
		"surface-tenants":                  "",
		"vault-addr":                       "",
		"vault-namespace":                  "",
		"vault-token-file":                 "",
		"vault-role-id-file":               "",
		"vault-secret-id-file":             "",
		"vault-approle-mount":              "approle",
		"vault-cache-ttl":                  "1m0s",
		"vault-timeout":                    "5s",
		"config":                           "",
		"upstream-timeout":                 "5s",
		"dev-trust-issuer":                 "",
		"dev-trust-audience":               "",
		"upstream-allow-insecure-loopback": "false",
		"bigcommerce-domain":               "",
		"otlp-endpoint":                    "",
		"pprof-addr":                       "",
		"jwks-max-age":                     "5m0s",
		"key-rotation-stage":               "10m0s",
		"audit-webhook":                    "",
		"audit-webhook-secret-file":        "",
		"audit-webhook-timeout":            "5s",
		"audit-syslog":                     "",
		"audit-sink-interval":              "2s",
	}
	n := 0
	fs.VisitAll(func(f *pflag.Flag) {
		n++
		want, ok := defaults[f.Name]
		if !ok {
			t.Errorf("unexpected flag --%s", f.Name)
			return
		}
		if f.DefValue != want {
			t.Errorf("--%s default = %q, want %q", f.Name, f.DefValue, want)
		}
		if strings.TrimSpace(f.Usage) == "" {
			t.Errorf("--%s has no help text", f.Name)
		}
	})
	if n != len(defaults) {
		t.Errorf("registered %d flags, want %d", n, len(defaults))
	}
	if fs.Lookup("master-key") != nil {
		t.Error("--master-key must not exist")
	}
	usage := fs.FlagUsages()
	for _, s := range []string{`(default "127.0.0.1:8080")`, "(default 5s)", "(default 1048576)", "TOKEND_READ_TIMEOUT", "TOKEND_DATABASE_URL_FILE"} {
		if !strings.Contains(usage, s) {
			t.Errorf("help text lacks %q:\n%s", s, usage)
		}
	}
	bad := pflag.NewFlagSet("tokend", pflag.ContinueOnError)
	bad.SetOutput(new(strings.Builder))
	RegisterFlags(bad)
	if err := bad.Parse([]string{"--master-key=secret"}); err == nil {
		t.Error("--master-key parsed; the master key must never be a flag")
	}
}

func TestPrecedence(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "tokend.json", `{
		"addr": "127.0.0.1:1111",
		"read-timeout": "11s",
		"max-body-bytes": 11111,
		"dev": true,
		"log-level": "debug"
	}`)
	envFile := "TOKEND_CONFIG=" + file

	for _, tc := range []struct {
		name    string
		args    []string
		env     []string
		check   func(Config) bool
		explain string
	}{
		{
			name:    "defaults when nothing is set",
			check:   func(c Config) bool { return c.Addr == "127.0.0.1:8080" && c.ReadTimeout == 15*time.Second && !c.Dev },
			explain: "defaults",
		},
		{
			name: "file over defaults",
			env:  []string{envFile},
			check: func(c Config) bool {
				return c.Addr == "127.0.0.1:1111" && c.ReadTimeout == 11*time.Second && c.MaxBodyBytes == 11111 && c.Dev && c.LogLevel == "debug" && c.ConfigFile == file
			},
			explain: "file values",
		},
		{
			name:    "file named by flag",
			args:    []string{"--config", file},
			check:   func(c Config) bool { return c.Addr == "127.0.0.1:1111" && c.ConfigFile == file },
			explain: "file values via --config",
		},
		{
			name:    "flag naming the file beats TOKEND_CONFIG",
			args:    []string{"--config", file},
			env:     []string{"TOKEND_CONFIG=/does/not/exist.json"},
			check:   func(c Config) bool { return c.ConfigFile == file && c.Addr == "127.0.0.1:1111" },
			explain: "--config wins",
		},
		{
			name: "env over file",
			env:  []string{envFile, "TOKEND_ADDR=127.0.0.1:2222", "TOKEND_READ_TIMEOUT=22s", "TOKEND_MAX_BODY_BYTES=22222", "TOKEND_DEV=false"},
			check: func(c Config) bool {
				return c.Addr == "127.0.0.1:2222" && c.ReadTimeout == 22*time.Second && c.MaxBodyBytes == 22222 && !c.Dev && c.LogLevel == "debug"
			},
			explain: "env values, file log-level",
		},
		{
			name: "flag over env and file",
			args: []string{"--addr=127.0.0.1:3333", "--read-timeout=33s", "--max-body-bytes=33333", "--dev=false"},
			env:  []string{envFile, "TOKEND_ADDR=127.0.0.1:2222", "TOKEND_READ_TIMEOUT=22s", "TOKEND_DEV=true"},
			check: func(c Config) bool {
				return c.Addr == "127.0.0.1:3333" && c.ReadTimeout == 33*time.Second && c.MaxBodyBytes == 33333 && !c.Dev && c.LogLevel == "debug"
			},
			explain: "flag values, file log-level",
		},
		{
			name:    "flag set to its default still beats env",
			args:    []string{"--addr=127.0.0.1:8080"},
			env:     []string{"TOKEND_ADDR=127.0.0.1:2222"},
			check:   func(c Config) bool { return c.Addr == "127.0.0.1:8080" },
			explain: "explicit flag",
		},
		{
			name:    "unchanged flag does not hide env",
			env:     []string{"TOKEND_LOG_FORMAT=text"},
			check:   func(c Config) bool { return c.LogFormat == "text" },
			explain: "env value",
		},
		{
			name:    "empty env value counts as unset",
			env:     []string{envFile, "TOKEND_ADDR="},
			check:   func(c Config) bool { return c.Addr == "127.0.0.1:1111" },
			explain: "file value",
		},
		{
			name:    "later duplicate env entry wins",
			env:     []string{"TOKEND_ADDR=127.0.0.1:1", "TOKEND_ADDR=127.0.0.1:2"},
			check:   func(c Config) bool { return c.Addr == "127.0.0.1:2" },
			explain: "last entry",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Load(newFlags(t, tc.args...), tc.env)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tc.check(got) {
				t.Errorf("want %s, got %+v", tc.explain, got)
			}
		})
	}
}

func TestEnvNaming(t *testing.T) {
	t.Parallel()
	cfgFile := writeFile(t, "c.json", `{}`)
	for _, tc := range []struct {
		env  string
		want func(Config) bool
	}{
		{"TOKEND_ADDR=0.0.0.0:9999", func(c Config) bool { return c.Addr == "0.0.0.0:9999" }},
		{"TOKEND_PUBLIC_URL=https://auth.example.com", func(c Config) bool { return c.PublicURL == "https://auth.example.com" }},
		{"TOKEND_DATA=/var/lib/tokend", func(c Config) bool { return c.DataDir == "/var/lib/tokend" }},
		{"TOKEND_DATABASE_URL=postgres://db/tokend", func(c Config) bool { return c.DatabaseURL == "postgres://db/tokend" }},
		{"TOKEND_MASTER_KEY=k3y", func(c Config) bool { return c.MasterKey == "k3y" }},
		{"TOKEND_DEV=1", func(c Config) bool { return c.Dev }},
		{"TOKEND_LOG_LEVEL=warn", func(c Config) bool { return c.LogLevel == "warn" }},
		{"TOKEND_LOG_FORMAT=text", func(c Config) bool { return c.LogFormat == "text" }},
		{"TOKEND_READ_HEADER_TIMEOUT=1s", func(c Config) bool { return c.ReadHeaderTimeout == time.Second }},
		{"TOKEND_READ_TIMEOUT=2s", func(c Config) bool { return c.ReadTimeout == 2*time.Second }},
		{"TOKEND_WRITE_TIMEOUT=3s", func(c Config) bool { return c.WriteTimeout == 3*time.Second && c.RequestTimeout == 2*time.Second }},
		{"TOKEND_REQUEST_TIMEOUT=1500ms", func(c Config) bool { return c.RequestTimeout == 1500*time.Millisecond }},
		{"TOKEND_STALE_FOR=30s", func(c Config) bool { return c.StaleFor == 30*time.Second }},
		{"TOKEND_IDLE_TIMEOUT=4m", func(c Config) bool { return c.IdleTimeout == 4*time.Minute }},
		{"TOKEND_SHUTDOWN_TIMEOUT=500ms", func(c Config) bool { return c.ShutdownTimeout == 500*time.Millisecond }},
		{"TOKEND_MAX_BODY_BYTES=4096", func(c Config) bool { return c.MaxBodyBytes == 4096 }},
		{"TOKEND_MAX_INFLIGHT=64", func(c Config) bool { return c.MaxInflight == 64 && c.Inflight() == 64 }},
		{"TOKEND_CONFIG=" + cfgFile, func(c Config) bool { return c.ConfigFile == cfgFile }},
		{"TOKEND_AUDIT_SYSLOG=udp://127.0.0.1:514", func(c Config) bool { return c.AuditSyslog == "udp://127.0.0.1:514" }},
		{"TOKEND_AUDIT_SINK_INTERVAL=500ms", func(c Config) bool { return c.AuditSinkInterval == 500*time.Millisecond }},
	} {
		name, _, _ := strings.Cut(tc.env, "=")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := Load(newFlags(t), []string{tc.env})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tc.want(got) {
				t.Errorf("%s not applied: %+v", tc.env, got)
			}
		})
	}

	t.Run("TOKEND_DATABASE is refused", func(t *testing.T) {
		t.Parallel()
		_, err := Load(newFlags(t), []string{"TOKEND_DATABASE=postgres://db/x"})
		wantErrContains(t, err, "TOKEND_DATABASE ", "TOKEND_DATABASE_URL")
	})
	t.Run("invalid env values name the variable", func(t *testing.T) {
		t.Parallel()
		_, err := Load(newFlags(t), []string{"TOKEND_READ_TIMEOUT=soon", "TOKEND_DEV=maybe", "TOKEND_MAX_BODY_BYTES=lots"})
		wantErrContains(t, err, "TOKEND_READ_TIMEOUT", `"soon"`, "TOKEND_DEV", `"maybe"`, "TOKEND_MAX_BODY_BYTES", `"lots"`)
	})
}

func TestFileVariants(t *testing.T) {
	t.Parallel()
	dbFile := writeFile(t, "db", "  postgresql://tokend@db/tokend\n")
	keyFile := writeFile(t, "key", "\tsecret-key\n\n")
	emptyFile := writeFile(t, "empty", " \n")
	missing := filepath.Join(t.TempDir(), "missing")

	for _, tc := range []struct {
		name    string
		args    []string
		env     []string
		wantDB  string
		wantKey string
		wantErr []string
	}{
		{name: "database URL from file, trimmed", env: []string{"TOKEND_DATABASE_URL_FILE=" + dbFile}, wantDB: "postgresql://tokend@db/tokend"},
		{name: "master key from file, trimmed", env: []string{"TOKEND_MASTER_KEY_FILE=" + keyFile}, wantKey: "secret-key"},
		{name: "flag beats database URL file", args: []string{"--database=postgres://other/db"}, env: []string{"TOKEND_DATABASE_URL_FILE=" + dbFile}, wantDB: "postgres://other/db"},
		{name: "database URL and its file both set", env: []string{"TOKEND_DATABASE_URL=postgres://a/b", "TOKEND_DATABASE_URL_FILE=" + dbFile}, wantErr: []string{"TOKEND_DATABASE_URL and TOKEND_DATABASE_URL_FILE"}},
		{name: "master key and its file both set", env: []string{"TOKEND_MASTER_KEY=x", "TOKEND_MASTER_KEY_FILE=" + keyFile}, wantErr: []string{"TOKEND_MASTER_KEY and TOKEND_MASTER_KEY_FILE"}},
		{name: "missing master key file", env: []string{"TOKEND_MASTER_KEY_FILE=" + missing}, wantErr: []string{"TOKEND_MASTER_KEY_FILE", "missing"}},
		{name: "empty database URL file", env: []string{"TOKEND_DATABASE_URL_FILE=" + emptyFile}, wantErr: []string{"TOKEND_DATABASE_URL_FILE", "empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Load(newFlags(t, tc.args...), tc.env)
			if tc.wantErr != nil {
				wantErrContains(t, err, tc.wantErr...)
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got.DatabaseURL != tc.wantDB || got.MasterKey != tc.wantKey {
				t.Errorf("DatabaseURL, MasterKey = %q, %q; want %q, %q", got.DatabaseURL, got.MasterKey, tc.wantDB, tc.wantKey)
			}
		})
	}
}

func TestConfigFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		content string
		want    func(Config) bool
		wantErr []string
	}{
		{name: "every key", content: `{"addr": "127.0.0.1:7000", "public-url": "https://id.example.com/", "data": "/d", "database": "postgres://db/t",
			"dev": true, "log-level": "error", "log-format": "text", "read-header-timeout": "1s", "read-timeout": "2s",
			"write-timeout": "3s", "idle-timeout": "4s", "shutdown-timeout": "5s", "request-timeout": "2s", "stale-for": "1m", "max-body-bytes": 2048}`,
			want: func(c Config) bool {
				return c.Addr == "127.0.0.1:7000" && c.PublicURL == "https://id.example.com" && c.DataDir == "/d" &&
					c.DatabaseURL == "postgres://db/t" && c.Dev && c.LogLevel == "error" && c.LogFormat == "text" &&
					c.ReadHeaderTimeout == time.Second && c.ReadTimeout == 2*time.Second && c.WriteTimeout == 3*time.Second &&
					c.IdleTimeout == 4*time.Second && c.ShutdownTimeout == 5*time.Second && c.MaxBodyBytes == 2048 &&
					c.RequestTimeout == 2*time.Second && c.StaleFor == time.Minute
			}},
		{name: "trusted proxies", content: `{"trusted-proxies": "10.1.0.0/16"}`,
			want: func(c Config) bool { return c.TrustedProxies == "10.1.0.0/16" && len(c.Proxies()) == 1 }},
		{name: "strings for bool and integer", content: `{"dev": "true", "max-body-bytes": "4096"}`,
			want: func(c Config) bool { return c.Dev && c.MaxBodyBytes == 4096 }},
		{name: "empty object", content: `{}`, want: func(c Config) bool { return c.Addr == Default().Addr }},
		{name: "unknown key", content: `{"adr": "127.0.0.1:1"}`, wantErr: []string{`unknown key "adr"`}},
		{name: "master key refused", content: `{"master-key": "s3cret"}`, wantErr: []string{`"master-key"`, "TOKEND_MASTER_KEY", "TOKEND_MASTER_KEY_FILE"}},
		{name: "nested config refused", content: `{"config": "other.json"}`, wantErr: []string{`"config"`}},
		{name: "duration as number", content: `{"read-timeout": 10}`, wantErr: []string{`"read-timeout"`, "duration"}},
		{name: "bad duration string", content: `{"idle-timeout": "forever"}`, wantErr: []string{`"idle-timeout"`, `"forever"`}},
		{name: "fractional integer", content: `{"max-body-bytes": 1.5}`, wantErr: []string{`"max-body-bytes"`}},
		{name: "number for string", content: `{"addr": 8080}`, wantErr: []string{`"addr"`, "string"}},
		{name: "not an object", content: `["addr"]`, wantErr: []string{"JSON object"}},
		{name: "null document", content: `null`, wantErr: []string{"JSON object"}},
		{name: "trailing data", content: `{} {}`, wantErr: []string{"after the JSON object"}},
		{name: "every bad key reported", content: `{"foo": 1, "bar": 2, "master-key": "x"}`, wantErr: []string{`"foo"`, `"bar"`, `"master-key"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, "tokend.json", tc.content)
			got, err := Load(newFlags(t, "--config", path), nil)
			if tc.wantErr != nil {
				wantErrContains(t, err, append(tc.wantErr, path)...)
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tc.want(got) {
				t.Errorf("file not applied: %+v", got)
			}
		})
	}

	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "nope.json")
		_, err := Load(newFlags(t), []string{"TOKEND_CONFIG=" + path})
		wantErrContains(t, err, "config file", "nope.json")
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("error %v does not wrap os.ErrNotExist", err)
		}
	})
}

func TestPublicURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{name: "empty host", args: []string{"--addr=:8080"}, want: "http://localhost:8080"},
		{name: "IPv4 unspecified", args: []string{"--addr=0.0.0.0:8080"}, want: "http://localhost:8080"},
		{name: "IPv6 unspecified", args: []string{"--addr=[::]:8080"}, want: "http://localhost:8080"},
		{name: "IPv4 loopback", args: []string{"--addr=127.0.0.1:9000"}, want: "http://127.0.0.1:9000"},
		{name: "IPv6 loopback", args: []string{"--addr=[::1]:80"}, want: "http://[::1]:80"},
		{name: "host name", env: []string{"TOKEND_ADDR=tokend.internal:8443"}, want: "http://tokend.internal:8443"},
		{name: "explicit, trailing slash trimmed", args: []string{"--public-url=https://auth.example.com/"}, want: "https://auth.example.com"},
		{name: "explicit with path, trailing slashes trimmed", env: []string{"TOKEND_PUBLIC_URL=https://example.com/tokend//"}, want: "https://example.com/tokend"},
		{name: "explicit wins over derivation", args: []string{"--addr=:8080", "--public-url=http://id.example.com"}, want: "http://id.example.com"},
		{name: "derived from env addr", env: []string{"TOKEND_ADDR=:7000"}, want: "http://localhost:7000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Load(newFlags(t, tc.args...), tc.env)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got.PublicURL != tc.want {
				t.Errorf("PublicURL = %q, want %q", got.PublicURL, tc.want)
			}
		})
	}
}

// TestAuditWebhookSecret: the HMAC key comes from the environment or a
// file named by a flag or TOKEND_AUDIT_WEBHOOK_SECRET_FILE, never from a
// flag or the configuration file.
func TestAuditWebhookSecret(t *testing.T) {
	t.Parallel()
	hook := "--audit-webhook=http://127.0.0.1:9000/audit"
	got, err := Load(newFlags(t, hook), []string{"TOKEND_AUDIT_WEBHOOK_SECRET=0123456789abcdef"})
	if err != nil || got.AuditWebhookSecret != "0123456789abcdef" || got.AuditWebhook != "http://127.0.0.1:9000/audit" {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	got, err = Load(newFlags(t, hook), []string{"TOKEND_AUDIT_WEBHOOK_SECRET_FILE=/run/hook-key"})
	if err != nil || got.AuditWebhookSecretFile != "/run/hook-key" || got.AuditWebhookSecret != "" {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	_, err = Load(newFlags(t, hook), nil)
	wantErrContains(t, err, "audit-webhook: needs an HMAC key")
	fs := newFlags(t)
	if fs.Lookup("audit-webhook-secret") != nil {
		t.Error("the webhook's HMAC key has a flag")
	}
	cfgFile := writeFile(t, "c.json", `{"audit-webhook-secret": "0123456789abcdef"}`)
	_, err = Load(newFlags(t, "--config="+cfgFile), nil)
	wantErrContains(t, err, "audit-webhook-secret")
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		mutate  func(*Config)
		wantErr string // "" means valid
	}{
		{name: "default is valid", mutate: func(*Config) {}},
		{name: "postgres URL", mutate: func(c *Config) { c.DatabaseURL = "postgres://u:p@db/t" }},
		{name: "postgresql URL", mutate: func(c *Config) { c.DatabaseURL = "postgresql://db/t" }},
		{name: "https public URL with path", mutate: func(c *Config) { c.PublicURL = "https://example.com/auth" }},
		{name: "minimum body size", mutate: func(c *Config) { c.MaxBodyBytes = 1024 }},
		{name: "addr without port", mutate: func(c *Config) { c.Addr = "localhost" }, wantErr: "addr: "},
		{name: "addr with bad port", mutate: func(c *Config) { c.Addr = "127.0.0.1:http" }, wantErr: "addr: "},
		{name: "addr port out of range", mutate: func(c *Config) { c.Addr = "127.0.0.1:70000" }, wantErr: "addr: "},
		{name: "relative public URL", mutate: func(c *Config) { c.PublicURL = "/tokend" }, wantErr: "public-url: "},
		{name: "ftp public URL", mutate: func(c *Config) { c.PublicURL = "ftp://example.com" }, wantErr: "public-url: "},
		{name: "public URL with query", mutate: func(c *Config) { c.PublicURL = "https://example.com?a=b" }, wantErr: "public-url: "},
		{name: "public URL with fragment", mutate: func(c *Config) { c.PublicURL = "https://example.com#x" }, wantErr: "public-url: "},
		{name: "public URL without host", mutate: func(c *Config) { c.PublicURL = "http://" }, wantErr: "public-url: "},
		{name: "empty public URL", mutate: func(c *Config) { c.PublicURL = "" }, wantErr: "public-url: "},
		{name: "empty data dir", mutate: func(c *Config) { c.DataDir = "" }, wantErr: "data: "},
		{name: "mysql database", mutate: func(c *Config) { c.DatabaseURL = "mysql://u:hunter2@db/t" }, wantErr: "database: "},
		{name: "bad log level", mutate: func(c *Config) { c.LogLevel = "trace" }, wantErr: "log-level: "},
		{name: "bad log format", mutate: func(c *Config) { c.LogFormat = "xml" }, wantErr: "log-format: "},
		{name: "zero read header timeout", mutate: func(c *Config) { c.ReadHeaderTimeout = 0 }, wantErr: "read-header-timeout: "},
		{name: "negative read timeout", mutate: func(c *Config) { c.ReadTimeout = -time.Second }, wantErr: "read-timeout: "},
		{name: "zero write timeout", mutate: func(c *Config) { c.WriteTimeout = 0 }, wantErr: "write-timeout: "},
		{name: "zero idle timeout", mutate: func(c *Config) { c.IdleTimeout = 0 }, wantErr: "idle-timeout: "},
		{name: "zero shutdown timeout", mutate: func(c *Config) { c.ShutdownTimeout = 0 }, wantErr: "shutdown-timeout: "},
		{name: "tiny body limit", mutate: func(c *Config) { c.MaxBodyBytes = 1023 }, wantErr: "max-body-bytes: "},
		{name: "in-flight limit of one", mutate: func(c *Config) { c.MaxInflight = 1 }},
		{name: "negative in-flight limit", mutate: func(c *Config) { c.MaxInflight = -1 }, wantErr: "max-inflight: "},
		{name: "huge in-flight limit", mutate: func(c *Config) { c.MaxInflight = MaxMaxInflight + 1 }, wantErr: "max-inflight: "},
		{name: "zero request timeout", mutate: func(c *Config) { c.RequestTimeout = 0 }, wantErr: "request-timeout: "},
		{name: "request timeout not below write timeout", mutate: func(c *Config) { c.RequestTimeout = c.WriteTimeout }, wantErr: "request-timeout: must be below write-timeout"},
		{name: "negative stale-for", mutate: func(c *Config) { c.StaleFor = -time.Second }, wantErr: "stale-for: "},
		{name: "no stale state", mutate: func(c *Config) { c.StaleFor = 0 }},
		{name: "synchronous standby without PostgreSQL", mutate: func(c *Config) { c.RequireSynchronousStandby = true }, wantErr: "require-synchronous-standby: needs a PostgreSQL database"},
		{name: "synchronous standby with PostgreSQL", mutate: func(c *Config) {
			c.RequireSynchronousStandby, c.DatabaseURL = true, "postgres://db.internal/tokend"
		}},
		{name: "trusted proxies", mutate: func(c *Config) { c.TrustedProxies = "10.0.0.0/8, 192.168.1.7,fd00::/8" }},
		{name: "trusted proxy not a prefix", mutate: func(c *Config) { c.TrustedProxies = "10.0.0.0/8,proxy.internal" }, wantErr: "trusted-proxies: "},
		{name: "trusted proxy prefix too long", mutate: func(c *Config) { c.TrustedProxies = "10.0.0.0/33" }, wantErr: "trusted-proxies: "},
		{name: "tls", mutate: func(c *Config) { c.TLSCert, c.TLSKey = "cert.pem", "key.pem" }},
		{name: "tls cert without key", mutate: func(c *Config) { c.TLSCert = "cert.pem" }, wantErr: "tls-cert: "},
		{name: "tls key without cert", mutate: func(c *Config) { c.TLSKey = "key.pem" }, wantErr: "tls-cert: "},
		{name: "surface hosts", mutate: func(c *Config) { c.SurfaceHosts = "api.shop.test=shop, auth.other.test:8443 = other" }},
		{name: "surface host without tenant", mutate: func(c *Config) { c.SurfaceHosts = "api.shop.test=" }, wantErr: "surface-hosts: "},
		{name: "surface host twice", mutate: func(c *Config) { c.SurfaceHosts = "a.test=x,a.test=y" }, wantErr: "surface-hosts: "},
		{name: "surface tenants", mutate: func(c *Config) { c.SurfaceTenants = "storetoken=shop" }},
		{name: "surface tenant not a pair", mutate: func(c *Config) { c.SurfaceTenants = "storetoken" }, wantErr: "surface-tenants: "},
		{name: "vault with a token file", mutate: func(c *Config) { c.VaultAddr, c.VaultTokenFile = "http://127.0.0.1:8200", "/run/vault-token" }},
		{name: "vault with VAULT_TOKEN", mutate: func(c *Config) { c.VaultAddr, c.VaultToken = "https://vault.internal:8200", "hvs.x" }},
		{name: "vault with AppRole files", mutate: func(c *Config) {
			c.VaultAddr, c.VaultRoleIDFile, c.VaultSecretIDFile = "http://127.0.0.1:8200", "/run/role-id", "/run/secret-id"
		}},
		{name: "vault without credentials", mutate: func(c *Config) { c.VaultAddr = "http://127.0.0.1:8200" }, wantErr: "vault-addr: Vault needs credentials"},
		{name: "vault AppRole without secret_id", mutate: func(c *Config) { c.VaultAddr, c.VaultRoleIDFile = "http://127.0.0.1:8200", "/run/role-id" }, wantErr: "vault-secret-id-file: "},
		{name: "vault token and AppRole", mutate: func(c *Config) {
			c.VaultAddr, c.VaultRoleID, c.VaultSecretID, c.VaultTokenFile = "http://127.0.0.1:8200", "r", "s", "/run/token"
		}, wantErr: "vault-token-file: "},
		{name: "vault address not a URL", mutate: func(c *Config) { c.VaultAddr, c.VaultToken = "127.0.0.1:8200", "t" }, wantErr: "vault-addr: "},
		{name: "vault settings without address", mutate: func(c *Config) { c.VaultTokenFile = "/run/token" }, wantErr: "vault-addr: is required"},
		{name: "negative vault cache ttl", mutate: func(c *Config) { c.VaultCacheTTL = -time.Second }, wantErr: "vault-cache-ttl: "},
		{name: "zero vault timeout", mutate: func(c *Config) { c.VaultTimeout = 0 }, wantErr: "vault-timeout: "},
		{name: "zero upstream timeout", mutate: func(c *Config) { c.UpstreamTimeout = 0 }, wantErr: "upstream-timeout: "},
		{name: "pprof on loopback", mutate: func(c *Config) { c.PprofAddr = "127.0.0.1:6060" }},
		{name: "pprof on localhost", mutate: func(c *Config) { c.PprofAddr = "localhost:6060" }},
		{name: "pprof on ipv6 loopback", mutate: func(c *Config) { c.PprofAddr = "[::1]:0" }},
		{name: "pprof on every address", mutate: func(c *Config) { c.PprofAddr = ":6060" }, wantErr: "pprof-addr: "},
		{name: "pprof on a public address", mutate: func(c *Config) { c.PprofAddr = "192.0.2.1:6060" }, wantErr: "pprof-addr: "},
		{name: "pprof without port", mutate: func(c *Config) { c.PprofAddr = "127.0.0.1" }, wantErr: "pprof-addr: "},
		{name: "dev trust issuer without dev", mutate: func(c *Config) { c.DevTrustIssuer = "http://localhost:9998/" }, wantErr: "dev-trust-issuer: only with --dev"},
		{name: "audit webhook https with key", mutate: func(c *Config) {
			c.AuditWebhook, c.AuditWebhookSecret = "https://siem.example.com/in?src=tokend", "0123456789abcdef"
		}},
		{name: "audit webhook loopback http with key file", mutate: func(c *Config) {
			c.AuditWebhook, c.AuditWebhookSecretFile = "http://127.0.0.1:9000/audit", "/run/hook-key"
		}},
		{name: "audit webhook plain http elsewhere", mutate: func(c *Config) {
			c.AuditWebhook, c.AuditWebhookSecret = "http://siem.example.com/in", "0123456789abcdef"
		}, wantErr: "audit-webhook: plain http only to a loopback host"},
		{name: "audit webhook without key", mutate: func(c *Config) { c.AuditWebhook = "https://siem.example.com/in" }, wantErr: "audit-webhook: needs an HMAC key"},
		{name: "audit webhook short key", mutate: func(c *Config) {
			c.AuditWebhook, c.AuditWebhookSecret = "https://siem.example.com/in", "short"
		}, wantErr: "audit-webhook: the HMAC key in TOKEND_AUDIT_WEBHOOK_SECRET must be at least 16 bytes"},
		{name: "audit webhook key twice", mutate: func(c *Config) {
			c.AuditWebhook, c.AuditWebhookSecret, c.AuditWebhookSecretFile = "https://siem.example.com/in", "0123456789abcdef", "/run/k"
		}, wantErr: "audit-webhook-secret-file: give the key"},
		{name: "audit webhook with user info", mutate: func(c *Config) {
			c.AuditWebhook, c.AuditWebhookSecret = "https://u:p@siem.example.com/in", "0123456789abcdef"
		}, wantErr: "audit-webhook: must not contain user information"},
		{name: "audit webhook not http", mutate: func(c *Config) {
			c.AuditWebhook, c.AuditWebhookSecret = "ftp://siem.example.com/in", "0123456789abcdef"
		}, wantErr: "audit-webhook: must be an absolute"},
		{name: "audit webhook key file without webhook", mutate: func(c *Config) { c.AuditWebhookSecretFile = "/run/k" }, wantErr: "audit-webhook-secret-file: only with --audit-webhook"},
		{name: "zero audit webhook timeout", mutate: func(c *Config) { c.AuditWebhookTimeout = 0 }, wantErr: "audit-webhook-timeout: "},
		{name: "zero audit sink interval", mutate: func(c *Config) { c.AuditSinkInterval = 0 }, wantErr: "audit-sink-interval: "},
		{name: "audit syslog udp", mutate: func(c *Config) { c.AuditSyslog = "udp://127.0.0.1:514" }},
		{name: "audit syslog tcp", mutate: func(c *Config) { c.AuditSyslog = "tcp://[::1]:6514" }},
		{name: "audit syslog unix", mutate: func(c *Config) { c.AuditSyslog = "unix:///dev/log" }},
		{name: "audit syslog unix stream", mutate: func(c *Config) { c.AuditSyslog = "unixstream:///run/syslog.sock" }},
		{name: "audit syslog without port", mutate: func(c *Config) { c.AuditSyslog = "udp://127.0.0.1" }, wantErr: "audit-syslog: "},
		{name: "audit syslog port 0", mutate: func(c *Config) { c.AuditSyslog = "tcp://127.0.0.1:0" }, wantErr: "audit-syslog: "},
		{name: "audit syslog relative path", mutate: func(c *Config) { c.AuditSyslog = "unix://dev/log" }, wantErr: "audit-syslog: "},
		{name: "audit syslog unknown scheme", mutate: func(c *Config) { c.AuditSyslog = "tls://127.0.0.1:6514" }, wantErr: "audit-syslog: "},
		{name: "audit syslog bare address", mutate: func(c *Config) { c.AuditSyslog = "127.0.0.1:514" }, wantErr: "audit-syslog: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			tc.mutate(&c)
			err := c.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			wantErrContains(t, err, tc.wantErr)
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q leaks the database password", err)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	c := Config{
		Addr:         "nope",
		PublicURL:    "ftp://x?y",
		DataDir:      "",
		DatabaseURL:  "sqlite://x",
		LogLevel:     "loud",
		LogFormat:    "yaml",
		ReadTimeout:  -1,
		MaxBodyBytes: 10,
	}
	err := c.Validate()
	fields := []string{"addr: ", "public-url: ", "data: ", "database: ", "log-level: ", "log-format: ",
		"read-header-timeout: ", "read-timeout: ", "write-timeout: ", "idle-timeout: ", "shutdown-timeout: ", "refresh-grace: ", "request-timeout: ", "upstream-timeout: ", "max-body-bytes: ", "vault-timeout: ",
		"jwks-max-age: ", "key-rotation-stage: ", "audit-sink-interval: ", "audit-webhook-timeout: "}
	wantErrContains(t, err, fields...)
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T does not join its problems", err)
	}
	if n := len(joined.Unwrap()); n != len(fields) {
		t.Errorf("got %d problems, want %d:\n%v", n, len(fields), err)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "tokend.json", `{"colour": "blue", "master-key": "x"}`)
	fs := newFlags(t, "--config", file, "--log-level=loud", "--max-body-bytes=1", "--addr=bad")
	_, err := Load(fs, []string{"TOKEND_WRITE_TIMEOUT=later", "TOKEND_DATABASE_URL=mysql://db"})
	wantErrContains(t, err,
		`unknown key "colour"`, `"master-key"`, "TOKEND_WRITE_TIMEOUT",
		"addr: ", "log-level: ", "max-body-bytes: ", "database: ")
	if strings.Contains(err.Error(), "public-url: ") {
		t.Errorf("bad addr also reported as a public-url problem: %v", err)
	}
}

func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	got, err := Load(newFlags(t, "--trusted-proxies", "10.0.0.0/8,192.168.1.7"), []string{"TOKEND_TRUSTED_PROXIES=172.16.0.0/12"})
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Proxies(); len(p) != 2 || p[0].String() != "10.0.0.0/8" || p[1].String() != "192.168.1.7/32" {
		t.Fatalf("flag: %v", p)
	}
	got, err = Load(newFlags(t), []string{"TOKEND_TRUSTED_PROXIES=172.16.0.0/12, ::ffff:10.0.0.0/104, 2001:db8::1"})
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, p := range got.Proxies() {
		s = append(s, p.String())
	}
	if strings.Join(s, " ") != "172.16.0.0/12 10.0.0.0/8 2001:db8::1/128" {
		t.Fatalf("env: %v", s)
	}
	if got, _ := Load(newFlags(t), nil); got.Proxies() != nil {
		t.Fatalf("default trusts %v", got.Proxies())
	}
}

// TestInflight: 0 derives the limit from GOMAXPROCS, never below
// MinDefaultInflight; a set limit is taken as it is.
func TestInflight(t *testing.T) {
	t.Parallel()
	want := max(MinDefaultInflight, InflightPerCPU*runtime.GOMAXPROCS(0))
	if got := Default().Inflight(); got != want {
		t.Errorf("default Inflight() = %d, want %d", got, want)
	}
	if got := (Config{MaxInflight: 3}).Inflight(); got != 3 {
		t.Errorf("Inflight() with MaxInflight 3 = %d, want 3", got)
	}
	c, err := Load(newFlags(t, "--max-inflight=17"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Inflight() != 17 {
		t.Errorf("--max-inflight=17: Inflight() = %d", c.Inflight())
	}
}
