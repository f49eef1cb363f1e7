package graph

// JSON batching: POST /$batch carries up to 20 requests in one HTTP
// request (https://learn.microsoft.com/graph/json-batching).
//
// Policy:
//   - The batch request itself goes through retryHandler like any other:
//     a 429 or 503 on the whole batch is waited out there.
//   - Graph evaluates every request of a batch on its own, throttling
//     included, so a batch answered 200 can hold items answered 429. Only
//     those items go again, in a new batch, after the longest Retry-After
//     among them (capped by RetryPolicy.MaxRetryAfter) or a backoff when
//     none is given, up to RetryPolicy.MaxThrottled times; 503 and 504
//     items are treated the same way. Items answered 500 or 502, or not
//     answered at all, go again up to RetryPolicy.MaxTransient times: nudge
//     batches only reads.
//   - Responses come back in any order and are matched to requests by id.
//   - Request compression is off, as for sendMail (see mail.go): a POST
//     retried after a 429 must go out as it went the first time.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
)

// maxBatch is the most requests Graph takes in one batch.
const maxBatch = 20

// batchRequest is one request of a batch. URL is relative to the version
// root ("/users/{id}/mailboxSettings").
type batchRequest struct {
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
}

// batchResponse is one response of a batch. Status 0 means Graph's answer
// did not include the request.
type batchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// header returns a response header, whatever its case.
func (r *batchResponse) header(name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// graphError returns the code and message of an error body.
func (r *batchResponse) graphError() (code, message string) {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(r.Body, &e) == nil {
		return e.Error.Code, e.Error.Message
	}
	return "", ""
}

// sendBatch sends one POST /$batch and returns the responses by id.
func (c *Client) sendBatch(ctx context.Context, reqs []batchRequest, op, perm string) (map[string]batchResponse, error) {
	body, err := json.Marshal(struct {
		Requests []batchRequest `json:"requests"`
	}{reqs})
	if err != nil {
		return nil, &Error{Op: op, Message: err.Error(), Err: err}
	}
	ri := c.request(abs.POST, "/$batch", nil)
	ri.SetStreamContentAndContentType(body, "application/json")
	ri.AddRequestOptions([]abs.RequestOption{khttp.NewCompressionOptionsReference(false)})
	raw, err := c.send(ctx, ri, op, perm)
	if err != nil {
		return nil, err
	}
	var answer struct {
		Responses []batchResponse `json:"responses"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil || answer.Responses == nil {
		if err == nil {
			err = fmt.Errorf(`no "responses" array`)
		}
		return nil, &Error{Op: op, Message: "malformed batch response from Graph: " + err.Error(), Hint: "run again; if it persists, a proxy may be rewriting Graph's answers", Err: err}
	}
	out := make(map[string]batchResponse, len(answer.Responses))
	for _, r := range answer.Responses {
		out[r.ID] = r
	}
	return out, nil
}

// batch sends reqs (at most maxBatch) and sends again, alone, the items
// that were throttled or failed transiently, as the file's policy says.
// It returns the last response of every request by id; an item that kept
// failing keeps its last answer (status 0 when Graph never answered it).
func (c *Client) batch(ctx context.Context, reqs []batchRequest, op, perm string) (map[string]batchResponse, error) {
	if len(reqs) > maxBatch {
		return nil, fmt.Errorf("graph: %s: %d requests in one batch, Graph takes %d", op, len(reqs), maxBatch)
	}
	p := c.retry.policy
	out := make(map[string]batchResponse, len(reqs))
	pending := reqs
	throttled, transient := 0, 0
	for {
		got, err := c.sendBatch(ctx, pending, op, perm)
		if err != nil {
			return nil, err
		}
		var (
			again              []batchRequest
			wait               time.Duration
			isThrottled, flaky bool
		)
		for _, r := range pending {
			resp, ok := got[r.ID]
			if !ok {
				resp = batchResponse{ID: r.ID}
			}
			out[r.ID] = resp
			switch resp.Status {
			case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
				if throttled < p.MaxThrottled {
					again = append(again, r)
					isThrottled = true
					if ra, ok := retryAfter(resp.header("Retry-After"), c.now()); ok {
						wait = max(wait, min(ra, p.MaxRetryAfter))
					}
				}
			case 0, http.StatusInternalServerError, http.StatusBadGateway:
				if transient < p.MaxTransient {
					again = append(again, r)
					flaky = true
				}
			}
		}
		if len(again) == 0 {
			return out, nil
		}
		if isThrottled {
			throttled++
			if wait == 0 {
				wait = c.retry.backoff(throttled)
			}
			// Graph throttles the app, not this goroutine: the other
			// batches in flight hold back too.
			c.retry.other.holdUntil(c.now().Add(wait))
		}
		if flaky {
			transient++
			wait = max(wait, c.retry.backoff(transient))
		}
		if err := sleepUntil(ctx, c.now, c.now().Add(wait)); err != nil {
			return nil, err
		}
		pending = again
	}
}
