package track

// Escaping: directory values (UPN, mail, name, department, locale, group,
// profile and policy names, server replies) go into the workbook as
// string cells, never formulas, and that is what makes them safe — better
// than untrusted.Cell's apostrophe, which this package does not need. In xlsx every cell says what it is: a value of type
// "inlineStr" (or "s") is text, and Excel evaluates only what is inside an
// <f> element, so `=HYPERLINK(...)` or `+cmd|...` is shown exactly as
// written and nothing runs. CSV has no types: Excel parses every field as
// if typed in, so there a leading = + - @ tab or CR starts a formula and
// the apostrophe is the only defence — and it would show up here as a
// stray character in the data. The one way left to turn such text into a
// formula is a person editing the cell and pressing Enter; the text
// columns carry the "@" (Text) number format, under which Excel keeps
// even an edited cell as text.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/nudge-passkeys/nudge/internal/ledger"
)

// Sheet names (Excel: at most 31 characters, none of []:*?/\).
const (
	sheetSummary    = "Summary"
	sheetRecipients = "Recipients"
	sheetAdoption   = "Adoption"
	sheetErrors     = "Errors"
	sheetReadiness  = "Readiness"
	sheetRuns       = "Runs"
)

// Table names (Excel: a letter first, no spaces, not a cell reference).
const (
	tableRecipients = "RecipientList"
	tableErrors     = "ErrorList"
	tableRuns       = "RunList"
)

// Number formats.
const (
	fmtDateTime = "yyyy-mm-dd hh:mm"
	fmtDate     = "yyyy-mm-dd"
	fmtDays     = "0.0"
	numFmtText  = 49 // "@"
	numFmtPct   = 10 // "0.00%"
)

var recipientHeader = []any{"Wave", "Audience", "UPN", "Mail", "Name", "Department", "Locale", "Status", "Attempts",
	"Sent at", "Message-ID", "Last error", "Registered passkey at", "Kind", "Registered since message", "Days after message"}

var errorHeader = []any{"Wave", "UPN", "Status", "Attempts", "Last attempt at", "Last error", "Code"}

var summaryHeader = []any{"Wave", "Audience", "Targeted", "Sent", "Failed", "Unknown", "Pending",
	"In progress", "Skipped", "Registered since message", "Conversion", "Chart label"}

var runHeader = []any{"Run", "Command", "Via", "Waves", "Dry run", "Started at", "Finished at",
	"Planned", "Sent", "Retried", "Failed", "Unknown", "Skipped"}

// adopted is what the workbook needs of one adoption event.
type adopted struct {
	seen, read time.Time
	kind       string
	department string
	audience   string // of the person's latest send row; "" when never planned
}

// credits reports whether a message sent at sent gets the credit for this
// registration: only when the directory data that first showed the
// passkey was read after the message went out. A read before it (a stale
// snapshot processed later) proves the passkey predates the message,
// whatever first_seen_at says. The data cannot say when within the gap
// between two reads a passkey was registered; nudge re-reads the
// directory and skips registered people before each wave, which keeps
// that gap short.
func (a adopted) credits(sent time.Time) bool {
	return !sent.IsZero() && a.seen.After(sent) && a.read.After(sent)
}

// group is one Summary row: a wave and an audience.
type group struct {
	wave, audience string
	targeted       int
	byStatus       map[ledger.Status]int
	registered     int
}

type styles struct {
	header, title, dateTime, date, text, wrap, pct, days, note int
}

// builder holds the workbook while it is being filled.
type builder struct {
	o   Options
	loc *time.Location
	f   *excelize.File
	st  styles
	// adopters are the adoption events in the order they were first
	// seen; adopter finds a person's.
	adopters []adopted
	adopter  map[string]int
	groups   []*group
	byKey    map[[2]string]*group
}

func newBuilder(o Options) *builder {
	return &builder{o: o, loc: o.Now.Location(), f: excelize.NewFile(),
		adopter: map[string]int{}, byKey: map[[2]string]*group{}}
}

// close releases excelize's temporary files.
func (b *builder) close() { b.f.Close() }

