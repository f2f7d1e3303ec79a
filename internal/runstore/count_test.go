package runstore

import "testing"

// TestRunOrderCount counts a run's orders in every state.
func TestRunOrderCount(t *testing.T) {
	t.Parallel()
	r := Run{Orders: map[OrderState]int{Planned: 2, Submitted: 3, Rejected: 1}}
	if n := r.OrderCount(); n != 6 {
		t.Errorf("OrderCount = %d; want 6", n)
	}
	if n := (&Run{}).OrderCount(); n != 0 {
		t.Errorf("OrderCount of a run without orders = %d", n)
	}
}
