// Package templates carries the default templates, so that a nudge binary
// works without a checkout. Users edit the files in this folder; nudge reads
// them from disk when they are there.
package templates

import "embed"

// FS holds emails/, guides/, handouts/, layouts/ and partials/.
//
//go:embed emails guides handouts layouts partials
var FS embed.FS
