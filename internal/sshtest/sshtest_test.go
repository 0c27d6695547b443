package sshtest

import (
	"fmt"
	"sync"
	"testing"
)

func TestKeyIsFreshAndSigns(t *testing.T) {
	a, b := Key(t), Key(t)
	if string(a.PublicKey().Marshal()) == string(b.PublicKey().Marshal()) {
		t.Fatal("two calls returned the same key")
	}
	if got := a.PublicKey().Type(); got != "ssh-ed25519" {
		t.Errorf("key type %q, want ssh-ed25519", got)
	}
	sig, err := a.Sign(nil, []byte("data"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.PublicKey().Verify([]byte("data"), sig); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
}

func TestBufferConcurrent(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				fmt.Fprint(&b, i)
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if got := len(b.String()); got != 800 {
		t.Errorf("buffer holds %d bytes, want 800", got)
	}
}
