// Package secrets is the contract of where a client's secret lives when
// tokend does not keep its hash: a [Ref] names the secret, a [Resolver]
// reads it. Two backends implement it: internal/secrets/sealed, secrets
// tokend holds sealed under its master key, and internal/secrets/vault,
// secrets held in a HashiCorp Vault KV version 2 engine. One conformance
// suite, internal/secrets/secretstest, runs on both.
//
// A resolved [Secret] is never logged, printed or marshalled: its String,
// LogValue and MarshalJSON methods all redact it, and it is compared with
// [Secret.Equal] in constant time.
package secrets

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Errors of every Resolver, wrapped with %w and a message saying what was
// looked up (never the secret).
var (
	// ErrNotFound: the backend answered, and holds no such secret (no
	// such path, field or version, or the field is not a string).
	ErrNotFound = errors.New("secret not found")
	// ErrUnavailable: the backend could not be asked (unreachable, sealed,
	// timed out, or refused tokend's own credentials). The caller must
	// answer "try again later", never "wrong secret".
	ErrUnavailable = errors.New("secret store unavailable")
)

// Backends.
const (
	// BackendSealed names a secret tokend keeps sealed under its master
	// key in its own store.
	BackendSealed = "sealed"
	// BackendVault names a secret in a Vault KV version 2 engine.
	BackendVault = "vault"
)

// Ref names one secret. Path may be a template over {tenant}, {project}
// and {client}: seed 002 keeps a client's secret at
// secret/{tenant}/{project}/{client}, field secret_id, on the KV v2 mount
// kv.
type Ref struct {
	Backend string `json:"backend"`
	// Mount is the KV v2 mount (vault only).
	Mount string `json:"mount,omitempty"`
	Path  string `json:"path"`
	Field string `json:"field"`
	// Version pins a KV v2 version; 0 is the latest.
	Version int `json:"version,omitempty"`
	// Project is the value of {project}.
	Project string `json:"project,omitempty"`
	// Client is the value of {client}: the client's id, set by the
	// caller when it resolves a client's reference, never stored.
	Client string `json:"-"`
}

// IsZero reports whether r names no secret.
func (r Ref) IsZero() bool { return r.Backend == "" }

// Limits of a Ref's parts.
const (
	maxPath  = 512
	maxField = 128
	maxMount = 128
)

// Validate reports the first problem of r as stored on a client: a known
// backend, a path and field, placeholders that exist, and a Project when
// the path uses {project}.
func (r Ref) Validate() error {
	switch r.Backend {
	case BackendVault:
		if r.Mount == "" {
			return errors.New("mount is required for the vault backend")
		}
		if err := checkPart("mount", r.Mount, maxMount); err != nil {
			return err
		}
	case BackendSealed:
		if r.Mount != "" {
			return errors.New("mount is only for the vault backend")
		}
	case "":
		return errors.New("backend is required (sealed or vault)")
	default:
		return fmt.Errorf("backend %q is not sealed or vault", r.Backend)
	}
	if r.Field == "" {
		return errors.New("field is required")
	}
	if err := checkPart("field", r.Field, maxField); err != nil {
		return err
	}
	if r.Version < 0 {
		return errors.New("version must be 0 (the latest) or a positive version")
	}
	if r.Path == "" {
		return errors.New("path is required")
	}
	if len(r.Path) > maxPath {
		return fmt.Errorf("path is longer than %d bytes", maxPath)
	}
	if strings.Contains(r.Path, "{project}") && r.Project == "" {
		return errors.New("project is required when the path uses {project}")
	}
	if r.Project != "" {
		if err := checkSegment("project", r.Project); err != nil {
			return err
		}
	}
	project := r.Project
	if project == "" {
		project = "p"
	}
	_, err := expand(r.Path, "t", project, "c")
	return err
}

// Expanded returns r's path for tenant, its placeholders filled in. Each
// value must be one path segment, so a tenant, project or client id can
// never reach outside its own part of the tree.
func (r Ref) Expanded(tenant string) (string, error) {
	for _, v := range [][2]string{{"tenant", tenant}, {"client", r.Client}} {
		if strings.Contains(r.Path, "{"+v[0]+"}") {
			if err := checkSegment(v[0], v[1]); err != nil {
				return "", err
			}
		}
	}
	if strings.Contains(r.Path, "{project}") {
		if err := checkSegment("project", r.Project); err != nil {
			return "", err
		}
	}
	return expand(r.Path, tenant, r.Project, r.Client)
}

