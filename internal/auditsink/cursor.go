package auditsink

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// position is where a sink stands in one tenant's chain: the seq and hash
// of the last event it delivered.
type position struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// cursorFile is a sink's durable cursor: one position per tenant, in a
// JSON file replaced atomically (written beside, synced, renamed, and the
// directory synced) after every delivered batch.
type cursorFile struct {
	path string
	at   map[string]position
}

type cursorJSON struct {
	Sink    string              `json:"sink"`
	Tenants map[string]position `json:"tenants"`
}

// loadCursor reads the cursor at path; a missing file is an empty cursor.
func loadCursor(path string) (*cursorFile, error) {
	c := &cursorFile{path: path, at: map[string]position{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit sink cursor: %w", err)
	}
	var j cursorJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("audit sink cursor %s is not valid JSON (delete it to deliver every event again): %w", path, err)
	}
	for t, p := range j.Tenants {
		if p.Seq < 0 {
			return nil, fmt.Errorf("audit sink cursor %s: tenant %q has a negative seq", path, t)
		}
		c.at[t] = p
	}
	return c, nil
}

// set records p for tenant and writes the file.
func (c *cursorFile) set(sink, tenant string, p position) error {
	c.at[tenant] = p
	b, err := json.MarshalIndent(cursorJSON{Sink: sink, Tenants: c.at}, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, filepath.Base(c.path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, c.path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("audit sink cursor: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
