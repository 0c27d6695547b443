package assets

import (
	"embed"
	"io/fs"
)

// checklistProcedureFS holds the failure-reason checklists and the wizard's
// step lists. They are TOML so that a person can review and extend them
// without touching Go code; diag/checklist and diag/wizard parse them and
// their tests validate every entry.
//
//go:embed checklists/*.toml procedure/*.toml
var checklistProcedureFS embed.FS

// ChecklistFiles returns the embedded failure-reason checklists, one TOML
// file per protocol (smtp.toml, pop3.toml, imap.toml), rooted at the
// checklists directory.
func ChecklistFiles() fs.FS { return mustSub("checklists") }

// ProcedureFiles returns the embedded wizard step lists, one TOML file per
// protocol (smtp.toml, pop3.toml, imap.toml), rooted at the procedure
// directory.
func ProcedureFiles() fs.FS { return mustSub("procedure") }

// mustSub cannot fail for a directory named in the go:embed pattern above;
// the panic only guards against someone renaming the directory without
// updating this file, which the diag tests would catch at once.
func mustSub(dir string) fs.FS {
	sub, err := fs.Sub(checklistProcedureFS, dir)
	if err != nil {
		panic("assets: " + dir + ": " + err.Error())
	}
	return sub
}