// expand fills the placeholders of path and checks what is left: no other
// braces, no empty, "." or ".." segment, no leading or trailing slash.
func expand(path, tenant, project, client string) (string, error) {
	out := strings.NewReplacer("{tenant}", tenant, "{project}", project, "{client}", client).Replace(path)
	if strings.ContainsAny(out, "{}") {
		return "", fmt.Errorf("path %q has a placeholder other than {tenant}, {project} and {client}", path)
	}
	for _, seg := range strings.Split(out, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("path %q has an empty, \".\" or \"..\" segment", path)
		}
		if err := checkPart("path", seg, maxPath); err != nil {
			return "", err
		}
	}
	return out, nil
}

func checkSegment(name, v string) error {
	if v == "" || v == "." || v == ".." || strings.Contains(v, "/") {
		return fmt.Errorf("%s %q is not one path segment", name, v)
	}
	return checkPart(name, v, maxPath)
}

// checkPart refuses control characters, spaces, braces and query or
// fragment characters in a part of a Ref.
func checkPart(name, v string, max int) error {
	if len(v) > max {
		return fmt.Errorf("%s is longer than %d bytes", name, max)
	}
	for _, c := range v {
		if c <= ' ' || c == 0x7f || c == '?' || c == '#' || c == '%' || c == '\\' {
			return fmt.Errorf("%s has a character that is not allowed (%q)", name, c)
		}
	}
	if strings.HasPrefix(v, "/") || strings.HasSuffix(v, "/") {
		return fmt.Errorf("%s must not start or end with a slash", name)
	}
	return nil
}

// Resolver reads the secret a Ref names for a tenant. It returns an error
// wrapping ErrNotFound when the backend holds no such secret and one
// wrapping ErrUnavailable when the backend could not be asked.
type Resolver interface {
	Resolve(ctx context.Context, tenant string, ref Ref) (Secret, error)
}

// Secret is a resolved secret. Its value is only ever compared.
type Secret struct {
	value []byte
	// Version is the backend's version of the secret (0 when it has none).
	Version int
}

// NewSecret returns the Secret of value.
func NewSecret(value []byte, version int) Secret {
	return Secret{value: append([]byte(nil), value...), Version: version}
}

// Equal reports whether presented is the secret, in constant time: both
// are hashed first, so that neither their contents nor their lengths show
// in the time taken. An empty secret matches nothing.
func (s Secret) Equal(presented string) bool {
	if len(s.value) == 0 || presented == "" {
		return false
	}
	a, b := sha256.Sum256(s.value), sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// Empty reports whether s has no value.
func (s Secret) Empty() bool { return len(s.value) == 0 }

const redacted = "[secret redacted]"

// String redacts the secret.
func (s Secret) String() string { return redacted }

// GoString redacts the secret.
func (s Secret) GoString() string { return redacted }

// LogValue redacts the secret.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON redacts the secret.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// Mux sends each Ref to the Resolver of its backend.
type Mux struct {
	Sealed Resolver
	// Vault is nil when no Vault is configured; its refs are then
	// unavailable.
	Vault Resolver
}

var _ Resolver = Mux{}

// Resolve implements Resolver.
func (m Mux) Resolve(ctx context.Context, tenant string, ref Ref) (Secret, error) {
	var r Resolver
	switch ref.Backend {
	case BackendSealed:
		r = m.Sealed
	case BackendVault:
		r = m.Vault
		if r == nil {
			return Secret{}, fmt.Errorf("%w: no Vault is configured (tokend serve --vault-addr)", ErrUnavailable)
		}
	default:
		return Secret{}, fmt.Errorf("%w: backend %q", ErrNotFound, ref.Backend)
	}
	if r == nil {
		return Secret{}, fmt.Errorf("%w: the %s backend is not configured", ErrUnavailable, ref.Backend)
	}
	return r.Resolve(ctx, tenant, ref)
}
