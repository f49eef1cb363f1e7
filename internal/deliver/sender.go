package deliver

import "context"

// Sender hands one message to a mail system (or, for the outbox, to disk).
type Sender interface {
	Send(ctx context.Context, m *Message) error
}
