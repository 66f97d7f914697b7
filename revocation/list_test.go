package revocation

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func TestDenyListCutoffs(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cut := base.Add(500 * time.Microsecond)
	before := Presented{Tenant: "a", ID: "t1", IssuedAt: base, Subject: "alice", SessionID: "s1", ClientID: "c1", FamilyID: "f1"}
	after := before
	after.ID, after.IssuedAt = "t2", base.Add(501*time.Microsecond) // same second, after the cutoff
	other := before
	other.Tenant = "b"

	cases := []struct {
		name string
		rev  Entry
	}{
		{"subject", Entry{Scope: Subject, Key: "alice"}},
		{"session", Entry{Scope: Session, Key: "s1"}},
		{"client", Entry{Scope: Client, Key: "c1"}},
		{"family", Entry{Scope: Family, Key: "f1"}},
		{"tenant", Entry{Scope: Tenant}},
	}
	for _, c := range cases {
		d := NewDenyList()
		r := c.rev
		r.Tenant, r.Cutoff, r.Seq = "a", cut, 1
		d.Apply(r)
		if d.Reason(before) == "" {
			t.Errorf("%s: token issued before the cutoff not revoked", c.name)
		}
		if got := d.Reason(after); got != "" {
			t.Errorf("%s: token issued after the cutoff in the same second revoked: %s", c.name, got)
		}
		if d.Reason(other) != "" {
			t.Errorf("%s: revocation leaked to another tenant", c.name)
		}
	}
}

func TestDenyListTokenAndPrune(t *testing.T) {
	t.Parallel()
	d := NewDenyList()
	now := time.Now()
	until := now.Add(time.Minute)
	d.Apply(Entry{Seq: 1, Tenant: "a", Scope: Token, Key: "t1", Cutoff: now, Until: &until})
	d.Apply(Entry{Seq: 1, Tenant: "a", Scope: Token, Key: "t9", Cutoff: now}) // replay: ignored
	if d.Reason(Presented{Tenant: "a", ID: "t1"}) == "" || d.Reason(Presented{Tenant: "a", ID: "t2"}) != "" {
		t.Fatal("token revocation")
	}
	if d.Reason(Presented{Tenant: "a", ID: "t9"}) != "" || d.Last() != 1 {
		t.Fatal("a replayed seq was applied")
	}
	if n := d.Prune(now); n != 0 || d.Size() != 1 {
		t.Fatalf("pruned early: %d", n)
	}
	if n := d.Prune(until.Add(time.Second)); n != 1 || d.Size() != 0 {
		t.Fatalf("prune: %d, size %d", n, d.Size())
	}
}

func TestTokenEntryTakesEffectAtCutoff(t *testing.T) {
	t.Parallel()
	d := NewDenyList()
	tok := Presented{Tenant: "a", ID: "t1", IssuedAt: time.Now().Add(-time.Minute)}
	d.Apply(Entry{Tenant: "a", Scope: Token, Key: "t1", Cutoff: time.Now().Add(300 * time.Millisecond)})
	if why := d.Reason(tok); why != "" {
		t.Fatalf("revoked before its cutoff: %s", why)
	}
	time.Sleep(350 * time.Millisecond)
	if d.Reason(tok) == "" {
		t.Fatal("not revoked after its cutoff")
	}
}

// TestDenyListSubjectTypes: a subject entry revokes the subject of its
// type only (device kiosk-1 is not client kiosk-1); an entry without a
// type, from an older log, revokes every subject with the id, and a token
// without a type is revoked by an entry of any type.
func TestDenyListSubjectTypes(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tok := func(typ string) Presented {
		return Presented{Tenant: "a", ID: "t-" + typ, IssuedAt: base, SubjectType: typ, Subject: "kiosk-1"}
	}
	cases := []struct {
		name    string
		entry   string // the entry's subject type
		revoked map[string]bool
	}{
		{"typed", "device", map[string]bool{"device": true, "client": false, "": true}},
		{"untyped", "", map[string]bool{"device": true, "client": true, "": true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDenyList()
			until := base.Add(time.Hour)
			d.Apply(Entry{Seq: 1, Tenant: "a", Scope: Subject, SubjectType: c.entry, Key: "kiosk-1", Cutoff: base.Add(time.Microsecond), Until: &until})
			for typ, want := range c.revoked {
				if got := d.Reason(tok(typ)) != ""; got != want {
					t.Errorf("token of a %q subject: revoked %v, want %v", typ, got, want)
				}
			}
			if d.Reason(Presented{Tenant: "a", ID: "x", IssuedAt: base, SubjectType: "device", Subject: "kiosk-2"}) != "" {
				t.Error("another id revoked")
			}
			if n := d.Prune(until.Add(time.Second)); n != 1 || d.Size() != 0 || d.Reason(tok("device")) != "" {
				t.Errorf("prune: %d, size %d", n, d.Size())
			}
		})
	}
}

