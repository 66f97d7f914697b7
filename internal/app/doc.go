// Package app composes tokend: it opens the store, loads the master key,
// builds the core services and the HTTP surfaces, and runs the server. It
// is the only package that imports everything.
package app
