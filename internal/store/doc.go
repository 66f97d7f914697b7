// Package store is tokend's storage contract: the records, the sub-store
// interfaces and the errors every backend returns.
//
// Two backends implement it, store/sqlite (embedded default) and
// store/postgres, and one conformance suite, store/storetest, holds both to
// the same behaviour.
//
// Contract rules every method follows:
//   - The tenant id is an explicit argument of every method that reads or
//     writes tenant data; a record of one tenant is never visible through
//     another tenant's id.
//   - Missing records return an error wrapping ErrNotFound; unique
//     violations (duplicate id, login, audience) wrap ErrConflict; a database
//     that cannot be reached wraps ErrUnavailable.
//   - Times are stored with at least microsecond precision and returned in
//     UTC; a nil *time.Time means "never".
//   - Every mutation of tenants, clients, users, devices, roles, groups,
//     projects and keys appends one row to the change log in the same
//     transaction, so replicas can invalidate their caches in order.
//   - Slices are never nil in returned records (empty instead).
package store
