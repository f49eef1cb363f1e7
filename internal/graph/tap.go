package graph

// Temporary Access Passes: POST /users/{id}/authentication/temporaryAccessPassMethods
// (https://learn.microsoft.com/graph/api/authentication-post-temporaryaccesspassmethods).
//
//   - The pass is a secret that lets someone register a sign-in method as
//     the user. It is returned once, in the response, and nudge keeps it
//     only in memory on its way to the printed letter: it is never in an
//     error, a log line or a String method (TAP.String hides it).
//   - The tenant's Temporary Access Pass policy is read first
//     (GET /policies/authenticationMethodsPolicy) and a request it would
//     refuse is refused here, with the policy's limits in the message,
//     before anything is created.
//   - A user holds one pass at a time, and Graph does not refuse a second:
//     "the previous Temporary Access Pass will be deleted, and a new
//     Temporary Access Pass will be created" (the page above; Entra's
//     "Replace a Temporary Access Pass" says the same). Creating a pass for
//     someone who holds a valid one, given by a helpdesk say, silently
//     makes theirs stop working: the caller lists the user's passes first
//     (HeldTAPs) and decides.
//   - A POST is sent again only on 429 and 503 (retryHandler): Graph
//     created nothing then. A request that got no answer is not repeated.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
)

// TAPPolicy is the tenant's Temporary Access Pass method configuration.
type TAPPolicy struct {
	Enabled bool
	// DefaultLifetime, MinLifetime and MaxLifetime bound a pass's life.
	DefaultLifetime, MinLifetime, MaxLifetime time.Duration
	// UsableOnce means only one-time passes may be created.
	UsableOnce bool
	// Length is the number of characters of a pass.
	Length int
}

// Graph's own limits on any pass, whatever the policy says.
const (
	TAPMinLifetime = 10 * time.Minute
	TAPMaxLifetime = 30 * 24 * time.Hour
)

// TAPRequest is what a new pass should be.
type TAPRequest struct {
	// Start is when the pass becomes valid; zero means now.
	Start time.Time
	// Lifetime is how long it stays valid; zero means the policy's default.
	Lifetime time.Duration
	// UsableOnce makes the pass work for one sign-in only.
	UsableOnce bool
}

// TAP is a created pass.
type TAP struct {
	ID         string
	Pass       string // only in the answer that created it
	Created    time.Time
	Start      time.Time
	Lifetime   time.Duration
	UsableOnce bool
	// Reason is Graph's methodUsabilityReason: EnabledByPolicy,
	// DisabledByPolicy, Expired, NotYetValid or OneTimeUsed.
	Reason string
}

// End is when the pass stops being valid.
func (t *TAP) End() time.Time { return t.Start.Add(t.Lifetime) }

// Live reports whether the pass can still be used at now, or will be:
// replacing it takes something from its holder.
func (t *TAP) Live(now time.Time) bool {
	switch t.Reason {
	case "Expired", "OneTimeUsed", "DisabledByPolicy":
		return false
	}
	return t.End().After(now)
}

// tapJSON is a temporaryAccessPassAuthenticationMethod as Graph writes it.
type tapJSON struct {
	ID         string    `json:"id"`
	Pass       string    `json:"temporaryAccessPass"`
	Created    time.Time `json:"createdDateTime"`
	Start      time.Time `json:"startDateTime"`
	Lifetime   int       `json:"lifetimeInMinutes"`
	UsableOnce bool      `json:"isUsableOnce"`
	Reason     string    `json:"methodUsabilityReason"`
}

func (j *tapJSON) tap() *TAP {
	return &TAP{ID: j.ID, Pass: j.Pass, Created: j.Created, Start: j.Start,
		Lifetime: time.Duration(j.Lifetime) * time.Minute, UsableOnce: j.UsableOnce, Reason: j.Reason}
}

// HeldTAPs lists the passes the user (object id or UPN) holds: none or one
// (GET /users/{id}/authentication/temporaryAccessPassMethods). Graph
// lists a pass without its value.
func (c *Client) HeldTAPs(ctx context.Context, user string) ([]*TAP, error) {
	op := "GET /users/" + user + "/authentication/temporaryAccessPassMethods"
	body, err := c.send(ctx, c.get("/users/"+user+"/authentication/temporaryAccessPassMethods", nil), op, PermTAP)
	if err != nil {
		return nil, err
	}
	var doc struct{ Value []tapJSON }
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, &Error{Op: op, Message: "the answer is not a list of passes: " + err.Error(), Err: err}
	}
	out := make([]*TAP, len(doc.Value))
	for i := range doc.Value {
		doc.Value[i].Pass = "" // listed passes carry none; never keep one
		out[i] = doc.Value[i].tap()
	}
	return out, nil
}

