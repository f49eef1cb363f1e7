package track

import (
	"context"

	"github.com/nudge-passkeys/nudge/internal/ledger"
)

// sendBatch is how many send rows the reader hands over at a time.
const sendBatch = 256

// eachSend is ledger.EachSend with the reading on a goroutine of its
// own, a batch of rows at a time, so that SQLite's work overlaps the
// stream writer's on a second core: the two took about the same time
// one after the other. fn still sees every row in order, on the calling
// goroutine; when it fails, the reading stops and its error is returned.
func eachSend(ctx context.Context, l *ledger.Ledger, fn func(ledger.Send) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	full := make(chan []ledger.Send, 2)
	empty := make(chan []ledger.Send, 3)
	var readErr error
	go func() {
		defer close(full)
		batch := make([]ledger.Send, 0, sendBatch)
		hand := func() error {
			select {
			case full <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case batch = <-empty:
				batch = batch[:0]
			default:
				batch = make([]ledger.Send, 0, sendBatch)
			}
			return nil
		}
		readErr = l.EachSend(ctx, "", func(s ledger.Send) error {
			batch = append(batch, s)
			if len(batch) < sendBatch {
				return nil
			}
			return hand()
		})
		if readErr == nil && len(batch) > 0 {
			readErr = hand()
		}
	}()
	var err error
	for batch := range full {
		for i := 0; err == nil && i < len(batch); i++ {
			if err = fn(batch[i]); err != nil {
				cancel() // and drain, so that the reader can finish
			}
		}
		select {
		case empty <- batch:
		default:
		}
	}
	// full is closed: the reader has returned and set readErr.
	if err != nil {
		return err
	}
	return readErr
}
