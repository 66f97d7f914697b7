package introspect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/keys"
	"github.com/tokend/tokend/internal/store"
)

// looksNamed reports whether raw's header is an HS256 one with a kid
// that is not one of tokend's own key ids (store.FormatNamed), without
// verifying anything.
func looksNamed(raw string) bool {
	_, ok := keys.NamedKID(raw)
	return ok
}

// errNoNamedKey: the tenant has no named secret of the token's kid.
var errNoNamedKey = errors.New("no named secret of that kid")

// namedClaims are the claims of a named HS256 token the verifier reads;
// the rest are the legacy product's and are taken from the ledger row.
type namedClaims struct {
	Exp *int64 `json:"exp"`
	Nbf *int64 `json:"nbf"`
	Jti string `json:"jti"`
}

// named verifies a kid-named HS256 token (store.FormatNamed) of tenant
// ten: the signature with the tenant's secret of that name, then the
// ledger row (which must exist, be of that format, and be neither
// revoked nor expired), then its user when the subject is one. A token
// verified so before is answered from ledgerSeen (see there why that is
// the same answer): its deny-list, expiry and user checks are made again,
// the signature and the ledger read are not.
func (v *Verifier) named(ctx context.Context, ten, raw string) (*Identity, error) {
	if e, ok := v.rows.get(raw); ok && e.tenant == ten {
		id, err := v.namedRow(ctx, ten, e)
		if fault.CodeOf(err) == fault.CodeInvalidToken {
			v.rows.drop(raw)
		}
		return id, err
	}
	_, payload, err := v.o.Keys.VerifyNamed(ctx, ten, raw)
	if err != nil {
		if f := fault.As(err); f != nil && f.Description == "unknown key" {
			return nil, errNoNamedKey
		}
		return nil, err
	}
	var c namedClaims
	d := json.NewDecoder(bytes.NewReader(payload))
	if err := d.Decode(&c); err != nil || d.More() || c.Jti == "" {
		return nil, fault.InvalidToken("malformed token")
	}
	e := seenEntry{tenant: ten}
	if c.Exp != nil {
		e.exp = *c.Exp
	}
	if c.Nbf != nil {
		e.nbf = *c.Nbf
	}
	if err := e.times(v.o.Now()); err != nil {
		return nil, err
	}
	row, err := v.o.Store.Tokens().Get(ctx, ten, c.Jti)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fault.InvalidToken("token unknown")
		}
		return nil, fault.Unavailable(err)
	}
	if row.Format != store.FormatNamed {
		return nil, fault.InvalidToken("token unknown")
	}
	e.row = row
	id, err := v.namedRow(ctx, ten, e)
	if err == nil {
		v.rows.put(raw, e)
	}
	return id, err
}

// times refuses a named token past its exp or before its nbf (a minute
// of skew).
func (e seenEntry) times(now time.Time) error {
	if e.exp != 0 && !now.Before(time.Unix(e.exp, 0)) {
		return fault.InvalidToken("token expired")
	}
	if e.nbf != 0 && now.Add(time.Minute).Before(time.Unix(e.nbf, 0)) {
		return fault.InvalidToken("token not yet valid")
	}
	return nil
}

// namedRow checks what may change after a named token was issued: its
// times, its ledger row's revocation (as read, and the deny-list now),
// its row's expiry and its user.
func (v *Verifier) namedRow(ctx context.Context, ten string, e seenEntry) (*Identity, error) {
	now := v.o.Now()
	if err := e.times(now); err != nil {
		return nil, err
	}
	row := e.row
	switch {
	case row.RevokedAt != nil && !now.Before(*row.RevokedAt):
		return nil, fault.InvalidToken("token revoked")
	case v.o.Revocations.RowReason(row) != "":
		return nil, fault.InvalidToken("%s", v.o.Revocations.RowReason(row))
	case row.ExpiresAt != nil && !now.Before(*row.ExpiresAt):
		return nil, fault.InvalidToken("token expired")
	}
	if row.SubjectType == "user" {
		// The token paths' cache (Options.Users): a user disabled or
		// deleted is seen within its bound (authn.Directory).
		if err := userActive(ctx, v.o.Users, ten, row.Subject); err != nil {
			return nil, err
		}
	}
	cl := ClaimsOf(v.o.PublicURL, row)
	return &Identity{Tenant: ten, Claims: cl, Format: store.FormatNamed}, nil
}
