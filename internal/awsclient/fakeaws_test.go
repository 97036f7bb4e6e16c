package awsclient

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// fakeAWS is a recording AWS Query endpoint for wire-level tests: it keeps every request's
// form and answers from a per-action script of canned responses.
type fakeAWS struct {
	t       *testing.T
	server  *httptest.Server
	mu      sync.Mutex
	calls   []fakeCall
	replies map[string][]fakeReply // action -> replies, the last one repeats
	date    time.Time
}

type fakeCall struct {
	Action string
	Region string // from the SigV4 credential scope
	Form   url.Values
}

type fakeReply struct {
	Status int
	Body   string
}

func newFakeAWS(t *testing.T) *fakeAWS {
	f := &fakeAWS{t: t, replies: map[string][]fakeReply{}, date: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	f.server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.server.Close)
	return f
}

// client returns a Client pointed at the fake with static credentials and fast retries.
func (f *fakeAWS) client(cfg Config) *Client {
	cfg.EndpointURL = f.server.URL
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = time.Millisecond
	}
	return NewFromAWSConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	}, cfg)
}

func (f *fakeAWS) reply(action string, replies ...fakeReply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies[action] = append(f.replies[action], replies...)
}

// ok is a success reply wrapping inner in <ActionResult>.
func ok(action, inner string) fakeReply {
	return fakeReply{Status: 200, Body: fmt.Sprintf(
		`<%[1]sResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><%[1]sResult>%[2]s</%[1]sResult>`+
			`<ResponseMetadata><RequestId>req-ok</RequestId></ResponseMetadata></%[1]sResponse>`, action, inner)}
}

func fault(status int, code, message string) fakeReply {
	return fakeReply{Status: status, Body: fmt.Sprintf(
		`<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>req-err</RequestId></ErrorResponse>`,
		code, message)}
}

func (f *fakeAWS) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	action := form.Get("Action")
	if action == "" { // KMS speaks JSON with X-Amz-Target
		action = strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "TrentService.")
	}
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{Action: action, Region: scopeRegion(r.Header.Get("Authorization")), Form: form})
	script := f.replies[action]
	var rep fakeReply
	switch {
	case len(script) == 0:
		rep = fault(400, "InvalidAction", "no scripted reply for "+action)
	case len(script) == 1:
		rep = script[0]
	default:
		rep, f.replies[action] = script[0], script[1:]
	}
	f.mu.Unlock()
	w.Header().Set("Date", f.date.Format(http.TimeFormat))
	w.Header().Set("x-amzn-RequestId", fmt.Sprintf("req-%d", len(f.calls)))
	if strings.HasPrefix(rep.Body, "{") {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	} else {
		w.Header().Set("Content-Type", "text/xml")
	}
	w.WriteHeader(rep.Status)
	_, _ = io.WriteString(w, rep.Body)
}

// scopeRegion reads the region from "Credential=AK/date/region/service/aws4_request".
func scopeRegion(auth string) string {
	_, scope, found := strings.Cut(auth, "Credential=")
	if !found {
		return ""
	}
	parts := strings.Split(scope, "/")
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}

func (f *fakeAWS) callsOf(action string) []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeCall
	for _, c := range f.calls {
		if c.Action == action {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeAWS) lastCall(action string) fakeCall {
	calls := f.callsOf(action)
	if len(calls) == 0 {
		f.t.Fatalf("no %s call was made", action)
	}
	return calls[len(calls)-1]
}
