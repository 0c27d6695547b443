// Package assets holds mailflow's embedded data files and small accessors
// for them. The data is parsed by the packages that use it (for example,
// diag/replycode reads the reply-code knowledge base), so this package
// stays free of their types.
package assets
