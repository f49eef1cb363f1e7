package track

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/xuri/excelize/v2"
)

// maxDepartments is how many departments get a column of their own on
// the Adoption sheet, the ones with the most people with a passkey; the
// rest share one. (The By department sheet, nudge track --by department,
// lists them all.)
const maxDepartments = 12

// Names of the Adoption sheet's catch-all columns. Parenthesised, like
// the breakdown's "(not set)", so that they read as nudge's words.
const (
	notInWave   = "(not in a wave)"
	notSet      = "(not set)"
	otherGroups = "(other departments)"
)

// columns are the groups an Adoption column each counts.
type columns struct {
	names []string
	index map[string]int
}

func (c *columns) add(name string) {
	if c.index == nil {
		c.index = map[string]int{}
	}
	if _, ok := c.index[name]; !ok {
		c.index[name] = len(c.names)
		c.names = append(c.names, name)
	}
}

// audienceColumns are the audiences in the order waves planned them, and
// "(not in a wave)" for people with a passkey the campaign never planned.
func (b *builder) audienceColumns() *columns {
	c := &columns{}
	for _, g := range b.groups {
		c.add(g.audience)
	}
	for _, a := range b.adopters {
		if a.audience == "" {
			c.add(notInWave)
			break
		}
	}
	return c
}

func (c *columns) audience(a *adopted) int {
	if a.audience == "" {
		return c.index[notInWave]
	}
	return c.index[a.audience]
}

// departmentColumns are the departments with the most people with a
// passkey, most first, and one column for the rest.
func (b *builder) departmentColumns() *columns {
	n := map[string]int{}
	for _, a := range b.adopters {
		n[department(&a)]++
	}
	names := slices.SortedFunc(maps.Keys(n), func(x, y string) int {
		return cmp.Or(n[y]-n[x], cmp.Compare(x, y))
	})
	c := &columns{}
	for i, name := range names {
		if i == maxDepartments && len(names) > maxDepartments+1 {
			c.add(otherGroups)
			break
		}
		c.add(name)
	}
	return c
}

func (c *columns) department(a *adopted) int {
	if i, ok := c.index[department(a)]; ok {
		return i
	}
	return c.index[otherGroups]
}

func department(a *adopted) string {
	if a.department == "" {
		return notSet
	}
	return a.department
}

// adoption writes the Adoption sheet: for each day on which someone was
// first seen with a passkey, how many were new and how many people had
// one by the end of it, in all, per audience and per department, with a
// line chart by audience and one by department. Audience and department
// names are column headers: string cells like every other, so a
// department called "=HYPERLINK(…)" is shown, not run.
func (b *builder) adoption() error {
	f, sh := b.f, sheetAdoption
	aud, dep := b.audienceColumns(), b.departmentColumns()
	header := []any{"Day", "New with a passkey", "All people"}
	for _, a := range aud.names {
		header = append(header, "Audience: "+a)
	}
	for _, d := range dep.names {
		header = append(header, "Department: "+d)
	}
	if err := f.SetSheetRow(sh, "A1", &header); err != nil {
		return err
	}
	if err := f.SetCellStyle(sh, "A1", cellName(len(header), 1), b.st.header); err != nil {
		return err
	}
	if err := f.SetPanes(sh, frozenHeader()); err != nil {
		return err
	}
	if err := f.SetColWidth(sh, "A", "C", 18); err != nil {
		return err
	}
	if len(header) > 3 {
		if err := f.SetColWidth(sh, "D", colName(len(header)), 22); err != nil {
			return err
		}
	}
	if len(b.adopters) == 0 {
		return f.SetCellValue(sh, "A2", "No passkey registrations seen yet.")
	}

	counts := make([]int, len(aud.names)+len(dep.names))
	row, fresh, total := 1, 0, 0
	var day time.Time
	emit := func() error {
		row++
		values := make([]any, 0, len(header))
		values = append(values, day, fresh, total)
		for _, n := range counts {
			values = append(values, n)
		}
		return f.SetSheetRow(sh, cellName(1, row), &values)
	}
	for i := range b.adopters {
		a := &b.adopters[i]
		t := a.seen.In(b.loc)
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, b.loc)
		if fresh > 0 && !d.Equal(day) {
			if err := emit(); err != nil {
				return err
			}
			fresh = 0
		}
		day = d
		fresh++
		total++
		counts[aud.audience(a)]++
		counts[len(aud.names)+dep.department(a)]++
	}
	if err := emit(); err != nil {
		return err
	}
	if err := f.SetCellStyle(sh, "A2", cellName(1, row), b.st.date); err != nil {
		return err
	}

	series := func(cols ...int) []excelize.ChartSeries {
		var out []excelize.ChartSeries
		for _, c := range cols {
			col := colName(c)
			out = append(out, excelize.ChartSeries{
				Name:       fmt.Sprintf("%s!$%s$1", sh, col),
				Categories: fmt.Sprintf("%s!$A$2:$A$%d", sh, row),
				Values:     fmt.Sprintf("%s!$%s$2:$%s$%d", sh, col, col, row),
			})
		}
		return out
	}
	byAudience := []int{3}
	for i := range aud.names {
		byAudience = append(byAudience, 4+i)
	}
	var byDepartment []int
	for i := range dep.names {
		byDepartment = append(byDepartment, 4+len(aud.names)+i)
	}
	at := colName(len(header) + 2)
	for _, c := range []struct {
		cell   string
		title  string
		series []excelize.ChartSeries
	}{
		{at + "2", "People with a passkey, by audience", series(byAudience...)},
		{at + "20", "People with a passkey, by department", series(byDepartment...)},
	} {
		if err := f.AddChart(sh, c.cell, &excelize.Chart{
			Type:      excelize.Line,
			Series:    c.series,
			Title:     chartTitle(c.title),
			Legend:    excelize.ChartLegend{Position: "right"},
			Dimension: excelize.ChartDimension{Width: 720, Height: 340},
			YAxis:     excelize.ChartAxis{MajorGridLines: true},
		}); err != nil {
			return err
		}
	}
	return nil
}

// colName is ColumnNumberToName for columns known to be valid.
func colName(col int) string {
	name, err := excelize.ColumnNumberToName(col)
	if err != nil {
		panic(err) // a bug: the columns here are few
	}
	return name
}
