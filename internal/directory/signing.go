package directory

import (
	"context"
	"slices"

	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
)

// TagSigningSecret tags signing secrets (tkd_ss_...).
const TagSigningSecret = "ss"

// Principals that sign token requests.
var signers = []string{"device", "user", "client"}

// RotateSigningSecret gives a device, user or client a new signing secret
// for signed token requests and returns it, shown this once. It is stored
// sealed under the master key (the server must recompute each HMAC, so a
// hash would not do); the previous secret stops working.
func (s *Service) RotateSigningSecret(ctx context.Context, by Actor, ten, kind, id string) (string, error) {
	if !slices.Contains(signers, kind) {
		return "", invalidf("kind", "must be device, user or client")
	}
	secret := token.NewOpaque(TagSigningSecret)
	sealed, err := s.keys.SealSecret(ten, signingLabel(kind, id), []byte(secret))
	if err != nil {
		return "", storeErr(err)
	}
	err = s.setSealed(ctx, by, ten, kind, id, "signing_secret", sealed)
	if err != nil {
		return "", err
	}
	return secret, nil
}

// Signer is a principal that signs token requests, with its secret.
type Signer struct {
	Kind, ID string
	Secret   []byte
	// Owner is true for a client allowed tokend:admin: it may mint for
	// users and devices (run_as).
	Owner bool
}

// SigningSecret returns the principal's signing secret, or not_found when
// it has none (or does not exist, or is disabled).
func (s *Service) SigningSecret(ctx context.Context, ten, kind, id string) (Signer, error) {
	sc, err := s.sealedOf(ctx, ten, kind, id)
	if err != nil {
		return Signer{}, err
	}
	if sc == nil {
		return Signer{}, invalidf("principal", "must be device:ID, user:ID or client:ID")
	}
	return s.openSigner(ten, kind, id, sc.signing, sc.owner, "signing secret", signingLabel(kind, id))
}

// sealedSecrets are a principal's sealed secrets of signed requests.
type sealedSecrets struct {
	signing, legacy []byte
	// owner is true for a client allowed tokend:admin.
	owner bool
}

// sealedOf reads the sealed secrets of the device, user or client id;
// nil for another kind; not_found when it does not exist or is disabled.
func (s *Service) sealedOf(ctx context.Context, ten, kind, id string) (*sealedSecrets, error) {
	switch kind {
	case "device":
		d, err := s.st.Devices().Get(ctx, ten, id)
		if err != nil || d.Disabled {
			return nil, notFound(orNotFound(err), kind, id)
		}
		return &sealedSecrets{signing: d.SigningSecret, legacy: d.LegacySecret}, nil
	case "user":
		u, err := s.st.Users().Get(ctx, ten, id)
		if err != nil || u.Disabled {
			return nil, notFound(orNotFound(err), kind, id)
		}
		return &sealedSecrets{signing: u.SigningSecret, legacy: u.LegacySecret}, nil
	case "client":
		c, err := s.st.Clients().Get(ctx, ten, id)
		if err != nil || c.Disabled {
			return nil, notFound(orNotFound(err), kind, id)
		}
		return &sealedSecrets{signing: c.SigningSecret, legacy: c.LegacySecret, owner: slices.Contains(c.Scopes, "tokend:admin")}, nil
	}
	return nil, nil
}

// openSigner opens a principal's sealed secret (what it is, for the
// not_found of a principal without one) under label.
func (s *Service) openSigner(ten, kind, id string, sealed []byte, owner bool, what, label string) (Signer, error) {
	if len(sealed) == 0 {
		return Signer{}, notFound(store.ErrNotFound, kind+" "+what, id)
	}
	plain, err := s.keys.OpenSecret(ten, label, sealed)
	if err != nil {
		return Signer{}, storeErr(err)
	}
	return Signer{Kind: kind, ID: id, Secret: plain, Owner: owner}, nil
}

// setSealed stores sealed as the field (signing_secret or legacy_secret)
// of the device, user or client id, audited as KIND.FIELD.
func (s *Service) setSealed(ctx context.Context, by Actor, ten, kind, id, field string, sealed []byte) error {
	set := func(signing, legacy *[]byte) {
		if field == "signing_secret" {
			*signing = sealed
		} else {
			*legacy = sealed
		}
	}
	return s.change(ctx, by, ten, kind+"."+field, id, nil, func(st store.Store) error {
		now := s.stamp()
		switch kind {
		case "device":
			d, err := st.Devices().Get(ctx, ten, id)
			if err != nil {
				return notFound(err, kind, id)
			}
			set(&d.SigningSecret, &d.LegacySecret)
			d.UpdatedAt = now
			return st.Devices().Update(ctx, d)
		case "user":
			u, err := st.Users().Get(ctx, ten, id)
			if err != nil {
				return notFound(err, kind, id)
			}
			set(&u.SigningSecret, &u.LegacySecret)
			u.UpdatedAt = now
			return st.Users().Update(ctx, u)
		default:
			c, err := st.Clients().Get(ctx, ten, id)
			if err != nil {
				return notFound(err, kind, id)
			}
			set(&c.SigningSecret, &c.LegacySecret)
			c.UpdatedAt = now
			return st.Clients().Update(ctx, c)
		}
	})
}

func orNotFound(err error) error {
	if err == nil {
		return store.ErrNotFound
	}
	return err
}

// ClientSigningKey returns a client's signing secret, the key of its
// client_secret_jwt assertions.
func (s *Service) ClientSigningKey(ctx context.Context, ten, clientID string) ([]byte, error) {
	sg, err := s.SigningSecret(ctx, ten, "client", clientID)
	return sg.Secret, err
}