// TestTokenEntryEarliestWins: a token replaced by renewal (an entry ahead)
// and then revoked (an entry now) is revoked now, in whichever order the
// two entries are applied.
func TestTokenEntryEarliestWins(t *testing.T) {
	t.Parallel()
	now := time.Now()
	ahead := Entry{Seq: 1, Tenant: "a", Scope: Token, Key: "t1", Cutoff: now.Add(time.Hour)}
	at := Entry{Seq: 2, Tenant: "a", Scope: Token, Key: "t1", Cutoff: now}
	for name, order := range map[string][]Entry{"log order": {ahead, at}, "applied ahead of the log": {at, ahead}} {
		d := NewDenyList()
		for _, e := range order {
			e.Seq = 0
			d.Apply(e)
		}
		if d.Reason(Presented{Tenant: "a", ID: "t1"}) == "" {
			t.Errorf("%s: a token revoked within its renewal grace is still valid", name)
		}
	}
}

// TestTimeOfHexID: a compact token's jti (the 16 bytes of a time id in
// lowercase hex) carries the same time as the base32 id.
func TestTimeOfHexID(t *testing.T) {
	at := time.UnixMicro(1767225600123456).UTC()
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at.UnixMicro()))
	copy(b[8:], "\xab\xcd\xef\xab\xcd\xef\xab\xcd")
	h := hex.EncodeToString(b[:])
	if got, ok := TimeOfID(h); !ok || !got.Equal(at) {
		t.Fatalf("TimeOfID(%s) = %v %v, want %v", h, got, ok, at)
	}
	for _, bad := range []string{strings.ToUpper(h), h[:31] + "g", h[:30]} {
		if _, ok := TimeOfID(bad); ok {
			t.Errorf("TimeOfID(%q) accepted", bad)
		}
	}
}

// TestDenyListRewind applies a log that went back: entries under reused
// Seqs are taken, and those held before stay.
func TestDenyListRewind(t *testing.T) {
	t.Parallel()
	d := NewDenyList()
	now := time.Now()
	d.Apply(Entry{Seq: 1, Tenant: "a", Scope: Token, Key: "kept", Cutoff: now},
		Entry{Seq: 2, Tenant: "a", Scope: Token, Key: "lost", Cutoff: now})
	d.Rewind(5) // never raises
	if d.Last() != 2 {
		t.Fatalf("Rewind(5) made Last %d", d.Last())
	}
	d.Rewind(0)
	d.Apply(Entry{Seq: 1, Tenant: "a", Scope: Token, Key: "kept", Cutoff: now},
		Entry{Seq: 2, Tenant: "a", Scope: Token, Key: "new", Cutoff: now})
	for _, id := range []string{"kept", "lost", "new"} {
		if d.Reason(Presented{Tenant: "a", ID: id}) == "" {
			t.Errorf("%s not revoked after the rewind", id)
		}
	}
	if d.Last() != 2 {
		t.Fatalf("Last = %d, want 2", d.Last())
	}
}

// TestTokenKeys: ids of every shape are told apart — a tokend id, the same
// characters with a non-canonical last character or in upper case, the hex
// of its bytes, and legacy ids of any length — and each matches itself.
func TestTokenKeys(t *testing.T) {
	t.Parallel()
	var b [16]byte
	for i := range b {
		b[i] = byte(i*37 + 11)
	}
	id := idEncoding.EncodeToString(b[:])
	if got := keyOf(id); got != tokenKey(b) {
		t.Fatalf("keyOf(%s) = %x, want its bytes %x", id, got, b)
	}
	last := strings.IndexByte(IDAlphabet, id[25])
	ids := []string{id, id[:25] + string(IDAlphabet[last|1]), strings.ToUpper(id), hex.EncodeToString(b[:]),
		"", "t1", strings.Repeat("x", 26), strings.Repeat("legacy-", 40), id[:25] + "w"}
	now := time.Now()
	for i, revoked := range ids {
		d := NewDenyList()
		d.Apply(Entry{Tenant: "a", Scope: Token, Key: revoked, Cutoff: now})
		for j, presented := range ids {
			if got := d.Reason(Presented{Tenant: "a", ID: presented}) != ""; got != (i == j) {
				t.Errorf("revoked %q, presented %q: revoked %v", revoked, presented, got)
			}
		}
	}
}

