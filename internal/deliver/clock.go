package deliver

// Time is injected: the pacing and retry rules are all about waiting, and a
// test of a day's sending must not take a day. Engine and Pacer read time
// only through a Clock, and only the engine's own goroutine ever sleeps on
// it, which is what lets FakeClock jump instead of wait.

import (
	"context"
	"sync"
	"time"
)

// Clock tells the time and waits.
type Clock interface {
	Now() time.Time
	// Sleep waits for d, or until ctx is done, when it returns ctx's
	// error. A d of zero or less returns at once.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits for d or for ctx to be done.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// FakeClock is a Clock for tests: Sleep moves the time forward by d at once
// instead of waiting, so a simulated day of sending takes milliseconds.
//
// It is safe for concurrent use, but it cannot know what other goroutines
// are still doing when one sleeps: concurrent sleeps add up, and time jumps
// ahead of work still running. So it is exact for code where one goroutine
// waits while nothing else runs: Engine with one mailbox. Engine with
// several mailboxes sending at once, or any code where goroutines wait on
// their own, wants testing/synctest with SystemClock instead, whose clock
// moves only when every goroutine is waiting.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock returns a FakeClock showing t.
func NewFakeClock(t time.Time) *FakeClock {
	return &FakeClock{now: t}
}

// Now returns the simulated time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep moves the simulated time forward by d and returns at once, or
// returns ctx's error, without moving, when ctx is already done.
func (c *FakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

// Advance moves the simulated time forward by d (never backwards), as a
// fake that takes time to do its work would.
func (c *FakeClock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set moves the simulated time to t, if t is later than now: a test that
// reruns something "tomorrow" sets the day.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.mu.Unlock()
}
