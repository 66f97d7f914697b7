package directory

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"slices"
	"strings"

	"github.com/tokend/tokend/internal/secrets/sealed"
	"github.com/tokend/tokend/internal/store"
)

// LegacySecretSpec sets the credential of seed 004's (apstrata's) signed
// requests. A user or device gets exactly one of Password (its apstrata
// password, of which only the MD5 is kept) or PasswordMD5 (that MD5 in
// hex, as imported from the legacy system); an account owner (a client)
// gets Secret, the account secret.
//
// The MD5 of a password is what apstrata's simple signatures are built
// on; it stands for the password itself, so it is never a tokend
// password (those are argon2id hashes) and is kept sealed under the
// master key, like a signing secret, because the server must recompute
// each signature from it.
type LegacySecretSpec struct {
	Password    *string `json:"password"`
	PasswordMD5 *string `json:"password_md5"`
	Secret      *string `json:"secret"`
}

// PasswordMD5 returns the form in which apstrata signatures use a
// password: the upper-case hex MD5 of its UTF-8 bytes.
func PasswordMD5(password string) string {
	h := md5.Sum([]byte(password))
	return strings.ToUpper(hex.EncodeToString(h[:]))
}

// legacyLabel binds a sealed legacy secret to its principal, apart from
// its signing secret.
func legacyLabel(kind, id string) string { return sealed.Label(sealed.FieldLegacy, kind, id) }

// signingLabel binds a sealed signing secret to its principal.
func signingLabel(kind, id string) string { return sealed.Label(sealed.FieldSigning, kind, id) }

// SetLegacySecret stores a principal's seed 004 credential, sealed; the
// previous one stops working. The value is not returned.
func (s *Service) SetLegacySecret(ctx context.Context, by Actor, ten, kind, id string, sp LegacySecretSpec) error {
	if !slices.Contains(signers, kind) {
		return invalidf("kind", "must be device, user or client")
	}
	var value string
	switch {
	case kind == "client":
		if sp.Password != nil || sp.PasswordMD5 != nil {
			return invalidf("secret", "an account owner has a secret, not a password")
		}
		if sp.Secret == nil || *sp.Secret == "" || len(*sp.Secret) > 256 {
			return invalidf("secret", "must be 1 to 256 characters")
		}
		value = *sp.Secret
	case sp.Secret != nil:
		return invalidf("secret", "a user or device has a password or password_md5, not a secret")
	case (sp.Password == nil) == (sp.PasswordMD5 == nil):
		return invalidf("password", "give exactly one of password and password_md5")
	case sp.Password != nil:
		if *sp.Password == "" || len(*sp.Password) > 1024 {
			return invalidf("password", "must be 1 to 1024 characters")
		}
		value = PasswordMD5(*sp.Password)
	default:
		b, err := hex.DecodeString(*sp.PasswordMD5)
		if err != nil || len(b) != md5.Size {
			return invalidf("password_md5", "must be 32 hex characters")
		}
		value = strings.ToUpper(*sp.PasswordMD5)
	}
	sealed, err := s.keys.SealSecret(ten, legacyLabel(kind, id), []byte(value))
	if err != nil {
		return storeErr(err)
	}
	return s.setSealed(ctx, by, ten, kind, id, "legacy_secret", sealed)
}

// LegacySigner returns a principal's seed 004 credential (the account
// secret of a client, the upper-case hex password MD5 of a user or
// device), or not_found when it has none, does not exist or is disabled.
func (s *Service) LegacySigner(ctx context.Context, ten, kind, id string) (Signer, error) {
	sc, err := s.sealedOf(ctx, ten, kind, id)
	if err != nil {
		return Signer{}, err
	}
	if sc == nil {
		return Signer{}, invalidf("kind", "must be device, user or client")
	}
	return s.openSigner(ten, kind, id, sc.legacy, sc.owner, "legacy secret", legacyLabel(kind, id))
}

// LegacySignerOf is Identify and LegacySigner in one read: the seed 004
// credential of the device or user ident names; not_found when it names
// none, or one disabled or without a credential.
func (s *Service) LegacySignerOf(ctx context.Context, ten, ident string) (Signer, error) {
	if ident == "" {
		return Signer{}, notFound(store.ErrNotFound, "identifier", ident)
	}
	kind, id, sealed := "device", ident, []byte(nil)
	d, err := s.st.Devices().Get(ctx, ten, ident)
	switch {
	case err == nil:
		if d.Disabled {
			return Signer{}, notFound(store.ErrNotFound, kind, id)
		}
		sealed = d.LegacySecret
	case !errors.Is(err, store.ErrNotFound):
		return Signer{}, storeErr(err)
	default:
		u, err := s.st.Users().GetByLogin(ctx, ten, ident)
		if errors.Is(err, store.ErrNotFound) {
			u, err = s.st.Users().Get(ctx, ten, ident)
		}
		if err != nil {
			return Signer{}, notFound(err, "identifier", ident)
		}
		if u.Disabled {
			return Signer{}, notFound(store.ErrNotFound, "user", u.ID)
		}
		kind, id, sealed = "user", u.ID, u.LegacySecret
	}
	if len(sealed) == 0 {
		return Signer{}, notFound(store.ErrNotFound, kind+" legacy secret", id)
	}
	plain, err := s.keys.OpenSecret(ten, legacyLabel(kind, id), sealed)
	if err != nil {
		return Signer{}, storeErr(err)
	}
	return Signer{Kind: kind, ID: id, Secret: plain}, nil
}

// Identify resolves seed 004's identifier of a device or user (apsws.id,
// apsdb.runAs): a device id first, then a user login, then a user id.
// An identifier that names none is not_found.
func (s *Service) Identify(ctx context.Context, ten, ident string) (kind, id string, err error) {
	if ident == "" {
		return "", "", notFound(store.ErrNotFound, "identifier", ident)
	}
	d, err := s.st.Devices().Get(ctx, ten, ident)
	if err == nil {
		return "device", d.ID, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", "", storeErr(err)
	}
	u, err := s.st.Users().GetByLogin(ctx, ten, ident)
	if errors.Is(err, store.ErrNotFound) {
		u, err = s.st.Users().Get(ctx, ten, ident)
	}
	if err != nil {
		return "", "", notFound(err, "identifier", ident)
	}
	return "user", u.ID, nil
}
