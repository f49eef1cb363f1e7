package deliver_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nudge-passkeys/nudge/internal/deliver"
)

func TestFakeClock(t *testing.T) {
	c := deliver.NewFakeClock(t0)
	if err := c.Sleep(t.Context(), 90*time.Second); err != nil {
		t.Fatal(err)
	}
	c.Sleep(t.Context(), -time.Second)
	c.Advance(10 * time.Second)
	c.Set(t0) // earlier: ignored
	if got, want := c.Now(), t0.Add(100*time.Second); !got.Equal(want) {
		t.Errorf("Now = %v, want %v", got, want)
	}
	c.Set(t0.Add(24 * time.Hour))
	if got, want := c.Now(), t0.Add(24*time.Hour); !got.Equal(want) {
		t.Errorf("after Set: Now = %v, want %v", got, want)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep with a cancelled context: %v", err)
	}
	if got, want := c.Now(), t0.Add(24*time.Hour); !got.Equal(want) {
		t.Errorf("a cancelled Sleep moved the clock to %v", got)
	}
}

func TestFakeClockConcurrent(t *testing.T) {
	c := deliver.NewFakeClock(t0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				c.Sleep(context.Background(), time.Second)
				c.Now()
			}
		})
	}
	wg.Wait()
	if got, want := c.Now(), t0.Add(8000*time.Second); !got.Equal(want) {
		t.Errorf("Now = %v, want %v: concurrent sleeps add up", got, want)
	}
}

func TestSystemClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c deliver.Clock = deliver.SystemClock{}
		start := c.Now()
		if err := c.Sleep(t.Context(), time.Hour); err != nil {
			t.Fatal(err)
		}
		if got := c.Now().Sub(start); got != time.Hour {
			t.Errorf("slept %v, want 1h", got)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		if err := c.Sleep(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Sleep past the context's deadline: %v", err)
		}
		if got := c.Now().Sub(start); got != time.Hour+time.Minute {
			t.Errorf("woke after %v, want 1h1m", got)
		}
		if err := c.Sleep(t.Context(), 0); err != nil {
			t.Error(err)
		}
	})
}