// build fills every sheet. The send rows are read once, in one query
// (so one consistent read of the ledger), streaming Recipients and Errors
// and counting Summary as they go.
func (b *builder) build(ctx context.Context, l *ledger.Ledger) error {
	if err := b.makeStyles(); err != nil {
		return err
	}
	if err := b.f.SetSheetName("Sheet1", sheetSummary); err != nil {
		return err
	}
	sheets := []string{sheetRecipients, sheetAdoption, sheetErrors, sheetRuns}
	if b.o.Readiness != nil {
		sheets = []string{sheetRecipients, sheetAdoption, sheetErrors, sheetReadiness, sheetRuns}
	}
	inv, err := b.readInvitations(ctx, l)
	if err != nil {
		return err
	}
	if inv != nil {
		sheets = slices.Insert(sheets, len(sheets)-1, sheetInvitations)
	}
	for _, s := range sheets {
		if _, err := b.f.NewSheet(s); err != nil {
			return err
		}
	}
	if err := b.readAdoptions(ctx, l); err != nil {
		return err
	}
	if err := b.sends(ctx, l); err != nil {
		return err
	}
	if err := b.summary(); err != nil {
		return fmt.Errorf("summary sheet: %w", err)
	}
	if err := b.adoption(); err != nil {
		return fmt.Errorf("adoption sheet: %w", err)
	}
	if err := b.readiness(); err != nil {
		return fmt.Errorf("readiness sheet: %w", err)
	}
	if err := b.invitationsSheet(inv); err != nil {
		return fmt.Errorf("invitations sheet: %w", err)
	}
	if err := b.runs(ctx, l); err != nil {
		return err
	}
	if err := b.breakdown(); err != nil {
		return fmt.Errorf("breakdown sheet: %w", err)
	}
	// Summary, the first sheet, is the active one, as in NewFile. (Not
	// SetActiveSheet: it would read the streamed sheets back into memory.)
	return nil
}

func (b *builder) makeStyles() error {
	dt, d, days := fmtDateTime, fmtDate, fmtDays
	for _, s := range []struct {
		dst   *int
		style excelize.Style
	}{
		{&b.st.header, excelize.Style{Font: &excelize.Font{Bold: true}}},
		{&b.st.title, excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}}},
		{&b.st.dateTime, excelize.Style{CustomNumFmt: &dt}},
		{&b.st.date, excelize.Style{CustomNumFmt: &d}},
		{&b.st.text, excelize.Style{NumFmt: numFmtText}},
		{&b.st.wrap, excelize.Style{NumFmt: numFmtText, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
		{&b.st.pct, excelize.Style{NumFmt: numFmtPct}},
		{&b.st.days, excelize.Style{CustomNumFmt: &days}},
		{&b.st.note, excelize.Style{Font: &excelize.Font{Italic: true, Color: "666666"}}},
	} {
		id, err := b.f.NewStyle(&s.style)
		if err != nil {
			return err
		}
		*s.dst = id
	}
	return nil
}

// readAdoptions keeps each person's first sighting, in the order
// EachAdoption gives them (by first_seen_at), for the Adoption sheet.
func (b *builder) readAdoptions(ctx context.Context, l *ledger.Ledger) error {
	return l.EachAdoption(ctx, func(a ledger.Adoption) error {
		b.adopter[a.PersonID] = len(b.adopters)
		b.adopters = append(b.adopters, adopted{seen: a.SeenAt, read: a.DataReadAt, kind: a.Kind, department: a.Department})
		return nil
	})
}

// stream is a stream-written sheet with a header row, a frozen header,
// column widths and styles, and a table over its rows.
type stream struct {
	sw  *excelize.StreamWriter
	row int
}

// column is the width and the style (0 for none) of one column.
type column struct {
	width float64
	style int
}

func (b *builder) newStream(sheet string, header []any, cols []column) (*stream, error) {
	sw, err := b.f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	// Widths, styles and panes must come before the first row. excelize
	// puts the column set last first, and Excel wants them in order, so
	// set them from the last.
	for i := len(cols) - 1; i >= 0; i-- {
		if err := sw.SetColWidth(i+1, i+1, cols[i].width); err != nil {
			return nil, err
		}
		if cols[i].style == 0 {
			continue
		}
		if err := sw.SetColStyle(i+1, i+1, cols[i].style); err != nil {
			return nil, err
		}
	}
	if err := sw.SetPanes(frozenHeader()); err != nil {
		return nil, err
	}
	if err := sw.SetRow("A1", header, excelize.RowOpts{StyleID: b.st.header}); err != nil {
		return nil, err
	}
	return &stream{sw: sw, row: 1}, nil
}

func (s *stream) add(values []any) error {
	s.row++
	cell, err := excelize.CoordinatesToCellName(1, s.row)
	if err != nil {
		return err
	}
	return s.sw.SetRow(cell, values)
}

