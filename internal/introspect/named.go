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
// revoked nor expired), then its user when the subject is one.
func (v *Verifier) named(ctx context.Context, ten, raw string) (*Identity, error) {
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
	now := v.o.Now()
	if c.Exp != nil && !now.Before(time.Unix(*c.Exp, 0)) {
		return nil, fault.InvalidToken("token expired")
	}
	if c.Nbf != nil && now.Add(time.Minute).Before(time.Unix(*c.Nbf, 0)) {
		return nil, fault.InvalidToken("token not yet valid")
	}
	row, err := v.o.Store.Tokens().Get(ctx, ten, c.Jti)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fault.InvalidToken("token unknown")
		}
		return nil, fault.Unavailable(err)
	}
	switch {
	case row.Format != store.FormatNamed:
		return nil, fault.InvalidToken("token unknown")
	case row.RevokedAt != nil && !now.Before(*row.RevokedAt):
		return nil, fault.InvalidToken("token revoked")
	case v.o.Revocations.RowReason(row) != "":
		return nil, fault.InvalidToken("%s", v.o.Revocations.RowReason(row))
	case row.ExpiresAt != nil && !now.Before(*row.ExpiresAt):
		return nil, fault.InvalidToken("token expired")
	}
	if row.SubjectType == "user" {
		if err := v.userActive(ctx, ten, row.Subject); err != nil {
			return nil, err
		}
	}
	cl := ClaimsOf(v.o.PublicURL, row)
	return &Identity{Tenant: ten, Claims: cl, Format: store.FormatNamed}, nil
}
