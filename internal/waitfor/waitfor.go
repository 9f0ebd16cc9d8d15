// Package waitfor polls a condition until it holds.
package waitfor

import (
	"context"
	"fmt"
	"time"
)

// Until returns nil once cond holds, checking it every 5 ms of wall time;
// ctx's error when ctx ends first, an error after timeout (0: none).
func Until(ctx context.Context, timeout time.Duration, cond func() bool) error {
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("timed out after %s", timeout)
		case <-tick.C:
		}
	}
	return nil
}
