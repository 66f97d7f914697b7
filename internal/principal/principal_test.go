package principal

import (
	"context"
	"testing"

	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
)

func TestPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, err := HashPassword(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := CheckPassword(ctx, h, "correct horse"); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	if ok, _ := CheckPassword(ctx, h, "wrong horse"); ok {
		t.Fatal("wrong password accepted")
	}
	for _, bad := range []string{"", "$argon2id$", "$bcrypt$v=19$m=1,t=1,p=1$aa$bb", h + "x$"} {
		if ok, err := CheckPassword(ctx, bad, "x"); ok || err == nil {
			t.Errorf("CheckPassword(%q) = %v, %v", bad, ok, err)
		}
	}
}

func TestSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, h := NewSecret(token.TagClientSecret)
	if ok, _ := CheckSecret(ctx, h, store.SecretSHA256, s); !ok {
		t.Fatal("generated secret rejected")
	}
	if ok, _ := CheckSecret(ctx, h, store.SecretSHA256, s+"x"); ok {
		t.Fatal("altered secret accepted")
	}
	hh, alg, err := HashSecret(ctx, "a person chose this")
	if err != nil || alg != store.SecretArgon2id {
		t.Fatalf("HashSecret: %v %v", alg, err)
	}
	if ok, _ := CheckSecret(ctx, hh, alg, "a person chose this"); !ok {
		t.Fatal("chosen secret rejected")
	}
	if ok, _ := CheckSecret(ctx, nil, store.SecretSHA256, ""); ok {
		t.Fatal("empty hash accepted")
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	for id, ok := range map[string]bool{"acme": true, "a-b_c.d": true, "9x": true, "": false, "-a": false, "Acme": false, "a b": false, string(make([]byte, 65)): false} {
		if err := ValidID(id); (err == nil) != ok {
			t.Errorf("ValidID(%q) = %v", id, err)
		}
	}
	for in, want := range map[string]string{" Alice@Example.COM ": "alice@example.com", "bob": "bob", "Ｂｏｂ": "bob"} {
		got, err := NormalizeLogin(in)
		if err != nil || got != want {
			t.Errorf("NormalizeLogin(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "a b", "x@", "@@"} {
		if _, err := NormalizeLogin(bad); err == nil {
			t.Errorf("NormalizeLogin(%q) accepted", bad)
		}
	}
}
