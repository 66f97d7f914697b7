// Package vault is the secrets backend of secrets held in HashiCorp Vault's
// KV version 2 engine, read with Vault's official Go client
// (github.com/hashicorp/vault/api). Only internal/app wires it.
//
// tokend authenticates to Vault with a token or with AppRole (role_id and
// secret_id, each from a value or a file read again at each login). A
// renewable token is kept alive with the client's LifetimeWatcher; when it
// can be renewed no more (its max TTL, a revoked token, a 403 on a read),
// tokend logs in again. Until it is logged in, every Resolve is
// ErrUnavailable, never ErrNotFound.
//
// Secrets are read on demand and handed to the caller; this package keeps
// none of them (internal/secrets.Cache does, in memory, for a bounded
// time) and never logs one.
package vault

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/tokend/tokend/internal/secrets"
)

// Options configure a Resolver. Addr and one way to log in are required:
// Token or TokenFile, or RoleID or RoleIDFile with SecretID or
// SecretIDFile.
type Options struct {
	Addr      string
	Namespace string
	Token     string
	TokenFile string
	RoleID    string
	// RoleIDFile and SecretIDFile are read again at each login, so that a
	// secret_id replaced on disk is taken up.
	RoleIDFile   string
	SecretID     string
	SecretIDFile string
	// AppRoleMount is where AppRole is mounted (default "approle").
	AppRoleMount string
	// Timeout bounds each request to Vault (default 5s).
	Timeout time.Duration
	// ReloginEvery spaces the new logins that reads refused with 403 ask
	// for (default 5s), so that a reference to a path tokend may not read
	// does not cost Vault a login per client authentication.
	ReloginEvery time.Duration
	Log          *slog.Logger
}

func (o Options) appRole() bool {
	return o.RoleID != "" || o.RoleIDFile != "" || o.SecretID != "" || o.SecretIDFile != ""
}

// Resolver reads secrets from Vault.
type Resolver struct {
	c   *api.Client
	o   Options
	log *slog.Logger

	mu       sync.Mutex
	loggedIn bool
	loginErr error

	relogin chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}
}

var _ secrets.Resolver = (*Resolver)(nil)

