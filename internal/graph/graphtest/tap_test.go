package graphtest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/graph/graphtest"
)

// TestHeldPass: a user holds one pass; a new one replaces it, as Graph
// documents, whether it is still valid or not; list, get and delete see
// the held pass, never its value.
func TestHeldPass(t *testing.T) {
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	tenant := graphtest.Synthesize(5)
	who := users(t, tenant)[1]
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant, Now: func() time.Time { return now }})
	tok := appToken(t, s)
	base := "/v1.0/users/" + who.ID + "/authentication/temporaryAccessPassMethods"
	type method struct {
		ID       string  `json:"id"`
		Pass     *string `json:"temporaryAccessPass"`
		Lifetime int     `json:"lifetimeInMinutes"`
		Usable   bool    `json:"isUsable"`
		Reason   string  `json:"methodUsabilityReason"`
	}
	list := func() []method {
		t.Helper()
		resp, b := do(t, s, http.MethodGet, base, tok, nil, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("list: %d %s", resp.StatusCode, b)
		}
		return decode[struct{ Value []method }](t, b).Value
	}
	if got := list(); len(got) != 0 {
		t.Fatalf("a new user holds %+v", got)
	}

	// A pass given in the admin center, valid now.
	helpdesk := s.GiveTemporaryAccessPass(who.UserPrincipalName, now.Add(-time.Hour), 8*time.Hour)
	got := list()
	if len(got) != 1 || got[0].ID != helpdesk || got[0].Pass != nil || !got[0].Usable || got[0].Reason != "EnabledByPolicy" || got[0].Lifetime != 480 {
		t.Fatalf("list after the helpdesk's pass: %+v", got)
	}
	if len(s.TemporaryAccessPasses()) != 0 {
		t.Error("a pass given outside the API is counted as created through it")
	}

	// A second pass while the first is valid: created, and it replaces it.
	resp, b := do(t, s, http.MethodPost, base, tok, strings.NewReader(`{"lifetimeInMinutes":60}`), map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("second pass: %d %s", resp.StatusCode, b)
	}
	created := decode[method](t, b)
	got = list()
	if len(got) != 1 || got[0].ID != created.ID || got[0].ID == helpdesk || got[0].Lifetime != 60 {
		t.Errorf("after the second pass the user holds %+v, want only %s", got, created.ID)
	}
	held, ok := s.HeldTemporaryAccessPass(who.ID)
	if !ok || held.ID != created.ID || created.Pass == nil || held.Pass != *created.Pass {
		t.Errorf("held = %+v, %v", held, ok)
	}
	resp, b = do(t, s, http.MethodGet, base+"/"+helpdesk, tok, nil, nil)
	wantGraphError(t, resp, b, 404, "Request_ResourceNotFound", "")

	// Get, delete, and then nothing is held.
	resp, b = do(t, s, http.MethodGet, base+"/"+created.ID, tok, nil, nil)
	if m := decode[method](t, b); resp.StatusCode != 200 || m.ID != created.ID || m.Pass != nil {
		t.Errorf("get: %d %s", resp.StatusCode, b)
	}
	resp, b = do(t, s, http.MethodDelete, base+"/"+created.ID, tok, nil, nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("delete: %d %s", resp.StatusCode, b)
	}
	if got := list(); len(got) != 0 {
		t.Errorf("after delete the user holds %+v", got)
	}

	// An expired pass is listed as such.
	s.GiveTemporaryAccessPass(who.ID, now.Add(-48*time.Hour), time.Hour)
	if got := list(); len(got) != 1 || got[0].Usable || got[0].Reason != "Expired" {
		t.Errorf("expired pass listed as %+v", got)
	}
}

// TestHeldPassPermissions: reading needs a read permission, deleting the
// write one.
func TestHeldPassPermissions(t *testing.T) {
	tenant := graphtest.Synthesize(3)
	for i := range tenant.Apps {
		tenant.Apps[i].Roles = []string{"UserAuthenticationMethod.Read.All"}
	}
	who := users(t, tenant)[0]
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant})
	tok := appToken(t, s)
	id := s.GiveTemporaryAccessPass(who.ID, time.Now(), time.Hour)
	base := "/v1.0/users/" + who.ID + "/authentication/temporaryAccessPassMethods"
	if resp, b := do(t, s, http.MethodGet, base, tok, nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("list with Read.All: %d %s", resp.StatusCode, b)
	}
	resp, b := do(t, s, http.MethodDelete, base+"/"+id, tok, nil, nil)
	wantGraphError(t, resp, b, 403, "Authorization_RequestDenied", "")
	if _, ok := s.HeldTemporaryAccessPass(who.ID); !ok {
		t.Error("a forbidden delete deleted the pass")
	}
}
