package graphtest

// The Temporary Access Pass each user holds, as Microsoft documents it
// (https://learn.microsoft.com/graph/api/resources/temporaryaccesspassauthenticationmethod,
// https://learn.microsoft.com/graph/api/authentication-post-temporaryaccesspassmethods):
//
//   - A user holds at most one pass. Graph does not refuse a second one:
//     "If the user requires a new Temporary Access Pass while the current
//     Temporary Access Pass is valid, the admin can create a new Temporary
//     Access Pass for the user, the previous Temporary Access Pass will be
//     deleted, and a new Temporary Access Pass will be created." The Entra
//     documentation says the same ("Replace a Temporary Access Pass": a new
//     pass overrides the existing one, valid or expired). Until 2021 the
//     beta API asked the admin to delete a valid pass first; neither the
//     status nor the error of that refusal was ever documented, and graphtest
//     does not invent one.
//   - GET …/temporaryAccessPassMethods lists the pass (never the pass
//     itself: it is shown once, in the answer that created it), GET and
//     DELETE …/temporaryAccessPassMethods/{id} read and delete it.
//
// A pass made outside nudge (by a helpdesk in the Entra admin center) is
// given with Server.GiveTemporaryAccessPass.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// permTAPRead are the permissions that read a user's passes.
var permTAPRead = permission{[]string{"UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All",
	"UserAuthMethod-TAP.Read.All", "UserAuthMethod-TAP.ReadWrite.All"}, "Authorization_RequestDenied", denied}

// HeldPass is the Temporary Access Pass a user holds.
type HeldPass struct {
	ID string
	TemporaryAccessPass
}

// tapStore is the pass each user holds, by user object id.
type tapStore struct {
	mu   sync.Mutex
	held map[string]HeldPass
}

// passStore returns the server's store, made on first use.
func (s *Server) passStore() *tapStore {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == nil {
		s.held = &tapStore{held: map[string]HeldPass{}}
	}
	return s.held
}

// GiveTemporaryAccessPass gives user (object id or UPN) a pass as an admin
// would in the Entra admin center, outside the API nudge uses, replacing
// the one they hold. It returns the pass's method id; it is not in
// TemporaryAccessPasses, which lists the passes created through the API.
func (s *Server) GiveTemporaryAccessPass(user string, start time.Time, lifetime time.Duration) string {
	p, _, ok := s.t.user(user)
	if !ok {
		panic("graphtest: GiveTemporaryAccessPass: no user " + user)
	}
	h := HeldPass{ID: newID(), TemporaryAccessPass: TemporaryAccessPass{UserID: p.id, Pass: tapValue(8), Created: s.now().UTC(),
		Start: start.UTC(), LifetimeInMinutes: int(lifetime / time.Minute), IsUsableOnce: true}}
	st := s.passStore()
	st.mu.Lock()
	st.held[p.id] = h
	st.mu.Unlock()
	return h.ID
}

// HeldTemporaryAccessPass returns the pass user (object id or UPN) holds.
func (s *Server) HeldTemporaryAccessPass(user string) (HeldPass, bool) {
	p, _, ok := s.t.user(user)
	if !ok {
		return HeldPass{}, false
	}
	st := s.passStore()
	st.mu.Lock()
	defer st.mu.Unlock()
	h, ok := st.held[p.id]
	return h, ok
}

// createHeldTAP serves POST …/temporaryAccessPassMethods: createTAP
// creates the pass; the user then holds it instead of any earlier one.
func (s *Server) createHeldTAP(w http.ResponseWriter, r *http.Request, who string) {
	rec := httptest.NewRecorder()
	s.createTAP(rec, r, who)
	if rec.Code == http.StatusCreated {
		var got struct {
			ID   string `json:"id"`
			Pass string `json:"temporaryAccessPass"`
		}
		json.Unmarshal(rec.Body.Bytes(), &got)
		var created TemporaryAccessPass
		s.mu.Lock()
		for i := len(s.passes) - 1; i >= 0; i-- {
			if s.passes[i].Pass == got.Pass {
				created = s.passes[i]
				break
			}
		}
		s.mu.Unlock()
		st := s.passStore()
		st.mu.Lock()
		st.held[created.UserID] = HeldPass{ID: got.ID, TemporaryAccessPass: created}
		st.mu.Unlock()
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// listTAPs serves GET /users/{id}/authentication/temporaryAccessPassMethods.
func (s *Server) listTAPs(w http.ResponseWriter, r *http.Request, who string) {
	p, _, ok := s.t.user(who)
	if !ok {
		s.writeError(w, r, notFound(who))
		return
	}
	value := []json.RawMessage{}
	if h, ok := s.HeldTemporaryAccessPass(p.id); ok {
		value = append(value, s.tapJSON(h))
	}
	b, _ := json.Marshal(map[string]any{
		"@odata.context": s.URL() + "/v1.0/$metadata#users('" + p.id + "')/authentication/temporaryAccessPassMethods",
		"value":          value,
	})
	s.writeObject(w, r, http.StatusOK, "", b)
}

// tapMethod serves GET and DELETE
// /users/{id}/authentication/temporaryAccessPassMethods/{method id}.
func (s *Server) tapMethod(w http.ResponseWriter, r *http.Request, who, id string) {
	p, _, ok := s.t.user(who)
	if !ok {
		s.writeError(w, r, notFound(who))
		return
	}
	st := s.passStore()
	st.mu.Lock()
	h, ok := st.held[p.id]
	ok = ok && strings.EqualFold(h.ID, id)
	if ok && r.Method == http.MethodDelete {
		delete(st.held, p.id)
	}
	st.mu.Unlock()
	switch {
	case !ok:
		s.writeError(w, r, notFound(id))
	case r.Method == http.MethodDelete:
		s.requestIDs(w, r)
		w.WriteHeader(http.StatusNoContent)
	default:
		s.writeObject(w, r, http.StatusOK, "", s.tapJSON(h))
	}
}

// tapJSON is a held pass as Graph lists it: without the pass.
func (s *Server) tapJSON(h HeldPass) json.RawMessage {
	now := s.now()
	usable, reason := true, "EnabledByPolicy"
	switch end := h.Start.Add(time.Duration(h.LifetimeInMinutes) * time.Minute); {
	case h.Start.After(now):
		usable, reason = false, "NotYetValid"
	case !end.After(now):
		usable, reason = false, "Expired"
	}
	b, _ := json.Marshal(map[string]any{
		"@odata.type":           "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
		"id":                    h.ID,
		"temporaryAccessPass":   nil,
		"createdDateTime":       h.Created.Format(time.RFC3339Nano),
		"startDateTime":         h.Start.Format(time.RFC3339Nano),
		"lifetimeInMinutes":     h.LifetimeInMinutes,
		"isUsableOnce":          h.IsUsableOnce,
		"isUsable":              usable,
		"methodUsabilityReason": reason,
	})
	return b
}
