package deliver

import (
	"errors"
	"fmt"
	"time"
)

// SendError classifies why a message was not accepted. Senders return one
// so that the delivery engine, not each adapter, decides what happens next:
// a temporary failure (SMTP 4xx, a dropped connection, Graph 429/503) is a
// pause and a retry, never a failed person; a permanent one (SMTP 5xx,
// Graph 400/403) fails that person and the wave goes on.
type SendError struct {
	Temporary bool
	// RetryAfter is how long the server asked to wait (Graph's
	// Retry-After), or 0 when it did not say.
	RetryAfter time.Duration
	// Code is the server's status: the SMTP reply code (421, 550, …) or
	// the HTTP status; 0 when there was no reply (connection failed).
	Code int
	// Enhanced is the SMTP enhanced status code ("5.7.30") when given.
	Enhanced string
	// Connection is true when the failure concerns the connection or the
	// session as a whole (dropped, TLS, authentication), not this message.
	Connection bool
	Err        error
}

func (e *SendError) Error() string {
	kind := "permanent"
	if e.Temporary {
		kind = "temporary"
	}
	switch {
	case e.Code != 0 && e.Enhanced != "":
		return fmt.Sprintf("%s failure: %d %s: %v", kind, e.Code, e.Enhanced, e.Err)
	case e.Code != 0:
		return fmt.Sprintf("%s failure: %d: %v", kind, e.Code, e.Err)
	}
	return fmt.Sprintf("%s failure: %v", kind, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// ErrMaybeSent is wrapped by a failure after the whole message went to the
// server but before its reply arrived (the connection dropped): the server
// may have accepted it. Sending it again could deliver it twice, so the
// engine records such a message as unknown and leaves it for a person to
// decide (send --retry-unknown).
var ErrMaybeSent = errors.New("the connection ended before the server's reply, so the message may or may not have been accepted")

// Temporary wraps err as a temporary failure.
func Temporary(err error, retryAfter time.Duration) error {
	return &SendError{Temporary: true, RetryAfter: retryAfter, Err: err}
}

// Permanent wraps err as a permanent failure for this message.
func Permanent(err error) error {
	return &SendError{Err: err}
}

// IsTemporary reports whether err is worth retrying, and after how long the
// server asked to wait. Errors that are not a *SendError count as
// temporary: an unknown failure must never fail a person for good.
func IsTemporary(err error) (bool, time.Duration) {
	var se *SendError
	if errors.As(err, &se) {
		return se.Temporary, se.RetryAfter
	}
	return true, 0
}
