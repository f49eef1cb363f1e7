package deliver

import (
	"context"
	"errors"
)

// Sender hands one message to a mail system (or, for the outbox, to disk).
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// A GatedSender can start a message's transaction before the journal has
// marked it sending, and hold the message back at the last step before
// the server could accept it. The engine then commits the mark while the
// server answers the envelope, instead of before the send begins.
type GatedSender interface {
	Sender
	// SendGated is Send, but it calls gate once, after every step that
	// cannot deliver the message and before any that could (for SMTP,
	// before the end of the data); a send that fails before that point
	// returns without calling it. When gate returns an error, the message
	// must not be delivered, and SendGated returns an error that wraps
	// ErrGate and gate's error.
	SendGated(ctx context.Context, m *Message, gate func() error) error
}

// ErrGate wraps the error of a gate that kept a message back.
var ErrGate = errors.New("held back before the server could accept it")