// TestTokenPruneUntil: a token is pruned after the latest Until of its
// entries, a token entry without Until is kept, and a token revoked again
// after it was pruned is held again.
func TestTokenPruneUntil(t *testing.T) {
	t.Parallel()
	d := NewDenyList()
	now := time.Now()
	u1, u2, u3 := now.Add(time.Minute), now.Add(2*time.Minute), now.Add(3*time.Minute)
	d.Apply(Entry{Tenant: "a", Scope: Token, Key: "raised", Cutoff: now, Until: &u1},
		Entry{Tenant: "a", Scope: Token, Key: "raised", Cutoff: now, Until: &u3},
		Entry{Tenant: "a", Scope: Token, Key: "raised", Cutoff: now, Until: &u2},
		Entry{Tenant: "a", Scope: Token, Key: "kept", Cutoff: now},
		Entry{Tenant: "a", Scope: Token, Key: "once", Cutoff: now, Until: &u1},
		Entry{Tenant: "b", Scope: Token, Key: "once", Cutoff: now, Until: &u2})
	steps := []struct {
		at     time.Time
		pruned int
		size   int
		held   []string // in tenant a
	}{
		{u1, 0, 4, []string{"raised", "kept", "once"}},
		{u1.Add(time.Second), 1, 3, []string{"raised", "kept"}},
		{u2.Add(time.Second), 1, 2, []string{"raised", "kept"}}, // tenant b's
		{u3.Add(time.Second), 1, 1, []string{"kept"}},
	}
	for _, s := range steps {
		if n := d.Prune(s.at); n != s.pruned {
			t.Errorf("Prune(+%v) = %d, want %d", s.at.Sub(now), n, s.pruned)
		}
		if d.Size() != s.size {
			t.Errorf("after Prune(+%v): size %d, want %d", s.at.Sub(now), d.Size(), s.size)
		}
		for _, id := range s.held {
			if d.Reason(Presented{Tenant: "a", ID: id}) == "" {
				t.Errorf("after Prune(+%v): %s no longer revoked", s.at.Sub(now), id)
			}
		}
	}
	u4 := u3.Add(time.Hour)
	d.Apply(Entry{Tenant: "a", Scope: Token, Key: "once", Cutoff: now, Until: &u4})
	if d.Prune(u3.Add(time.Minute)) != 0 || d.Reason(Presented{Tenant: "a", ID: "once"}) == "" {
		t.Error("a token revoked again after its prune is not held")
	}
	if d.Prune(u4.Add(time.Second)) != 1 || d.Size() != 1 {
		t.Errorf("second prune: size %d", d.Size())
	}
}

// TestTokenCutoffOutOfRange: a token entry with the zero Cutoff takes
// effect at once, and one far in the future does not.
func TestTokenCutoffOutOfRange(t *testing.T) {
	t.Parallel()
	d := NewDenyList()
	d.Apply(Entry{Tenant: "a", Scope: Token, Key: "zero"},
		Entry{Tenant: "a", Scope: Token, Key: "far", Cutoff: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)})
	if d.Reason(Presented{Tenant: "a", ID: "zero"}) == "" {
		t.Error("a zero cutoff did not take effect")
	}
	if d.Reason(Presented{Tenant: "a", ID: "far"}) != "" {
		t.Error("a cutoff in the year 3000 took effect")
	}
}

// FuzzTokenKeys: a revoked id matches itself and not a different id.
func FuzzTokenKeys(f *testing.F) {
	f.Add("0123456789abcdefghijklmnop", "0123456789abcdefghijklmnoq")
	f.Add("t1", "t2")
	f.Fuzz(func(t *testing.T, a, b string) {
		d := NewDenyList()
		d.Apply(Entry{Tenant: "a", Scope: Token, Key: a})
		if d.Reason(Presented{Tenant: "a", ID: a}) == "" {
			t.Fatalf("%q not revoked", a)
		}
		if a != b && d.Reason(Presented{Tenant: "a", ID: b}) != "" {
			t.Fatalf("revoking %q revoked %q", a, b)
		}
	})
}
