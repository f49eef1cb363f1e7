// Command nudge runs passkey adoption campaigns for Microsoft Entra ID
// tenants: it reads who is eligible, renders per-audience emails from
// Markdown templates, and writes or sends them.
package main

import (
	"context"
	"os"
	"os/signal"
	_ "time/tzdata" // zones work on Windows machines without a zone database
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