func (s *stream) finish(table string, cols int) error {
	ref, err := rangeRef(cols, s.row)
	if err != nil {
		return err
	}
	if err := s.sw.AddTable(&excelize.Table{Range: ref, Name: table, StyleName: "TableStyleMedium2"}); err != nil {
		return err
	}
	return s.sw.Flush()
}

func frozenHeader() *excelize.Panes {
	return &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}
}

// rangeRef is "A1:<last column><rows>".
func rangeRef(cols, rows int) (string, error) {
	end, err := excelize.CoordinatesToCellName(cols, rows)
	if err != nil {
		return "", err
	}
	return "A1:" + end, nil
}

// sends streams Recipients and Errors from one pass over the ledger and
// counts the Summary groups. It checks ctx at every row, so cancelling
// stops it midway and Write leaves the old workbook alone.
func (b *builder) sends(ctx context.Context, l *ledger.Ledger) error {
	text, dt := b.st.text, b.st.dateTime
	// Wave, Audience, UPN, Mail, Name, Department, Locale, Status,
	// Attempts, Sent at, Message-ID, Last error, Registered passkey at,
	// Kind, Registered since, Days after.
	rec, err := b.newStream(sheetRecipients, recipientHeader, []column{{10, 0}, {12, 0}, {34, text}, {34, text},
		{24, text}, {20, text}, {8, text}, {10, 0}, {9, 0}, {17, dt}, {44, text}, {50, text}, {20, dt}, {20, text},
		{12, 0}, {11, b.st.days}})
	if err != nil {
		return fmt.Errorf("recipients sheet: %w", err)
	}
	// Wave, UPN, Status, Attempts, Last attempt at, Last error, Code.
	errs, err := b.newStream(sheetErrors, errorHeader, []column{{10, 0}, {34, text}, {10, 0}, {9, 0},
		{17, dt}, {70, text}, {7, 0}})
	if err != nil {
		return fmt.Errorf("errors sheet: %w", err)
	}
	recRow := make([]any, len(recipientHeader))
	errRow := make([]any, len(errorHeader))
	var sheetErr error // an excelize failure, told apart from the ledger's
	err = eachSend(ctx, l, func(s ledger.Send) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		g := b.group(s.Wave, s.Audience)
		g.targeted++
		g.byStatus[s.Status]++
		var a *adopted
		if i, ok := b.adopter[s.PersonID]; ok {
			a = &b.adopters[i]
			a.audience = s.Audience // rows come in planning order: the latest wins
		}
		credited := a != nil && s.Status == ledger.StatusSent && a.credits(s.SentAt)
		if credited {
			g.registered++
		}

		recRow[0], recRow[1], recRow[2], recRow[3] = str(s.Wave), str(s.Audience), str(s.UPN), str(s.Mail)
		recRow[4], recRow[5], recRow[6] = str(s.Name), str(s.Department), str(s.Locale)
		recRow[7], recRow[8], recRow[9], recRow[10], recRow[11] = string(s.Status), s.Attempts, b.when(s.SentAt), str(s.MessageID), str(s.LastError)
		recRow[12], recRow[13], recRow[14], recRow[15] = nil, nil, nil, nil
		if a != nil {
			recRow[12], recRow[13] = b.when(a.seen), str(a.kind)
		}
		if credited {
			recRow[14], recRow[15] = "yes", a.seen.Sub(s.SentAt).Hours()/24
		}
		if sheetErr = rec.add(recRow); sheetErr != nil {
			return sheetErr
		}
		if isFailure(s) {
			errRow[0], errRow[1], errRow[2], errRow[3] = str(s.Wave), str(s.UPN), string(s.Status), s.Attempts
			errRow[4], errRow[5], errRow[6] = b.when(s.LastAttemptAt), str(s.LastError), nil
			if s.LastCode != 0 {
				errRow[6] = s.LastCode
			}
			if sheetErr = errs.add(errRow); sheetErr != nil {
				return sheetErr
			}
		}
		if b.o.afterRow != nil {
			b.o.afterRow(rec.row - 1)
		}
		return nil
	})
	if sheetErr != nil {
		return fmt.Errorf("recipients and errors sheets: %w", sheetErr)
	}
	if err != nil {
		return err
	}
	if err := rec.finish(tableRecipients, len(recipientHeader)); err != nil {
		return fmt.Errorf("recipients sheet: %w", err)
	}
	if err := errs.finish(tableErrors, len(errorHeader)); err != nil {
		return fmt.Errorf("errors sheet: %w", err)
	}
	return nil
}

