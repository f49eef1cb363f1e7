package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/graph"
	"github.com/nudge-passkeys/nudge/internal/graph/graphtest"
)

// firstUser is the object id of a synthesized tenant's first user.
func firstUser(t *testing.T, tn *graphtest.Tenant) string {
	t.Helper()
	var u struct{ ID string }
	if err := json.Unmarshal(tn.Users[0], &u); err != nil || u.ID == "" {
		t.Fatalf("user: %v", err)
	}
	return u.ID
}

func TestCreateTAP(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	tn := graphtest.Synthesize(5)
	s := graphtest.Start(t, graphtest.Options{Tenant: tn, Now: func() time.Time { return now }})
	c := client(t, config(t, s))
	ctx := context.Background()

	pol, err := c.TAPPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !pol.Enabled || pol.MinLifetime != time.Hour || pol.MaxLifetime != 8*time.Hour || pol.DefaultLifetime != time.Hour {
		t.Fatalf("policy = %+v, want Synthesize's: enabled, 60 to 480 minutes", pol)
	}
	for _, tc := range []struct {
		r    graph.TAPRequest
		want string
	}{
		{graph.TAPRequest{Lifetime: 30 * time.Minute}, "outside what the tenant's Temporary Access Pass policy allows: 1h0m0s to 8h0m0s"},
		{graph.TAPRequest{Lifetime: 9 * time.Hour}, "outside"},
	} {
		if err := pol.Check(tc.r); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Check(%+v) = %v, want %q", tc.r, err, tc.want)
		}
	}

	user := firstUser(t, tn)
	handover := time.Date(2026, 12, 10, 8, 0, 0, 0, time.UTC)
	req := graph.TAPRequest{Start: handover, Lifetime: 8 * time.Hour, UsableOnce: true}
	if err := pol.Check(req); err != nil {
		t.Fatal(err)
	}
	tap, err := c.CreateTAP(ctx, user, req)
	if err != nil {
		t.Fatal(err)
	}
	got := s.TemporaryAccessPasses()
	if len(got) != 1 {
		t.Fatalf("%d passes created, want 1", len(got))
	}
	if g := got[0]; g.UserID != user || !g.Start.Equal(handover) || g.LifetimeInMinutes != 480 || !g.IsUsableOnce || g.Pass != tap.Pass {
		t.Errorf("server has %+v; client got %s", g, tap)
	}
	if !tap.Start.Equal(handover) || tap.Lifetime != 8*time.Hour || !tap.End().Equal(handover.Add(8*time.Hour)) || !tap.UsableOnce {
		t.Errorf("TAP = %s", tap)
	}
	if strings.Contains(tap.String(), tap.Pass) {
		t.Error("TAP.String shows the pass")
	}
}

func TestCreateTAPForbidden(t *testing.T) {
	tn := graphtest.Synthesize(5)
	for i := range tn.Apps {
		tn.Apps[i].Roles = []string{"User.Read.All", "Policy.Read.AuthenticationMethod"}
	}
	s := graphtest.Start(t, graphtest.Options{Tenant: tn})
	c := client(t, config(t, s))
	_, err := c.CreateTAP(context.Background(), firstUser(t, tn), graph.TAPRequest{UsableOnce: true})
	var ge *graph.Error
	if !errors.As(err, &ge) || ge.Status != 403 || !strings.Contains(err.Error()+ge.Hint, graph.PermTAP) {
		t.Fatalf("error = %v (hint %q), want a 403 naming %s", err, ge.Hint, graph.PermTAP)
	}
	if n := len(s.TemporaryAccessPasses()); n != 0 {
		t.Errorf("%d passes created", n)
	}
}

func TestTAPPolicyDisabled(t *testing.T) {
	tn := graphtest.Synthesize(5)
	tn.Policy = json.RawMessage(`{"id":"authenticationMethodsPolicy","authenticationMethodConfigurations":[{"@odata.type":"#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration","id":"TemporaryAccessPass","state":"disabled"}]}`)
	s := graphtest.Start(t, graphtest.Options{Tenant: tn})
	pol, err := client(t, config(t, s)).TAPPolicy(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := pol.Check(graph.TAPRequest{}); err == nil || !strings.Contains(err.Error(), "not enabled") {
		t.Errorf("Check = %v, want not enabled", err)
	}
	one := &graph.TAPPolicy{Enabled: true, UsableOnce: true, MinLifetime: time.Hour, MaxLifetime: 8 * time.Hour}
	if err := one.Check(graph.TAPRequest{UsableOnce: false}); err == nil || !strings.Contains(err.Error(), "only one-time passes") {
		t.Errorf("Check(multi-use) = %v, want only one-time passes", err)
	}
}

// TestHeldTAPs: the pass a user holds is listed without its value; a pass
// created while another is live replaces it (as Graph documents), which
// is why callers look first; Live tells a pass worth keeping from one
// that is over.
func TestHeldTAPs(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	tn := graphtest.Synthesize(5)
	s := graphtest.Start(t, graphtest.Options{Tenant: tn, Now: func() time.Time { return now }})
	c := client(t, config(t, s))
	ctx := context.Background()
	user := firstUser(t, tn)

	held, err := c.HeldTAPs(ctx, user)
	if err != nil || len(held) != 0 {
		t.Fatalf("HeldTAPs = %v, %v; want none", held, err)
	}
	helpdesk := s.GiveTemporaryAccessPass(user, now.Add(time.Hour), 8*time.Hour)
	held, err = c.HeldTAPs(ctx, user)
	if err != nil || len(held) != 1 {
		t.Fatalf("HeldTAPs = %v, %v; want the helpdesk's", held, err)
	}
	h := held[0]
	if h.ID != helpdesk || h.Pass != "" || h.Reason != "NotYetValid" || !h.Start.Equal(now.Add(time.Hour)) || h.Lifetime != 8*time.Hour || !h.Live(now) {
		t.Errorf("held = %+v", h)
	}
	tap, err := c.CreateTAP(ctx, user, graph.TAPRequest{Lifetime: time.Hour, UsableOnce: true})
	if err != nil {
		t.Fatal(err)
	}
	if held, _ = c.HeldTAPs(ctx, user); len(held) != 1 || held[0].ID != tap.ID {
		t.Errorf("after CreateTAP the user holds %v, want only %s", held, tap.ID)
	}
	for _, tc := range []struct {
		t    graph.TAP
		live bool
	}{
		{graph.TAP{Start: now.Add(-time.Hour), Lifetime: 2 * time.Hour, Reason: "EnabledByPolicy"}, true},
		{graph.TAP{Start: now.Add(24 * time.Hour), Lifetime: time.Hour, Reason: "NotYetValid"}, true},
		{graph.TAP{Start: now.Add(-2 * time.Hour), Lifetime: time.Hour, Reason: "EnabledByPolicy"}, false},
		{graph.TAP{Start: now.Add(-time.Hour), Lifetime: 2 * time.Hour, Reason: "OneTimeUsed"}, false},
		{graph.TAP{Start: now.Add(-time.Hour), Lifetime: 2 * time.Hour, Reason: "Expired"}, false},
	} {
		if got := tc.t.Live(now); got != tc.live {
			t.Errorf("%s (%s).Live = %v, want %v", tc.t.String(), tc.t.Reason, got, tc.live)
		}
	}
}
