package assets

import (
	"embed"
	"io/fs"
)

// replyCodes holds the reply-code knowledge base: one TOML file per table
// (SMTP codes, enhanced status codes, POP3, IMAP, commands, keyword and
// vendor patterns). Each file names its sources in its meta table.
//
//go:embed replycodes/*.toml
var replyCodes embed.FS

// ReplyCodes returns the reply-code knowledge base as a file system whose
// root holds the *.toml tables read by package diag/replycode.
func ReplyCodes() fs.FS {
	sub, err := fs.Sub(replyCodes, "replycodes")
	if err != nil {
		// fs.Sub only fails for an invalid path, and the path is a constant.
		panic("assets: reply codes: " + err.Error())
	}
	return sub
}
