package handout

import "fmt"

// staffWords are the words of the pages printed for staff rather than for
// the people named on them: the cover page that starts a site's inserts
// (for whoever packs the print run) and the handover sheet that starts its
// letters (for whoever hands them out). They are in the campaign's default
// language, as the staff of a campaign read it; a language without them
// gets English.
type staffWords struct {
	lang string
	// The cover page: "12 inserts on 3 pages (a4-4up), sorted by name".
	coverSummary func(inserts, pages int, layout string) string
	printed      string // "Printed", before the date

	// The handover sheet.
	handover, continued string
	// "12 Temporary Access Pass letters, sorted by name"
	letters      func(n int) string
	instructions string
	// The table's columns, after "#".
	colName, colUPN, colSign string

	// unassigned names the site of people with no office location.
	unassigned string
}

var staffText = map[string]*staffWords{
	"en": {
		lang: "en",
		coverSummary: func(n, pages int, layout string) string {
			return fmt.Sprintf("%d %s on %d %s (%s), sorted by name", n, plural(n, "insert", "inserts"), pages, plural(pages, "page", "pages"), layout)
		},
		printed:   "Printed",
		handover:  "handover",
		continued: "continued",
		letters: func(n int) string {
			return fmt.Sprintf("%d Temporary Access Pass %s, sorted by name", n, plural(n, "letter", "letters"))
		},
		instructions: "Hand each sealed letter to the person named on it, in person, after checking who they are. Ask them to sign. This sheet holds no pass.",
		colName:      "Name", colUPN: "Sign-in name", colSign: "Signature and date",
		unassigned: Unassigned,
	},
	"fr": {
		lang: "fr",
		coverSummary: func(n, pages int, layout string) string {
			return fmt.Sprintf("%d %s sur %d %s (%s), par ordre alphabétique", n, plural(n, "encart", "encarts"), pages, plural(pages, "page", "pages"), layout)
		},
		printed:   "Imprimé le",
		handover:  "remise des lettres",
		continued: "suite",
		letters: func(n int) string {
			return fmt.Sprintf("%d %s contenant un passe d'accès temporaire, par ordre alphabétique", n, plural(n, "lettre", "lettres"))
		},
		instructions: "Remettez chaque lettre cachetée en main propre à la personne qui y est nommée, après avoir vérifié son identité, et faites-la signer. Cette feuille ne contient aucun passe d'accès.",
		colName:      "Nom", colUPN: "Identifiant de connexion", colSign: "Signature et date",
		unassigned: "sans site",
	},
	"de": {
		lang: "de",
		coverSummary: func(n, pages int, layout string) string {
			return fmt.Sprintf("%d %s auf %d %s (%s), nach Namen sortiert", n, plural(n, "Einleger", "Einleger"), pages, plural(pages, "Seite", "Seiten"), layout)
		},
		printed:   "Gedruckt am",
		handover:  "Übergabe",
		continued: "Fortsetzung",
		letters: func(n int) string {
			return fmt.Sprintf("%d %s mit befristetem Zugriffspass, nach Namen sortiert", n, plural(n, "Brief", "Briefe"))
		},
		instructions: "Übergeben Sie jeden verschlossenen Brief persönlich der darauf genannten Person, nachdem Sie ihre Identität geprüft haben, und lassen Sie sie unterschreiben. Dieses Blatt enthält keinen Zugriffspass.",
		colName:      "Name", colUPN: "Anmeldename", colSign: "Unterschrift und Datum",
		unassigned: "ohne Standort",
	},
}

// site is how the staff pages name a site: people with no office
// location are under a name in the campaign's language.
func (w *staffWords) site(name string) string {
	if name == Unassigned {
		return w.unassigned
	}
	return name
}

// wordsFor returns the staff words of a locale, English when it has none.
func wordsFor(locale string) *staffWords {
	if w, ok := staffText[locale]; ok {
		return w
	}
	return staffText["en"]
}

func plural(n int, one, other string) string {
	if n == 1 {
		return one
	}
	return other
}
