package mx_test

import (
	"context"
	"fmt"

	"github.com/mailflow/mailflow/diag/mx"
	"github.com/mailflow/mailflow/diag/mx/mxtest"
)

// ExampleLookup draws the picture of a domain served by a local test
// server and prints where its mail would go.
func ExampleLookup() {
	s, err := mxtest.New(`
example.test. 300 IN MX 10 mx1.example.test.
example.test. 300 IN MX 20 mx2.example.test.
mx1.example.test. 300 IN A 192.0.2.1
mx2.example.test. 300 IN A 192.0.2.2
example.test. 300 IN TXT "v=spf1 mx -all"
`)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	p, err := mx.Lookup(context.Background(), "example.test", mx.Options{Resolver: mx.NewClient(s.Addr)})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	for _, tg := range p.Targets() {
		fmt.Println(tg.Preference, tg.Host, tg.Addresses)
	}
	fmt.Println("SPF:", p.Records.SPF.Verdict)
	fmt.Println(p.Verdict)
	// Output:
	// 10 mx1.example.test [192.0.2.1]
	// 20 mx2.example.test [192.0.2.2]
	// SPF: ok: 1 of 10 DNS lookups
	// mail can be delivered: 2 of 2 host(s) resolve
}
