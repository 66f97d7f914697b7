package sqldb

import (
	"context"
	"time"

	"github.com/tokend/tokend/internal/store"
)

var issuerTable = &table[store.TrustedIssuer]{
	name: "trusted_issuers", entity: store.EntityTrustedIssuer,
	key:  []string{"tenant", "id"},
	cols: []string{"tenant", "id", "issuer", "settings", "introspection_secret", "disabled", "created_at", "updated_at"},
	values: func(t *store.TrustedIssuer) []any {
		var secret any
		if len(t.IntrospectionSecret) > 0 {
			secret = t.IntrospectionSecret
		}
		return []any{t.Tenant, t.ID, t.Issuer, jsonText(t.Settings), secret, t.Disabled, micros(t.CreatedAt), micros(t.UpdatedAt)}
	},
	dests: func(t *store.TrustedIssuer) []any {
		return []any{&t.Tenant, &t.ID, &t.Issuer, jsonCol[store.IssuerSettings]{&t.Settings}, &t.IntrospectionSecret, &t.Disabled,
			timeCol{&t.CreatedAt}, timeCol{&t.UpdatedAt}}
	},
	keyOf: func(t *store.TrustedIssuer) (string, string) { return t.Tenant, t.ID },
}

type trustedIssuers struct{ db *DB }

// TrustedIssuers implements store.Store.
func (db *DB) TrustedIssuers() store.TrustedIssuers { return trustedIssuers{db} }

func (s trustedIssuers) Create(ctx context.Context, t store.TrustedIssuer) error {
	return issuerTable.create(ctx, s.db, &t)
}

func (s trustedIssuers) Get(ctx context.Context, tenant, id string) (store.TrustedIssuer, error) {
	return issuerTable.get(ctx, s.db, tenant, id)
}

func (s trustedIssuers) GetByIssuer(ctx context.Context, tenant, issuer string) (store.TrustedIssuer, error) {
	return issuerTable.getWhere(ctx, s.db, " WHERE tenant = $1 AND issuer = $2", tenant, issuer)
}

func (s trustedIssuers) List(ctx context.Context, tenant string) ([]store.TrustedIssuer, error) {
	return issuerTable.list(ctx, s.db, tenant, store.Page{Limit: 1000})
}

func (s trustedIssuers) Update(ctx context.Context, t store.TrustedIssuer) error {
	return issuerTable.update(ctx, s.db, &t)
}

func (s trustedIssuers) Delete(ctx context.Context, tenant, id string) error {
	return issuerTable.delete(ctx, s.db, tenant, id)
}

// UseJTI inserts the jti's row: the primary key makes a second insert of
// the same jti, on any replica, a conflict. An expired row may be taken
// again.
func (s trustedIssuers) UseJTI(ctx context.Context, tenant, issuer, jti string, expiresAt time.Time) error {
	return s.db.write(ctx, func(tx querier) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM assertion_jtis WHERE tenant = $1 AND issuer = $2 AND jti = $3 AND expires_at < $4`,
			tenant, issuer, jti, micros(time.Now())); err != nil {
			return s.db.wrap(err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO assertion_jtis (tenant, issuer, jti, expires_at) VALUES ($1, $2, $3, $4)`,
			tenant, issuer, jti, micros(expiresAt))
		return s.db.wrap(err)
	})
}

func (s trustedIssuers) DeleteExpiredJTIs(ctx context.Context, now time.Time, limit int) (int, error) {
	return s.db.deleteBatch(ctx, limit, `DELETE FROM assertion_jtis WHERE (tenant, issuer, jti) IN
		(SELECT tenant, issuer, jti FROM assertion_jtis WHERE expires_at < $1 LIMIT $2)`, micros(now))
}