// New returns a Resolver and starts logging in and keeping the login
// alive until Close. A first login is tried before New returns, within
// Timeout; if it fails, New still returns and the Resolver keeps trying
// (with back-off) while its Resolve answers ErrUnavailable.
func New(ctx context.Context, o Options) (*Resolver, error) {
	if o.Addr == "" {
		return nil, errors.New("vault: Addr is required")
	}
	if o.appRole() {
		if (o.RoleID == "" && o.RoleIDFile == "") || (o.SecretID == "" && o.SecretIDFile == "") {
			return nil, errors.New("vault: AppRole needs a role_id and a secret_id")
		}
	} else if o.Token == "" && o.TokenFile == "" {
		return nil, errors.New("vault: a token or AppRole credentials are required")
	}
	if o.AppRoleMount == "" {
		o.AppRoleMount = "approle"
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.ReloginEvery <= 0 {
		o.ReloginEvery = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	cfg := api.DefaultConfig()
	if cfg.Error != nil {
		return nil, fmt.Errorf("vault: client configuration: %w", cfg.Error)
	}
	cfg.Address = o.Addr
	cfg.Timeout = o.Timeout
	// One attempt per request: a retry would only hold the caller past its
	// deadline, and the caller answers "try again" itself.
	cfg.MaxRetries = 0
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	c.ClearToken() // never a VAULT_TOKEN from the environment unasked
	if o.Namespace != "" {
		c.SetNamespace(o.Namespace)
	} else {
		c.ClearNamespace()
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r := &Resolver{c: c, o: o, log: o.Log, relogin: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	first, err := r.login(runCtx)
	r.setLogin(err)
	if err != nil {
		r.log.WarnContext(ctx, "vault: first login failed; retrying in the background", "addr", o.Addr, "err", err)
	}
	go r.run(runCtx, first, err)
	return r, nil
}

// Close stops the login upkeep.
func (r *Resolver) Close() {
	r.cancel()
	<-r.done
}

// Resolve implements secrets.Resolver.
func (r *Resolver) Resolve(ctx context.Context, tenant string, ref secrets.Ref) (secrets.Secret, error) {
	if ref.Backend != secrets.BackendVault {
		return secrets.Secret{}, fmt.Errorf("vault: %w: backend %q", secrets.ErrNotFound, ref.Backend)
	}
	path, err := ref.Expanded(tenant)
	if err != nil {
		return secrets.Secret{}, fmt.Errorf("vault: %w: %v", secrets.ErrNotFound, err)
	}
	if ref.Mount == "" || ref.Field == "" || ref.Version < 0 {
		return secrets.Secret{}, fmt.Errorf("vault: %w: a mount, a field and a version of 0 or more are required", secrets.ErrNotFound)
	}
	where := ref.Mount + "/" + path
	if err := r.ready(); err != nil {
		return secrets.Secret{}, fmt.Errorf("vault: %w: reading %s: not logged in to Vault at %s: %v", secrets.ErrUnavailable, where, r.o.Addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	kv := r.c.KVv2(ref.Mount)
	var s *api.KVSecret
	if ref.Version > 0 {
		s, err = kv.GetVersion(ctx, path, ref.Version)
	} else {
		s, err = kv.Get(ctx, path)
	}
	if err != nil {
		return secrets.Secret{}, r.classify(err, where, ref.Version)
	}
	if s == nil || s.Data == nil {
		// A deleted or destroyed version keeps its metadata, not its data.
		return secrets.Secret{}, fmt.Errorf("vault: %w: %s (version %d) is deleted", secrets.ErrNotFound, where, ref.Version)
	}
	v, ok := s.Data[ref.Field].(string)
	if !ok || v == "" {
		return secrets.Secret{}, fmt.Errorf("vault: %w: %s has no string field %q", secrets.ErrNotFound, where, ref.Field)
	}
	version := 0
	if s.VersionMetadata != nil {
		version = s.VersionMetadata.Version
	}
	return secrets.NewSecret([]byte(v), version), nil
}

// Put writes value as the field of the KV v2 secret ref names for tenant
// (a new version). tokend itself never writes clients' secrets; dev mode
// uses it to place its fixtures' secret where seed 002 keeps it, and it
// needs a token or AppRole policy that may write there.
func (r *Resolver) Put(ctx context.Context, tenant string, ref secrets.Ref, value string) error {
	path, err := ref.Expanded(tenant)
	if err != nil {
		return fmt.Errorf("vault: %v", err)
	}
	where := ref.Mount + "/" + path
	if err := r.ready(); err != nil {
		return fmt.Errorf("vault: %w: writing %s: not logged in to Vault at %s: %v", secrets.ErrUnavailable, where, r.o.Addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	if _, err := r.c.KVv2(ref.Mount).Put(ctx, path, map[string]any{ref.Field: value}); err != nil {
		return fmt.Errorf("vault: writing %s: %w", where, err)
	}
	return nil
}

// classify maps a failed read to ErrNotFound (Vault answered: no such
// secret) or ErrUnavailable (Vault could not answer, or refused tokend).
func (r *Resolver) classify(err error, where string, version int) error {
	if errors.Is(err, api.ErrSecretNotFound) {
		return fmt.Errorf("vault: %w: no secret at %s (version %d)", secrets.ErrNotFound, where, version)
	}
	var re *api.ResponseError
	if errors.As(err, &re) {
		switch re.StatusCode {
		case 404:
			return fmt.Errorf("vault: %w: no secret at %s (version %d)", secrets.ErrNotFound, where, version)
		case 403:
			// An expired or revoked token, or a policy that does not let
			// tokend read there: log in again, and answer "later".
			r.askRelogin()
			return fmt.Errorf("vault: %w: Vault refused tokend's token reading %s (403): %v", secrets.ErrUnavailable, where, re.Errors)
		case 503:
			return fmt.Errorf("vault: %w: Vault is sealed or not active reading %s (503): %v", secrets.ErrUnavailable, where, re.Errors)
		}
		return fmt.Errorf("vault: %w: Vault answered %d reading %s: %v", secrets.ErrUnavailable, re.StatusCode, where, re.Errors)
	}
	return fmt.Errorf("vault: %w: Vault at %s is unreachable reading %s: %v", secrets.ErrUnavailable, r.o.Addr, where, err)
}

func (r *Resolver) ready() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.loggedIn {
		return nil
	}
	if r.loginErr != nil {
		return r.loginErr
	}
	return errors.New("login pending")
}

// setLogin records a login's outcome. A failed login after a good one
// leaves the current token in use: while it lives reads still work, and
// once it is refused they answer unavailable.
func (r *Resolver) setLogin(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.loginErr = err
	if err == nil {
		r.loggedIn = true
	}
}

func (r *Resolver) askRelogin() {
	select {
	case r.relogin <- struct{}{}:
	default:
	}
}

// login authenticates and returns what to keep renewed: the AppRole login
// or the token's own lease; nil when there is nothing to renew (a token
// without a TTL, such as a root token).
func (r *Resolver) login(ctx context.Context) (*api.Secret, error) {
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	if r.o.appRole() {
		roleID, err := value(r.o.RoleID, r.o.RoleIDFile, "role_id")
		if err != nil {
			return nil, err
		}
		secretID, err := value(r.o.SecretID, r.o.SecretIDFile, "secret_id")
		if err != nil {
			return nil, err
		}
		// Log in on a copy of the client, so that reads under way keep the
		// current token until the new one replaces it.
		lc, err := r.c.CloneWithHeaders()
		if err != nil {
			return nil, err
		}
		lc.ClearToken()
		s, err := lc.Logical().WriteWithContext(ctx, "auth/"+r.o.AppRoleMount+"/login",
			map[string]any{"role_id": roleID, "secret_id": secretID})
		if err != nil {
			return nil, fmt.Errorf("AppRole login at auth/%s: %w", r.o.AppRoleMount, err)
		}
		if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
			return nil, fmt.Errorf("AppRole login at auth/%s returned no token", r.o.AppRoleMount)
		}
		r.c.SetToken(s.Auth.ClientToken)
		r.log.InfoContext(ctx, "vault: logged in with AppRole", "addr", r.o.Addr, "ttl", time.Duration(s.Auth.LeaseDuration)*time.Second,
			"renewable", s.Auth.Renewable)
		return s, nil
	}
	tok, err := value(r.o.Token, r.o.TokenFile, "token")
	if err != nil {
		return nil, err
	}
	r.c.SetToken(tok)
	self, err := r.c.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("token lookup-self: %w", err)
	}
	ttl, _ := self.TokenTTL()
	renewable, _ := self.TokenIsRenewable()
	r.log.InfoContext(ctx, "vault: token accepted", "addr", r.o.Addr, "ttl", ttl, "renewable", renewable)
	if !renewable || ttl <= 0 {
		return nil, nil
	}
	return &api.Secret{Auth: &api.SecretAuth{ClientToken: tok, Renewable: true, LeaseDuration: int(ttl / time.Second)}}, nil
}

// value returns v, or the trimmed contents of file.
func value(v, file, what string) (string, error) {
	if v != "" {
		return v, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read the Vault %s file: %w", what, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("the Vault %s file %s is empty", what, file)
	}
	return s, nil
}

// run keeps tokend logged in: it renews what login returned with a
// LifetimeWatcher and logs in again when renewal ends, when a read was
// refused, or, with back-off, after a failed login.
func (r *Resolver) run(ctx context.Context, auth *api.Secret, err error) {
	defer close(r.done)
	backoff := 250 * time.Millisecond
	last := time.Now()
	for {
		if err != nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 30*time.Second)
		} else {
			backoff = 250 * time.Millisecond
			more, refused := r.keep(ctx, auth)
			if !more {
				return
			}
			if wait := r.o.ReloginEvery - time.Since(last); refused && wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}
		if ctx.Err() != nil {
			return
		}
		last = time.Now()
		auth, err = r.login(ctx)
		r.setLogin(err)
		select { // reads refused before this login asked for it
		case <-r.relogin:
		default:
		}
		if err != nil {
			r.log.WarnContext(ctx, "vault: login failed", "addr", r.o.Addr, "err", err)
		}
	}
}

// keep renews auth until renewal ends or a refused read asks for a new
// login (refused); more is false when ctx is done.
func (r *Resolver) keep(ctx context.Context, auth *api.Secret) (more, refused bool) {
	if auth == nil {
		select {
		case <-ctx.Done():
			return false, false
		case <-r.relogin:
			return true, true
		}
	}
	w, err := r.c.NewLifetimeWatcher(&api.LifetimeWatcherInput{Secret: auth})
	if err != nil {
		r.log.WarnContext(ctx, "vault: cannot renew the login", "err", err)
		select {
		case <-ctx.Done():
			return false, false
		case <-r.relogin:
			return true, true
		}
	}
	go w.Start()
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, false
		case <-r.relogin:
			return true, true
		case err := <-w.DoneCh():
			if err != nil {
				r.log.WarnContext(ctx, "vault: token renewal failed; logging in again", "err", err)
			} else {
				r.log.InfoContext(ctx, "vault: token at the end of its life; logging in again")
			}
			return true, false
		case ro := <-w.RenewCh():
			if ro != nil && ro.Secret != nil && ro.Secret.Auth != nil {
				r.log.DebugContext(ctx, "vault: token renewed", "ttl", time.Duration(ro.Secret.Auth.LeaseDuration)*time.Second)
			}
		}
	}
}
