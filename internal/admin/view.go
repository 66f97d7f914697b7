package admin

import (
	"encoding/json"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/secrets"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
)

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func tsp(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := ts(*t)
	return &s
}

type tenantView struct {
	ID          string       `json:"id"`
	DisplayName string       `json:"display_name"`
	Issuer      string       `json:"issuer"`
	Policy      store.Policy `json:"policy"`
	CreatedAt   string       `json:"created_at"`
	UpdatedAt   string       `json:"updated_at"`
}

func (a *API) tenantView(t store.Tenant) tenantView {
	return tenantView{t.ID, t.DisplayName, tenant.Issuer(a.public, t.ID), t.Policy, ts(t.CreatedAt), ts(t.UpdatedAt)}
}

type projectView struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	Audience    string `json:"audience"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
}

func projectOf(p store.Project) projectView {
	return projectView{p.ID, p.DisplayName, p.Audience, ts(p.CreatedAt), ts(p.UpdatedAt)}
}

type clientView struct {
	ID           string          `json:"id"`
	DisplayName  string          `json:"display_name"`
	GrantTypes   []string        `json:"grant_types"`
	Scopes       []string        `json:"scopes"`
	Audiences    []string        `json:"audiences"`
	Kinds        []string        `json:"kinds"`
	Policy       store.Policy    `json:"policy"`
	Disabled     bool            `json:"disabled"`
	Public       bool            `json:"public"`
	SecretAlg    string          `json:"secret_alg,omitempty"`
	JWKS         json.RawMessage `json:"jwks,omitempty"`
	SecretRef    *secrets.Ref    `json:"secret_ref,omitempty"`
	CreatedAt    string          `json:"created_at"`
	UpdatedAt    string          `json:"updated_at"`
	ClientSecret string          `json:"client_secret,omitempty"`
}

func clientOf(c store.Client) clientView {
	var ref *secrets.Ref
	if !c.SecretRef.IsZero() {
		ref = &c.SecretRef
	}
	return clientView{SecretRef: ref, ID: c.ID, DisplayName: c.DisplayName, GrantTypes: c.GrantTypes, Scopes: c.Scopes,
		Audiences: c.Audiences, Kinds: c.Kinds, Policy: c.Policy, Disabled: c.Disabled, Public: !c.Confidential(),
		SecretAlg: c.SecretAlg, JWKS: rawOrNil(c.JWKS), CreatedAt: ts(c.CreatedAt), UpdatedAt: ts(c.UpdatedAt)}
}

func rawOrNil(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

type userView struct {
	ID          string   `json:"id"`
	Login       string   `json:"login"`
	DisplayName string   `json:"display_name"`
	Roles       []string `json:"roles"`
	Groups      []string `json:"groups"`
	Disabled    bool     `json:"disabled"`
	HasPassword bool     `json:"has_password"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
}

func userOf(u store.User) userView {
	return userView{u.ID, u.Login, u.DisplayName, u.Roles, u.Groups, u.Disabled, u.PasswordHash != "", ts(u.CreatedAt), ts(u.UpdatedAt)}
}

type deviceView struct {
	ID           string            `json:"id"`
	DisplayName  string            `json:"display_name"`
	Type         string            `json:"type"`
	Roles        []string          `json:"roles"`
	Metadata     map[string]string `json:"metadata"`
	Disabled     bool              `json:"disabled"`
	CreatedAt    string            `json:"created_at"`
	UpdatedAt    string            `json:"updated_at"`
	DeviceSecret string            `json:"device_secret,omitempty"`
	// JTI is the current compact token id of a store.
	JTI string `json:"jti,omitempty"`
}

func deviceOf(d store.Device) deviceView {
	return deviceView{ID: d.ID, DisplayName: d.DisplayName, Type: d.Type, Roles: d.Roles, Metadata: d.Metadata,
		Disabled: d.Disabled, CreatedAt: ts(d.CreatedAt), UpdatedAt: ts(d.UpdatedAt), JTI: d.JTI}
}

type roleView struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Scopes      []string `json:"scopes"`
	Resources   []string `json:"resources"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
}

func roleOf(r store.Role) roleView {
	return roleView{r.Name, r.Description, r.Scopes, r.Resources, ts(r.CreatedAt), ts(r.UpdatedAt)}
}

type groupView struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Roles       []string `json:"roles"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
}

func groupOf(g store.Group) groupView {
	return groupView{g.Name, g.Description, g.Roles, ts(g.CreatedAt), ts(g.UpdatedAt)}
}

type keyView struct {
	KID          string  `json:"kid"`
	Alg          string  `json:"alg"`
	State        string  `json:"state"`
	CreatedAt    string  `json:"created_at"`
	RetiredAt    *string `json:"retired_at,omitempty"`
	PublishUntil *string `json:"publish_until,omitempty"`
	ActivateAt   *string `json:"activate_at,omitempty"`
}

func keyOf(k store.Key) keyView {
	return keyView{k.ID, k.Alg, k.State, ts(k.CreatedAt), tsp(k.RetiredAt), tsp(k.PublishUntil), tsp(k.ActivateAt)}
}

type tokenView struct {
	ID          string   `json:"id"`
	Kind        string   `json:"kind"`
	Format      string   `json:"format"`
	SubjectType string   `json:"subject_type"`
	Subject     string   `json:"subject"`
	ClientID    string   `json:"client_id,omitempty"`
	SessionID   string   `json:"session_id,omitempty"`
	Actor       string   `json:"actor,omitempty"`
	Audience    []string `json:"audience"`
	Scope       []string `json:"scope"`
	IssuedAt    string   `json:"issued_at"`
	ExpiresAt   *string  `json:"expires_at"`
	RevokedAt   *string  `json:"revoked_at"`
	// Grant, IDP and ExternalSubject are recorded for exchanged tokens.
	Grant           string `json:"grant,omitempty"`
	IDP             string `json:"idp,omitempty"`
	ExternalSubject string `json:"external_subject,omitempty"`
}

func tokenOf(t store.Token) tokenView {
	return tokenView{t.ID, t.Kind, t.Format, t.SubjectType, t.Subject, t.ClientID, t.SessionID, t.Actor,
		t.Audience, t.Scope, ts(t.IssuedAt), tsp(t.ExpiresAt), tsp(t.RevokedAt), t.Grant, t.IDP, t.ExternalSubject}
}

func auditOf(e store.AuditEvent) audit.View { return audit.ViewOf(e) }

// revocationView is a revocation-log entry.
type revocationView struct {
	Seq         int64   `json:"seq"`
	Scope       string  `json:"scope"`
	SubjectType string  `json:"subject_type,omitempty"`
	Key         string  `json:"key,omitempty"`
	Cutoff      string  `json:"cutoff"`
	Until       *string `json:"until"`
}

func revocationOf(r store.Revocation) revocationView {
	v := revocationView{Seq: r.Seq, Scope: r.Scope, SubjectType: r.SubjectType, Key: r.Key, Cutoff: r.Cutoff.Format(time.RFC3339Nano)}
	if r.Until != nil {
		u := r.Until.Format(time.RFC3339Nano)
		v.Until = &u
	}
	return v
}
