package keys

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// MasterSize is the length of the master key: an AES-256 key.
const MasterSize = 32

// MasterFile is the name of the master key file in the data directory.
const MasterFile = "master.key"

// LoadMaster returns the master key that seals every signing key.
//
// A non-empty value (the content of TOKEND_MASTER_KEY) must be base64,
// standard or URL alphabet, padded or not, of exactly 32 bytes. An empty
// value uses <dataDir>/master.key instead, creating it with 32 random bytes
// and mode 0600 on first start; an existing file that group or others may
// access is refused. Errors never contain key material.
func LoadMaster(value, dataDir string) ([]byte, error) {
	if value != "" {
		k, ok := decodeMaster(value)
		if !ok {
			return nil, errors.New("keys: TOKEND_MASTER_KEY must be 32 bytes encoded in base64 (for example the output of: openssl rand -base64 32)")
		}
		return k, nil
	}
	if dataDir == "" {
		return nil, errors.New("keys: no master key: set TOKEND_MASTER_KEY or a data directory")
	}
	path := filepath.Join(dataDir, MasterFile)
	k, err := createMaster(path)
	if errors.Is(err, fs.ErrExist) {
		return readMaster(path)
	}
	return k, err
}

// decodeMaster accepts standard or URL base64, with or without padding.
func decodeMaster(s string) ([]byte, bool) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			return k, len(k) == MasterSize
		}
	}
	return nil, false
}

// createMaster creates path with a new random key. O_EXCL makes exactly
// one of several processes starting together the creator; the others get
// fs.ErrExist and read what it wrote.
func createMaster(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		return nil, fmt.Errorf("keys: create master key file: %w", err)
	}
	k := make([]byte, MasterSize)
	if _, err := rand.Read(k); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("keys: generate master key: %w", err)
	}
	// One write, so a concurrent reader sees either nothing or the whole key.
	_, err = f.Write([]byte(base64.StdEncoding.EncodeToString(k) + "\n"))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("keys: write master key file: %w", err)
	}
	syncDir(filepath.Dir(path))
	return k, nil
}

// syncDir makes a new directory entry durable (best effort).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// readMaster reads an existing key file after checking its permissions. A
// file another process has just created may still be empty for an instant,
// so an empty file is read again for up to a second.
func readMaster(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("keys: master key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("keys: master key file %s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("keys: master key file %s is accessible by group or others (mode %04o); restrict it with: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	var b []byte
	for i := 0; ; i++ {
		b, err = os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("keys: read master key file: %w", err)
		}
		if len(strings.TrimSpace(string(b))) > 0 || i == 20 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	k, ok := decodeMaster(string(b))
	if !ok {
		return nil, fmt.Errorf("keys: master key file %s must hold 32 bytes encoded in base64", path)
	}
	return k, nil
}
