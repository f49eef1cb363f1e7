package graphtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// maxBatchRequests is the most requests Graph takes in one JSON batch.
const maxBatchRequests = 20

// batchItem is one request of a JSON batch.
type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

// batchItemResponse is one response of a JSON batch.
type batchItemResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    any               `json:"body,omitempty"`
}

// batch serves POST /$batch, JSON batching as
// https://learn.microsoft.com/graph/json-batching documents it: a
// "requests" array of 1 to 20 requests, each with a unique id, a method and
// a URL relative to /v1.0, answered by a "responses" array of id, status,
// headers and body (JSON bodies inline, others base64).
//
// Each request of the batch is served as if it had come alone, with the
// batch's Authorization: its permissions are checked, it is logged in
// Requests under its own method and path, it takes the Options.Faults
// whose Path it matches (so a Fault with Status 429 and RetryAfter on
// "/v1.0/users/{id}/mailboxSettings" throttles that item only), it counts
// for ThrottleEvery, and coming back sooner than an earlier item's
// Retry-After is a violation. Responses come back in the reverse order of
// the requests: Graph promises no order, and a client must match them by
// id. A Reset fault answers the item 502. dependsOn is not implemented
// (501). The error messages for a
// malformed batch are graphtest's: Graph does not document them.
func (s *Server) batch(w http.ResponseWriter, r *http.Request) {
	if _, e := options(r, nil, nil); e != nil {
		s.writeError(w, r, e)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		s.writeError(w, r, &graphError{http.StatusBadRequest, "BadRequest", "A batch request must have Content-Type application/json."})
		return
	}
	var req struct {
		Requests []batchItem `json:"requests"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.writeError(w, r, &graphError{http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid batch payload format: %v", err)})
		return
	}
	switch n := len(req.Requests); {
	case n == 0:
		s.writeError(w, r, &graphError{http.StatusBadRequest, "BadRequest", "Invalid batch payload format: the requests array is missing or empty."})
		return
	case n > maxBatchRequests:
		s.writeError(w, r, &graphError{http.StatusBadRequest, "BadRequest", fmt.Sprintf("Number of batch requests (%d) exceeds the maximum of %d.", n, maxBatchRequests)})
		return
	}
	seen := map[string]bool{}
	for _, it := range req.Requests {
		switch {
		case it.ID == "" || it.Method == "" || it.URL == "":
			s.writeError(w, r, &graphError{http.StatusBadRequest, "BadRequest", "Invalid batch payload format: every request needs an id, a method and a url."})
			return
		case seen[it.ID]:
			s.writeError(w, r, &graphError{http.StatusBadRequest, "BadRequest", fmt.Sprintf("Batch request id '%s' is used more than once.", it.ID)})
			return
		case len(it.DependsOn) > 0:
			s.writeError(w, r, &graphError{http.StatusNotImplemented, "NotImplemented", "graphtest does not implement dependsOn in batches."})
			return
		}
		seen[it.ID] = true
	}
	out := make([]batchItemResponse, len(req.Requests))
	for i, it := range req.Requests {
		out[i] = s.batchItem(r, it)
	}
	slices.Reverse(out)
	body, _ := json.Marshal(map[string]any{"responses": out})
	s.requestIDs(w, r)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// batchItem serves one request of a batch.
func (s *Server) batchItem(outer *http.Request, it batchItem) batchItemResponse {
	res := batchItemResponse{ID: it.ID}
	fail := func(status int, code, msg string) batchItemResponse {
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg}})
		res.Status, res.Headers, res.Body = status, map[string]string{"Content-Type": "application/json"}, json.RawMessage(b)
		return res
	}
	rel := strings.TrimPrefix(it.URL, "/")
	u, err := url.Parse("/v1.0/" + rel)
	if err != nil || strings.Contains(it.URL, "://") || strings.HasPrefix(strings.ToLower(rel), "v1.0/") || strings.HasPrefix(strings.ToLower(rel), "$batch") {
		return fail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid request URL '%s': give the URL relative to the version, such as /users/{id}.", it.URL))
	}
	var body io.Reader = http.NoBody
	if len(it.Body) > 0 && string(it.Body) != "null" {
		body = bytes.NewReader(it.Body)
	}
	inner, err := http.NewRequestWithContext(outer.Context(), strings.ToUpper(it.Method), s.URL()+u.RequestURI(), body)
	if err != nil {
		return fail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid request: %v", err))
	}
	for k, v := range it.Headers {
		inner.Header.Set(k, v)
	}
	if body != http.NoBody && inner.Header.Get("Content-Type") == "" {
		return fail(http.StatusBadRequest, "BadRequest", "A request with a body needs a Content-Type header in the batch.")
	}
	inner.Header.Set("Authorization", outer.Header.Get("Authorization"))

	// Served as a request of its own: logged, checked against earlier
	// Retry-Afters, given its faults. A Reset fault cannot drop the
	// connection of one item: Graph reports a failed back end as 502.
	buf := newBufferWriter()
	func() {
		defer func() {
			if v := recover(); v != nil {
				if v != http.ErrAbortHandler {
					panic(v)
				}
				buf = newBufferWriter()
				s.writeError(buf, inner, &graphError{http.StatusBadGateway, "BadGateway", "Fault injected by graphtest."})
			}
		}()
		s.ServeHTTP(buf, inner)
	}()
	if buf.status == 0 {
		buf.status = http.StatusOK
	}

	res.Status = buf.status
	res.Headers = map[string]string{}
	for _, h := range []string{"Content-Type", "Retry-After", "Location", "OData-Version"} {
		if v := buf.Header().Get(h); v != "" {
			res.Headers[h] = v
		}
	}
	if len(res.Headers) == 0 {
		res.Headers = nil
	}
	switch b := buf.body.Bytes(); {
	case len(b) == 0:
	case isJSON(buf.Header().Get("Content-Type")) && json.Valid(b):
		res.Body = json.RawMessage(slices.Clone(b))
	default:
		res.Body = base64.StdEncoding.EncodeToString(b)
	}
	return res
}

func isJSON(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/json"
}
