package checklist_test

import (
	"fmt"
	"time"

	"github.com/mailflow/mailflow/diag/checklist"
)

func ExampleEvaluate() {
	ev := checklist.Evidence{Port: 25, Connect: checklist.ConnectRefused, ConnectTime: 2 * time.Millisecond}
	for _, it := range checklist.Evaluate(checklist.StepConnect, ev) {
		if it.Status == checklist.Likely {
			fmt.Println(it.ID)
		}
	}
	// Output:
	// connect-service-down
	// connect-not-listening
	// connect-wrong-port
}
