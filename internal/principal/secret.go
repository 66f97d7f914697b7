package principal

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/secure/precis"

	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
)

// Argon2id parameters (RFC 9106 §4 second recommended option, scaled to
// OWASP's 19 MiB / t=2 floor for interactive logins).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// ErrBadHash reports a stored hash that cannot be parsed.
var ErrBadHash = errors.New("principal: malformed password hash")

// hashSlots bounds concurrent argon2id work.
// Half the CPUs at most: a flood of logins always leaves the other half to
// token validation and issuance.
var hashSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))

func acquire(ctx context.Context) error {
	select {
	case hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func release() { <-hashSlots }

// HashPassword returns the argon2id PHC string of password.
func HashPassword(ctx context.Context, password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	release()
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the PHC string encoded, in
// constant time. An empty encoded hash never matches.
func CheckPassword(ctx context.Context, encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrBadHash
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<20 || t > 16 {
		return false, ErrBadHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, ErrBadHash
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 64 {
		return false, ErrBadHash
	}
	if err := acquire(ctx); err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	release()
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// PreparePassword returns the form of a password that is hashed and
// compared: RFC 8265 §4.2 OpaqueString (non-ASCII spaces mapped to U+0020,
// NFC), so that "é" typed composed or decomposed is one password. It
// fails for an empty password or one holding characters the profile
// disallows (controls, unassigned code points).
func PreparePassword(password string) (string, error) {
	p, err := precis.OpaqueString.String(password)
	if err != nil {
		return "", fmt.Errorf("must not be empty or contain control or unassigned characters (RFC 8265 OpaqueString)")
	}
	return p, nil
}

// VerifyPassword reports whether password, as a person typed it, matches
// the PHC string encoded, in constant time. The prepared form is compared
// (PreparePassword); when the typed form differs from it, that is compared
// too, because hashes made before passwords were prepared hold the bytes
// as they were typed, which only the same bytes match. The second check
// cannot admit a wrong password: a prepared hash never matches an
// unprepared form, and a raw hash matches only the bytes it was made of.
func VerifyPassword(ctx context.Context, encoded, password string) (bool, error) {
	p, perr := PreparePassword(password)
	if perr == nil {
		if ok, err := CheckPassword(ctx, encoded, p); ok || err != nil {
			return ok, err
		}
		if p == password {
			return false, nil
		}
	}
	return CheckPassword(ctx, encoded, password)
}

// dummyHash is checked when no account exists, so that the response time
// does not reveal whether it does.
var dummyHash = func() string {
	h, err := HashPassword(context.Background(), "tokend-dummy-password")
	if err != nil {
		panic(err)
	}
	return h
}()

// CheckDummy spends the time of VerifyPassword for password and returns
// false.
func CheckDummy(ctx context.Context, password string) {
	_, _ = VerifyPassword(ctx, dummyHash, password)
}

// NewSecret returns a generated secret with tag and its stored hash.
func NewSecret(tag string) (secret string, hash []byte) {
	s := token.NewOpaque(tag)
	return s, token.Hash(s)
}

// HashSecret returns the stored form of a secret: SHA-256 for well-formed
// generated secrets, argon2id for anything a person chose.
func HashSecret(ctx context.Context, secret string) (hash []byte, alg string, err error) {
	if _, err := token.ParseOpaque(secret); err == nil {
		return token.Hash(secret), store.SecretSHA256, nil
	}
	h, err := HashPassword(ctx, secret)
	return []byte(h), store.SecretArgon2id, err
}

// dummySecretHash stands in for the SHA-256 of a client that does not exist.
var dummySecretHash = token.Hash("tokend-dummy-secret")

// CheckSecret compares a presented client secret with a stored hash in
// constant time. hash is nil for a client that does not exist.
//
// The work it spends depends only on the presented secret, never on
// whether the client exists nor on how its secret is stored, so that the
// response time does not tell them apart: HashSecret stores a generated
// secret (a well-formed opaque value) as SHA-256 and anything else as
// argon2id, so a well-formed secret costs one SHA-256 and anything else one
// argon2id check — against the stored hash when it is of that kind, and
// against a dummy, where it cannot match, when it is not. An empty secret
// matches nothing and costs nothing. work is the hash spent
// (store.SecretSHA256, store.SecretArgon2id, or "" for none).
func CheckSecret(ctx context.Context, hash []byte, alg, secret string) (ok bool, work string, err error) {
	if secret == "" {
		return false, "", nil
	}
	if _, err := token.ParseOpaque(secret); err == nil {
		stored := alg == store.SecretSHA256 && len(hash) > 0
		want := dummySecretHash
		if stored {
			want = hash
		}
		match := subtle.ConstantTimeCompare(token.Hash(secret), want) == 1
		return match && stored, store.SecretSHA256, nil
	}
	stored := alg == store.SecretArgon2id
	encoded := dummyHash
	if stored {
		encoded = string(hash)
	}
	match, err := CheckPassword(ctx, encoded, secret)
	if errors.Is(err, ErrBadHash) {
		// A stored hash that does not parse matches nothing; spend the
		// dummy's work all the same.
		_, err = CheckPassword(ctx, dummyHash, secret)
		return false, store.SecretArgon2id, err
	}
	return match && stored, store.SecretArgon2id, err
}
