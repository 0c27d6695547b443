package main

import (
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryCommandHasExamples keeps the promise that each command's help
// shows how to use it.
func TestEveryCommandHasExamples(t *testing.T) {
	root := newRootCmd()
	if root.Example == "" && setupRoot != nil {
		t.Error("the root command has no examples")
	}
	var walk func(prefix string, cmds []*cobra.Command)
	walk = func(prefix string, cmds []*cobra.Command) {
		for _, c := range cmds {
			if c.Hidden || c.Name() == "help" {
				continue
			}
			if c.Example == "" {
				t.Errorf("mailflow %s%s has no Example", prefix, c.Name())
			}
			walk(prefix+c.Name()+" ", c.Commands())
		}
	}
	walk("", root.Commands())
}
