package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// Checkpoints signs and checks the checkpoints that pruning leaves in
// place of a tenant's deleted audit events: HMAC-SHA256, under a key
// derived from the master key (keys.Manager.DeriveKey), over the tenant,
// the last deleted event's seq, hash and time, and when it was pruned.
// Whoever deletes events from the database without the key cannot make a
// checkpoint that Verify accepts, so the remaining chain still proves
// that nothing after the checkpoint was removed or changed.
type Checkpoints struct {
	Key []byte
}

func (c Checkpoints) mac(cp store.AuditCheckpoint) []byte {
	h := hmac.New(sha256.New, c.Key)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(cp.Tenant)))
	h.Write(n[:])
	h.Write([]byte(cp.Tenant))
	for _, v := range []int64{cp.Seq, cp.EventTime.UnixMicro(), cp.PrunedAt.UnixMicro()} {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	binary.BigEndian.PutUint64(n[:], uint64(len(cp.Hash)))
	h.Write(n[:])
	h.Write(cp.Hash)
	return h.Sum(nil)
}

// Sign returns the checkpoint of last, pruned at now.
func (c Checkpoints) Sign(last store.AuditEvent, now time.Time) store.AuditCheckpoint {
	cp := store.AuditCheckpoint{Tenant: last.Tenant, Seq: last.Seq, Hash: last.Hash,
		EventTime: last.Time.UTC().Truncate(time.Microsecond), PrunedAt: now.UTC().Truncate(time.Microsecond)}
	cp.Sig = c.mac(cp)
	return cp
}

// Valid reports whether cp carries the signature only the server makes.
func (c Checkpoints) Valid(cp store.AuditCheckpoint) bool {
	return len(c.Key) > 0 && hmac.Equal(cp.Sig, c.mac(cp))
}

// Prune deletes the tenant's audit events older than before, oldest
// first, batch at a time (pause between batches), and returns how many it
// deleted. Each batch replaces the tenant's checkpoint with one of the
// last event it deleted.
func (c Checkpoints) Prune(ctx context.Context, st store.Store, tenant string, before time.Time, batch int, pause time.Duration) (int, error) {
	if len(c.Key) == 0 {
		return 0, errors.New("audit: no checkpoint key")
	}
	total := 0
	for ctx.Err() == nil {
		n, err := st.Audit().Prune(ctx, tenant, before, batch, func(last store.AuditEvent) store.AuditCheckpoint {
			return c.Sign(last, time.Now())
		})
		total += n
		if err != nil || n < batch {
			return total, err
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
	return total, ctx.Err()
}

// verifyFrom returns where a tenant's remaining chain starts: after the
// checkpoint's seq and hash when events were pruned, from the start
// otherwise. A checkpoint that does not carry the server's signature
// breaks the chain.
func verifyFrom(ctx context.Context, st store.Store, tenant string, cps Checkpoints) (after int64, prev []byte, broken *Result, err error) {
	cp, err := st.Audit().Checkpoint(ctx, tenant)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, nil, nil
	}
	if err != nil {
		return 0, nil, nil, err
	}
	if !cps.Valid(cp) {
		return 0, nil, &Result{BrokenAt: cp.Seq, Pruned: cp.Seq,
			Reason: fmt.Sprintf("the checkpoint of the %d pruned events does not carry the server's signature", cp.Seq)}, nil
	}
	return cp.Seq, cp.Hash, nil, nil
}