// isFailure is the Errors sheet's choice of rows, the same as
// ledger.Failures. It is applied here, in the one pass over the rows,
// rather than by calling Failures: a second query could see a run's
// later progress and disagree with the Recipients sheet.
func isFailure(s ledger.Send) bool {
	switch s.Status {
	case ledger.StatusFailed, ledger.StatusUnknown:
		return true
	case ledger.StatusPending:
		return s.LastError != "" || s.LastCode != 0
	}
	return false
}

func (b *builder) group(wave, audience string) *group {
	k := [2]string{wave, audience}
	g := b.byKey[k]
	if g == nil {
		g = &group{wave: wave, audience: audience, byStatus: map[ledger.Status]int{}}
		b.byKey[k] = g
		b.groups = append(b.groups, g) // in the order waves were planned
	}
	return g
}

// str leaves empty strings out of the sheet (no cell rather than an
// empty one); any other string becomes a string cell.
func str(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// when is a time as the workbook shows it: in o.Now's location (Excel
// dates are wall-clock times), or no cell when zero.
func (b *builder) when(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.In(b.loc)
}

// summary writes the Summary sheet: a title block, one row per wave and
// audience, and a chart of sent against registered since. It is small,
// so it uses ordinary cells, which AddChart needs anyway.
func (b *builder) summary() error {
	f, sh := b.f, sheetSummary
	set := func(cell string, v any, style int) error {
		if err := f.SetCellValue(sh, cell, v); err != nil {
			return err
		}
		if style == 0 {
			return nil
		}
		return f.SetCellStyle(sh, cell, cell, style)
	}
	title := b.o.CampaignName
	if title == "" {
		title = b.o.Campaign
	}
	for _, c := range []struct {
		cell  string
		v     any
		style int
	}{
		{"A1", "Passkey campaign: " + title, b.st.title},
		{"A2", "Campaign", b.st.header}, {"B2", str(b.o.Campaign), 0},
		{"A3", "Data read at", b.st.header}, {"B3", b.when(b.o.DataReadAt), b.st.dateTime},
		{"A4", "Written at", b.st.header}, {"B4", b.o.Now.In(b.loc), b.st.dateTime},
	} {
		if c.v == nil {
			continue
		}
		if err := set(c.cell, c.v, c.style); err != nil {
			return err
		}
	}
	const headerRow = 6
	if err := f.SetSheetRow(sh, cellName(1, headerRow), &summaryHeader); err != nil {
		return err
	}
	if err := f.SetCellStyle(sh, cellName(1, headerRow), cellName(len(summaryHeader), headerRow), b.st.header); err != nil {
		return err
	}
	for i, g := range b.groups {
		row := headerRow + 1 + i
		sent := g.byStatus[ledger.StatusSent]
		var conv any
		if sent > 0 {
			conv = float64(g.registered) / float64(sent)
		}
		values := []any{g.wave, g.audience, g.targeted, sent,
			g.byStatus[ledger.StatusFailed], g.byStatus[ledger.StatusUnknown], g.byStatus[ledger.StatusPending],
			g.byStatus[ledger.StatusSending], g.byStatus[ledger.StatusSkipped], g.registered, conv,
			g.wave + " / " + g.audience}
		if err := f.SetSheetRow(sh, cellName(1, row), &values); err != nil {
			return err
		}
		if err := f.SetCellStyle(sh, cellName(11, row), cellName(11, row), b.st.pct); err != nil {
			return err
		}
	}
	last := headerRow + len(b.groups)
	noteRow := last + 2
	if err := set(cellName(1, noteRow), "Registered since message: sent, then registered a passkey: the directory "+
		"data that first showed it was read after the message was sent, and dates the registration after it too. "+
		"Conversion = registered since / sent. A person in several waves counts in each wave whose message came "+
		"before their registration, never in one sent after it.", b.st.note); err != nil {
		return err
	}
	for _, c := range []struct {
		from, to string
		width    float64
	}{{"A", "A", 22}, {"B", "B", 14}, {"C", "I", 11}, {"J", "J", 14}, {"K", "K", 11}, {"L", "L", 24}} {
		if err := f.SetColWidth(sh, c.from, c.to, c.width); err != nil {
			return err
		}
	}
	if len(b.groups) == 0 {
		return nil
	}
	rng := func(col string) string {
		return fmt.Sprintf("%s!$%s$%d:$%s$%d", sh, col, headerRow+1, col, last)
	}
	return f.AddChart(sh, cellName(1, noteRow+2), &excelize.Chart{
		Type: excelize.Bar,
		Series: []excelize.ChartSeries{
			{Name: fmt.Sprintf("%s!$D$%d", sh, headerRow), Categories: rng("L"), Values: rng("D")},
			{Name: fmt.Sprintf("%s!$J$%d", sh, headerRow), Categories: rng("L"), Values: rng("J")},
		},
		Title:     chartTitle("Sent and registered since, per wave and audience"),
		Legend:    excelize.ChartLegend{Position: "bottom"},
		Dimension: excelize.ChartDimension{Width: 720, Height: uint(max(300, 60+40*len(b.groups)))},
		YAxis:     excelize.ChartAxis{MajorGridLines: true},
	})
}

// runs writes the Runs sheet: every run of a sending command.
func (b *builder) runs(ctx context.Context, l *ledger.Ledger) error {
	runs, err := l.Runs(ctx)
	if err != nil {
		return err
	}
	f, sh := b.f, sheetRuns
	fail := func(err error) error { return fmt.Errorf("runs sheet: %w", err) }
	if err := f.SetSheetRow(sh, "A1", &runHeader); err != nil {
		return fail(err)
	}
	if err := f.SetCellStyle(sh, "A1", cellName(len(runHeader), 1), b.st.header); err != nil {
		return fail(err)
	}
	if err := f.SetPanes(sh, frozenHeader()); err != nil {
		return fail(err)
	}
	if err := f.SetColWidth(sh, "D", "D", 24); err != nil {
		return fail(err)
	}
	if err := f.SetColWidth(sh, "F", "G", 17); err != nil {
		return fail(err)
	}
	for i, r := range runs {
		dry := any(nil)
		if r.DryRun {
			dry = "yes"
		}
		c := r.Counts
		values := []any{r.ID, r.Command, string(r.Via), str(strings.Join(r.Waves, ", ")), dry,
			b.when(r.StartedAt), b.when(r.FinishedAt), c.Planned, c.Sent, c.Retried, c.Failed, c.Unknown, c.Skipped}
		if err := f.SetSheetRow(sh, cellName(1, i+2), &values); err != nil {
			return fail(err)
		}
	}
	if len(runs) == 0 {
		return nil
	}
	if err := f.SetCellStyle(sh, "F2", cellName(7, len(runs)+1), b.st.dateTime); err != nil {
		return fail(err)
	}
	ref, err := rangeRef(len(runHeader), len(runs)+1)
	if err != nil {
		return fail(err)
	}
	if err := f.AddTable(sh, &excelize.Table{Range: ref, Name: tableRuns, StyleName: "TableStyleLight9"}); err != nil {
		return fail(err)
	}
	return nil
}

func chartTitle(s string) excelize.ChartTitle {
	return excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: s}}}
}

