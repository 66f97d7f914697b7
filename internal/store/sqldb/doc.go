// Package sqldb implements the storage contract once, in SQL that both
// backends understand: numbered placeholders, times as microseconds since
// the epoch, lists and maps as JSON text. store/sqlite and store/postgres
// supply the connections, the migrations and a Dialect for what differs
// (error codes, row locks, change ordering, notifications).
package sqldb
