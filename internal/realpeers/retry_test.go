package realpeers

import (
	"errors"
	"fmt"
	"testing"
)

func TestWithRetries(t *testing.T) {
	tests := []struct {
		name      string
		fails     int  // attempts that fail before one succeeds
		retry     bool // what a failed attempt says
		wantCalls int
		wantErrs  int // errors joined in the result; 0 means success
	}{
		{"first attempt", 0, true, 1, 0},
		{"port taken once", 1, true, 2, 0},
		{"port taken twice", 2, true, 3, 0},
		{"always taken", 5, true, 3, 3},
		{"hopeless", 5, false, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			v, err := withRetries(func() (int, bool, error) {
				calls++
				if calls <= tt.fails {
					return 0, tt.retry, fmt.Errorf("attempt %d: %w", calls, errPortTaken)
				}
				return 42, false, nil
			})
			if calls != tt.wantCalls {
				t.Errorf("%d attempts, want %d", calls, tt.wantCalls)
			}
			if tt.wantErrs == 0 {
				if err != nil || v != 42 {
					t.Fatalf("withRetries = %d, %v; want 42, nil", v, err)
				}
				return
			}
			var joined interface{ Unwrap() []error }
			if v != 0 || !errors.Is(err, errPortTaken) || !errors.As(err, &joined) || len(joined.Unwrap()) != tt.wantErrs {
				t.Fatalf("withRetries = %d, %v; want %d joined errors", v, err, tt.wantErrs)
			}
		})
	}
}

var errPortTaken = errors.New("address already in use")
