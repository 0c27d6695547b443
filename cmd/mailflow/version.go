package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func init() { register(newVersionCmd) }

// readBuildInfo is debug.ReadBuildInfo; tests replace it.
var readBuildInfo = debug.ReadBuildInfo

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, the Go version and the versions of the modules built in",
		Long: `Print mailflow's version, the Go toolchain and platform it was built
with, the source revision when it is known, and every module linked into
the binary with its version. Paste this into a bug report.`,
		Example: `  mailflow version
  mailflow --version   # the version alone`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			writeVersion(cmd.OutOrStdout())
			return nil
		},
	}
}

func writeVersion(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintf(tw, "mailflow\t%s\n", version)
	bi, ok := readBuildInfo()
	if !ok {
		fmt.Fprintf(tw, "go\t%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
		fmt.Fprintf(tw, "modules\tunknown (built without module information)\n")
		return
	}
	fmt.Fprintf(tw, "go\t%s %s/%s\n", bi.GoVersion, runtime.GOOS, runtime.GOARCH)
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision", "vcs.time", "vcs.modified":
			fmt.Fprintf(tw, "%s\t%s\n", s.Key, s.Value)
		}
	}
	fmt.Fprintf(tw, "module\t%s\t%s\n", bi.Main.Path, bi.Main.Version)
	for _, d := range bi.Deps {
		v := d.Version
		if d.Replace != nil {
			v += " => " + d.Replace.Path
			if d.Replace.Version != "" {
				v += " " + d.Replace.Version
			}
		}
		fmt.Fprintf(tw, "dep\t%s\t%s\n", d.Path, v)
	}
}