// cellName is CoordinatesToCellName for coordinates known to be valid.
func cellName(col, row int) string {
	name, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		panic(err) // a bug: the rows and columns here are small and positive
	}
	return name
}

// breakdown writes adoption per group, largest group first.
func (b *builder) breakdown() error {
	bd := b.o.Breakdown
	if bd == nil {
		return nil
	}
	sh := "By " + bd.By
	if len(sh) > 31 {
		sh = sh[:31]
	}
	f := b.f
	if _, err := f.NewSheet(sh); err != nil {
		return err
	}
	header := []any{strings.ToUpper(bd.By[:1]) + bd.By[1:], "People", "With a passkey", "Adoption"}
	if err := f.SetSheetRow(sh, "A1", &header); err != nil {
		return err
	}
	if err := f.SetCellStyle(sh, "A1", "D1", b.st.header); err != nil {
		return err
	}
	if err := f.SetPanes(sh, frozenHeader()); err != nil {
		return err
	}
	if err := f.SetColWidth(sh, "A", "A", 32); err != nil {
		return err
	}
	for i, g := range bd.Groups {
		name := g.Name
		if name == "" {
			name = "(not set)"
		}
		var rate any
		if g.People > 0 {
			rate = float64(g.WithPasskey) / float64(g.People)
		}
		row := []any{str(name), g.People, g.WithPasskey, rate}
		if err := f.SetSheetRow(sh, cellName(1, i+2), &row); err != nil {
			return err
		}
	}
	if len(bd.Groups) > 0 {
		if err := f.SetCellStyle(sh, "D2", cellName(4, len(bd.Groups)+1), b.st.pct); err != nil {
			return err
		}
	}
	return nil
}
