// Package principal holds the rules for the identities of a tenant:
// identifier and login syntax, password hashing with argon2id (bounded by a
// semaphore so a login flood cannot starve the server), and the hashing and
// checking of secrets tokend generated.
package principal
