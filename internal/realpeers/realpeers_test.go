package realpeers

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestStartMail(t *testing.T) {
	m := Postfix(t)
	t.Logf("%+v", m)
}

func TestStartNSD(t *testing.T) {
	d := NSD(t, map[string]string{"example.test": "$TTL 300\n@ SOA ns1 host 1 3600 600 86400 300\n@ NS ns1\nns1 A 127.0.0.1\n@ MX 10 mx1\nmx1 A 127.0.0.1\n"})
	t.Logf("%+v", d)
}