// String describes the pass without the pass itself.
func (t *TAP) String() string {
	return fmt.Sprintf("temporary access pass %s, valid %s to %s", t.ID, t.Start.Format(time.RFC3339), t.End().Format(time.RFC3339))
}

// TAPPolicy reads the Temporary Access Pass configuration from the
// authentication methods policy. A policy without one has the method
// disabled, as Entra treats it.
func (c *Client) TAPPolicy(ctx context.Context) (*TAPPolicy, error) {
	const op = "GET /policies/authenticationMethodsPolicy"
	body, err := c.send(ctx, c.get("/policies/authenticationMethodsPolicy", nil), op, PermMethodsPolicy)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Configs []struct {
			ODataType  string `json:"@odata.type"`
			ID         string `json:"id"`
			State      string `json:"state"`
			Default    *int   `json:"defaultLifetimeInMinutes"`
			Min        *int   `json:"minimumLifetimeInMinutes"`
			Max        *int   `json:"maximumLifetimeInMinutes"`
			Length     *int   `json:"defaultLength"`
			UsableOnce bool   `json:"isUsableOnce"`
		} `json:"authenticationMethodConfigurations"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, &Error{Op: op, Message: "the policy is not JSON: " + err.Error(), Err: err}
	}
	for _, cf := range doc.Configs {
		if !strings.EqualFold(cf.ID, "TemporaryAccessPass") && cf.ODataType != "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration" {
			continue
		}
		// Entra's documented defaults for what the configuration leaves out.
		p := &TAPPolicy{Enabled: strings.EqualFold(cf.State, "enabled"), UsableOnce: cf.UsableOnce,
			DefaultLifetime: time.Hour, MinLifetime: time.Hour, MaxLifetime: 8 * time.Hour, Length: 8}
		minutes := func(v *int, dst *time.Duration) {
			if v != nil {
				*dst = time.Duration(*v) * time.Minute
			}
		}
		minutes(cf.Default, &p.DefaultLifetime)
		minutes(cf.Min, &p.MinLifetime)
		minutes(cf.Max, &p.MaxLifetime)
		if cf.Length != nil {
			p.Length = *cf.Length
		}
		return p, nil
	}
	return &TAPPolicy{}, nil
}

// Check returns an error when the policy would refuse r.
func (p *TAPPolicy) Check(r TAPRequest) error {
	if !p.Enabled {
		return fmt.Errorf("the Temporary Access Pass method is not enabled in the tenant's authentication methods policy (Entra admin center > Entra ID > Authentication methods > Temporary Access Pass)")
	}
	lo, hi := max(TAPMinLifetime, p.MinLifetime), min(TAPMaxLifetime, p.MaxLifetime)
	if r.Lifetime != 0 && (r.Lifetime < lo || r.Lifetime > hi) {
		return fmt.Errorf("a lifetime of %s is outside what the tenant's Temporary Access Pass policy allows: %s to %s", r.Lifetime, lo, hi)
	}
	if p.UsableOnce && !r.UsableOnce {
		return fmt.Errorf("the tenant's Temporary Access Pass policy allows only one-time passes: ask for usable once")
	}
	return nil
}

// CreateTAP creates a Temporary Access Pass for the user (object id or
// UPN), replacing any pass they hold. The caller should check the request
// against TAPPolicy, and what the user holds (HeldTAPs), first.
func (c *Client) CreateTAP(ctx context.Context, user string, r TAPRequest) (*TAP, error) {
	op := "POST /users/" + user + "/authentication/temporaryAccessPassMethods"
	req := map[string]any{"isUsableOnce": r.UsableOnce}
	if !r.Start.IsZero() {
		req["startDateTime"] = r.Start.UTC().Format(time.RFC3339)
	}
	if r.Lifetime != 0 {
		req["lifetimeInMinutes"] = int(r.Lifetime / time.Minute)
	}
	body, _ := json.Marshal(req)
	ri := c.request(abs.POST, "/users/"+user+"/authentication/temporaryAccessPassMethods", nil)
	ri.SetStreamContentAndContentType(body, "application/json")
	// Compression off, as for sendMail: a POST retried after 429 must go
	// out as it was labelled.
	ri.AddRequestOptions([]abs.RequestOption{khttp.NewCompressionOptionsReference(false)})
	resp, err := c.send(ctx, ri, op, PermTAP)
	if err != nil {
		return nil, err
	}
	var got tapJSON
	if err := json.Unmarshal(resp, &got); err != nil || got.Pass == "" {
		// Never quote the body: it may hold the pass.
		return nil, &Error{Op: op, Message: "the answer holds no pass that nudge can read", Err: err,
			Hint: "a pass may have been created: check the user's authentication methods in the Entra admin center before trying again"}
	}
	return got.tap(), nil
}
