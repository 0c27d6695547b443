package wizard_test

import (
	"fmt"

	"github.com/mailflow/mailflow/diag/wizard"
)

// A caller's loop: ask for the next action, carry it out, feed the answer
// back. Here the server's replies are canned.
func ExampleMachine() {
	m, err := wizard.New(wizard.SMTP, wizard.Params{
		From: "chris@contoso.com", To: "kate@fabrikam.com", Helo: "contoso.com",
		Subject: "Test", Body: "Hello", Host: "mail1.fabrikam.com",
	})
	if err != nil {
		panic(err)
	}
	replies := map[string][]string{
		"connect": {"220 mail1.fabrikam.com ESMTP"},
		"ehlo":    {"250-mail1.fabrikam.com Hello", "250 SIZE 1000000"},
		"mail":    {"250 2.1.0 Sender OK"},
		"rcpt":    {"250 2.1.5 Recipient OK"},
		"data":    {"354 Start mail input"},
		"dot":     {"250 2.6.0 Queued mail for delivery"},
		"quit":    {"221 2.0.0 Bye"},
	}
	for !m.Done() {
		a := m.Next()
		for _, l := range a.Lines {
			fmt.Printf("C: [%s]\n", l)
		}
		if !a.ExpectReply {
			m.Sent()
			continue
		}
		v, _ := m.Observe(wizard.Reply{Lines: replies[a.StepID]})
		fmt.Println("S:", a.StepID, v.Kind)
	}
	n, total := m.Progress()
	fmt.Println(m.Next().Summary[len(m.Next().Summary)-1], n, "of", total)
	// Output:
	// S: connect ok
	// C: [EHLO contoso.com]
	// S: ehlo ok
	// C: [MAIL FROM:<chris@contoso.com>]
	// S: mail ok
	// C: [RCPT TO:<kate@fabrikam.com>]
	// S: rcpt ok
	// C: [DATA]
	// S: data ok
	// C: [Subject: Test]
	// C: []
	// C: [Hello]
	// C: [.]
	// S: dot ok
	// C: [QUIT]
	// S: quit ok
	// The message was accepted for delivery (250 after the final dot). 11 of 11
}
