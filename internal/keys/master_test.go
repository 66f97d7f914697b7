package keys_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tokend/tokend/internal/keys"
)

func TestLoadMasterCreatesFileOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Several processes starting together agree on one key.
	const n = 8
	got := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := keys.LoadMaster("", dir)
			if err != nil {
				t.Error(err)
			}
			got[i] = k
		}()
	}
	wg.Wait()
	for i := range got {
		if len(got[i]) != keys.MasterSize || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("load %d returned a different key", i)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, keys.MasterFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("master key file mode %v, err %v", fi.Mode().Perm(), err)
	}
	again, err := keys.LoadMaster("", dir)
	if err != nil || !bytes.Equal(again, got[0]) {
		t.Fatalf("reload: %v", err)
	}
}

func TestLoadMasterRefuses(t *testing.T) {
	t.Parallel()
	loose := t.TempDir()
	if _, err := keys.LoadMaster("", loose); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(loose, keys.MasterFile), 0o644); err != nil {
		t.Fatal(err)
	}
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	for _, tc := range []struct {
		name, value, dir, want string
	}{
		{"group-readable file", "", loose, "chmod 600"},
		{"short key in env", short, "", "32 bytes"},
		{"not base64", "not base64!", "", "32 bytes"},
		{"no key and no dir", "", "", "no master key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := keys.LoadMaster(tc.value, tc.dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadMaster = %v, want an error mentioning %q", err, tc.want)
			}
			if tc.value != "" && strings.Contains(err.Error(), tc.value) {
				t.Fatal("the error repeats the key material")
			}
		})
	}
}

func TestLoadMasterFromEnvValue(t *testing.T) {
	t.Parallel()
	raw := bytes.Repeat([]byte{7}, keys.MasterSize)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
		k, err := keys.LoadMaster(" "+enc.EncodeToString(raw)+"\n", "")
		if err != nil || !bytes.Equal(k, raw) {
			t.Fatalf("LoadMaster = %v", err)
		}
	}
}
