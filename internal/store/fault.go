package store

import (
	"context"
	"errors"

	"github.com/tokend/tokend/internal/fault"
)

// Fault maps a storage error to a fault for the core's callers, keeping
// faults as they are: ErrNotFound is not_found, ErrConflict a conflict,
// ErrUnavailable or an ended context unavailable, anything else internal.
func Fault(err error) error {
	switch {
	case err == nil:
		return nil
	case fault.As(err) != nil:
		return err
	case errors.Is(err, ErrNotFound):
		return fault.NotFound("not found").WithCause(err)
	case errors.Is(err, ErrConflict):
		return fault.Conflict("already exists").WithCause(err)
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fault.Unavailable(err)
	default:
		return fault.Internal(err)
	}
}
