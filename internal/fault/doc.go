// Package fault defines the one error type the core returns.
//
// A *fault.Error carries a stable machine code, a description that is safe
// to show to a client, and an optional cause that is only ever logged.
// Only the HTTP edge maps codes to status codes and bodies.
package fault
