// Package content carries the demo campaign and the demo tenant, so that a
// nudge binary can show the whole idea with no files and no tenant.
package content

import "embed"

// FS holds campaign.yaml and demo-tenant/.
//
//go:embed campaign.yaml demo-tenant
var FS embed.FS
