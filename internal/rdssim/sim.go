package rdssim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures a simulator. Zero values select the defaults.
type Options struct {
	// Speed is virtual seconds per real second (default 1). Tests use 10000 and more, or
	// ManualClock with Advance.
	Speed float64
	// Start is the virtual time at creation and after Reset (default: real now, whole seconds).
	Start time.Time
	// AccountID is the one simulated account (default 123456789012).
	AccountID string
	// Regions are the simulated regions (default us-east-1, us-west-2, eu-west-1); the first
	// one serves requests without SigV4 credentials.
	Regions []string
	// Durations overrides the default DurationModel.
	Durations *DurationModel
	// ManualClock stops real time from moving the virtual clock: only Advance does.
	ManualClock bool
	// ManualSnapshotQuota is the per-region limit of manual DB snapshots (default 100).
	ManualSnapshotQuota int
	// ParameterGroupQuota is the per-region limit of custom DB parameter groups (default
	// 100).
	ParameterGroupQuota int
	// DataPlane makes every postgres, mysql and mariadb DB instance a real PostgreSQL or
	// MariaDB server reached at its endpoint (dataplane.go, docs/data-plane.md). Call Close
	// when done.
	DataPlane bool
}

// Sim is the simulator. It implements http.Handler; every method is safe for concurrent use.
type Sim struct {
	mu      sync.Mutex
	held    holds // HoldCalls
	opts    Options
	account string
	dur     DurationModel
	clock   *clock

	regions map[string]*region
	ids     *idGen
	sched   scheduler
	events  []Event
	calls   map[string]int
	faults  faultState
	reqSeq  uint64
	policy  *iamPolicy  // IAM policy in force (policy.go), nil when not enforcing
	data    *dataState  // the data plane (dataplane.go), nil when Options.DataPlane is off
	clients clientModel // who connects to the instances (workload.go)
	// retiredVersions are the engine versions AWS no longer offers (engine_versions.go).
	retiredVersions map[string]bool
}

// New creates a simulator.
func New(opts Options) *Sim {
	if opts.Speed <= 0 {
		opts.Speed = 1
	}
	if opts.Start.IsZero() {
		opts.Start = time.Now().UTC().Truncate(time.Second)
	}
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	if len(opts.Regions) == 0 {
		opts.Regions = []string{"us-east-1", "us-west-2", "eu-west-1"}
	}
	if opts.ManualSnapshotQuota <= 0 {
		opts.ManualSnapshotQuota = 100
	}
	if opts.ParameterGroupQuota <= 0 {
		opts.ParameterGroupQuota = 100
	}
	s := &Sim{opts: opts, account: opts.AccountID, dur: DefaultDurations(), clients: modelledClients{}}
	if opts.DataPlane {
		s.data = newDataState()
	}
	if opts.Durations != nil {
		s.dur = *opts.Durations
	}
	s.mu.Lock()
	s.resetLocked()
	s.mu.Unlock()
	return s
}

func (s *Sim) resetLocked() {
	if s.data != nil {
		s.data.reset()
	}
	s.clock = newClock(s.opts.Start, s.opts.Speed, s.opts.ManualClock)
	s.ids = newIDGen(1)
	s.sched = scheduler{}
	s.events = nil
	s.calls = map[string]int{}
	s.faults = newFaultState()
	s.policy = nil
	s.retiredVersions = nil
	s.regions = map[string]*region{}
	now := s.clock.now()
	for _, name := range s.opts.Regions {
		r := s.newRegion(name)
		s.regions[name] = r
		s.seedManagedKeys(r, now)
		for _, h := range resetHooks {
			h(s, r)
		}
	}
}

// Reset drops every resource, event, counter and fault, and restarts the virtual clock.
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

// Now returns the current virtual time.
func (s *Sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock.now()
}

// Advance moves the virtual clock forward by d and applies every state change now due.
func (s *Sim) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock.advance(d)
	s.settle(s.clock.now())
}

// AccountID returns the simulated account id.
func (s *Sim) AccountID() string { return s.account }

// Regions returns the simulated regions, the default one first.
func (s *Sim) Regions() []string { return append([]string(nil), s.opts.Regions...) }

// Calls returns how many requests each action received (RDS actions and KMS operations,
// successful or not, throttled attempts included).
func (s *Sim) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// Durations returns the duration model in use.
func (s *Sim) Durations() DurationModel { return s.dur }

// response is a fully rendered HTTP response, built under the lock and written after it.
type response struct {
	status int
	ctype  string
	body   []byte
	date   time.Time
	reqID  string
	// queryError is the X-Amzn-Query-Error header of a CloudWatch error.
	queryError string
}

func (s *Sim) nextRequestID() string {
	s.reqSeq++
	return fmt.Sprintf("%08x-5151-4d1a-9e1d-%012x", uint32(s.clock.start.Unix()), s.reqSeq)
}

// ServeHTTP serves the RDS Query API, the KMS and Secrets Manager JSON APIs, the EC2 and
// CloudWatch calls, and the /_sim/ control endpoints.
func (s *Sim) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	isKMS := strings.HasPrefix(req.Header.Get("X-Amz-Target"), "TrentService.")
	isJSON := isKMS || isSecretsManager(req)
	defer func() {
		if v := recover(); v != nil {
			e := errf("InternalFailure", "internal error: %v", v)
			if isJSON {
				e = &apiError{Code: "KMSInternalException", Message: e.Message, Status: 500}
				if isSecretsManager(req) {
					e.Code = "InternalServiceError"
				}
				writeResponse(w, jsonErrorResponse(e, "internal", time.Now()))
				return
			}
			writeResponse(w, &response{status: 500, ctype: "text/xml", body: rdsErrorBody("internal", e), date: time.Now()})
		}
	}()
	if strings.HasPrefix(req.URL.Path, "/_sim/") {
		s.serveControl(w, req)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 16<<20))
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	var action string // the call's action or operation, once counted (count)
	req = req.WithContext(context.WithValue(req.Context(), actionKey{}, &action))
	var resp *response
	switch {
	case isKMS:
		resp = s.serveJSON(req, body, kmsService)
	case isSecretsManager(req):
		resp = s.serveJSON(req, body, secretsService)
	case isCloudWatch(req):
		resp = s.serveCloudWatch(req, body)
	case isEC2(req, body):
		resp = s.serveEC2(req, body)
	default:
		resp = s.serveRDS(req, body)
	}
	s.holdAnswer(req, action)
	writeResponse(w, resp)
}

func writeResponse(w http.ResponseWriter, r *response) {
	h := w.Header()
	h.Set("Content-Type", r.ctype)
	h.Set("Content-Length", strconv.Itoa(len(r.body)))
	h.Set("x-amzn-RequestId", r.reqID)
	h.Set("Date", r.date.UTC().Format(http.TimeFormat))
	if r.ctype == "application/cbor" {
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
	}
	if r.queryError != "" {
		h.Set("X-Amzn-Query-Error", r.queryError)
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body)
}

// regionOf returns the region named by the SigV4 credential scope, or the default region for
// unsigned requests.
func (s *Sim) regionOf(req *http.Request, service string) (*region, *apiError) {
	auth := req.Header.Get("Authorization")
	if auth == "" {
		return s.regions[s.opts.Regions[0]], nil
	}
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return nil, &apiError{Code: "IncompleteSignature", Message: "Authorization header requires 'Credential' parameter.", Status: 400}
	}
	cred := auth[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return nil, &apiError{Code: "IncompleteSignature", Message: "Credential scope is malformed: " + cred, Status: 400}
	}
	if parts[3] != service {
		return nil, &apiError{Code: "SignatureDoesNotMatch",
			Message: fmt.Sprintf("Credential should be scoped to correct service: '%s'.", service), Status: 403}
	}
	r, ok := s.regions[parts[2]]
	if !ok {
		return nil, &apiError{Code: "SignatureDoesNotMatch",
			Message: fmt.Sprintf("Credential should be scoped to a valid region, not '%s'.", parts[2]), Status: 403}
	}
	return r, nil
}

func (s *Sim) serveRDS(req *http.Request, body []byte) *response {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.now()
	s.settle(now)
	resp := &response{ctype: "text/xml", date: now, reqID: s.nextRequestID()}
	fail := func(e *apiError) *response {
		resp.status = e.Status
		resp.body = rdsErrorBody(resp.reqID, e)
		return resp
	}
	if req.Method != http.MethodPost && req.Method != http.MethodGet {
		return fail(&apiError{Code: "InvalidAction", Message: "Unsupported HTTP method " + req.Method, Status: 400})
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return fail(errf("MalformedQueryString", "%v", err))
	}
	for k, v := range req.URL.Query() {
		if _, ok := form[k]; !ok {
			form[k] = v
		}
	}
	action := form.Get("Action")
	if action == "" {
		return fail(errMissing("Action"))
	}
	s.count(req, action)
	if e := s.faults.beforeCall(action, true); e != nil {
		return fail(e)
	}
	h, ok := rdsHandlers[action]
	if !ok {
		return fail(&apiError{Code: "InvalidAction",
			Message: fmt.Sprintf("The action %s is not valid for this web service.", action), Status: 400})
	}
	switch v := form.Get("Version"); v {
	case "2014-10-31":
	case "":
		return fail(errMissing("Version"))
	default:
		return fail(errInvalidValue("Invalid API version %s", v))
	}
	r, aerr := s.regionOf(req, "rds")
	if aerr != nil {
		return fail(aerr)
	}
	c := &call{sim: s, r: r, now: now, action: action, p: newParams(form), req: req}
	if e := s.authorize(c); e != nil {
		return fail(e)
	}
	result, herr := h(c)
	if herr != nil {
		var ae *apiError
		if !errors.As(herr, &ae) {
			ae = errf("InternalFailure", "%v", herr)
		}
		return fail(ae)
	}
	out, err := rdsResultBody(action, resp.reqID, result)
	if err != nil {
		return fail(errf("InternalFailure", "encoding response: %v", err))
	}
	resp.status = http.StatusOK
	resp.body = out
	return resp
}

// jsonErrorResponse is an error in the awsJson1_1 protocol, which KMS and Secrets Manager share.
func jsonErrorResponse(e *apiError, reqID string, date time.Time) *response {
	body, _ := json.Marshal(map[string]string{"__type": e.Code, "message": e.Message})
	return &response{status: e.Status, ctype: "application/x-amz-json-1.1", body: body, date: date, reqID: reqID}
}

// jsonService is a service of the awsJson1_1 protocol, which KMS and Secrets Manager share:
// the operation is named by the X-Amz-Target header, the request and answer are JSON.
type jsonService struct {
	target   string // X-Amz-Target prefix of the operations
	signing  string // the SigV4 service name
	internal string // the error code of an internal failure
	known    func(op string) bool
	// serve runs a known operation on the locked, settled simulator.
	serve func(c *call) (any, *apiError)
}

// serveJSON is the request handling every awsJson1_1 service shares: the lock, the clock, the
// request id, the call count and faults, the region and signature, and the JSON answer.
func (s *Sim) serveJSON(req *http.Request, body []byte, svc jsonService) *response {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.now()
	s.settle(now)
	reqID := s.nextRequestID()
	fail := func(e *apiError) *response { return jsonErrorResponse(e, reqID, now) }
	op := strings.TrimPrefix(req.Header.Get("X-Amz-Target"), svc.target)
	s.count(req, op)
	if e := s.faults.beforeCall(op, false); e != nil {
		return fail(e)
	}
	if !svc.known(op) {
		return fail(&apiError{Code: "UnknownOperationException", Message: "Unknown operation " + op, Status: 400})
	}
	r, aerr := s.regionOf(req, svc.signing)
	if aerr != nil {
		if aerr.Code == "SignatureDoesNotMatch" {
			aerr = &apiError{Code: "InvalidSignatureException", Message: aerr.Message, Status: 400}
		}
		return fail(aerr)
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	result, e := svc.serve(&call{sim: s, r: r, now: now, action: op, body: body, req: req})
	if e != nil {
		return fail(e)
	}
	if result == nil {
		result = struct{}{}
	}
	out, err := json.Marshal(result)
	if err != nil {
		return fail(&apiError{Code: svc.internal, Message: err.Error(), Status: 500})
	}
	return &response{status: 200, ctype: "application/x-amz-json-1.1", body: out, date: now, reqID: reqID}
}

// kmsService is KMS over awsJson1_1.
var kmsService = jsonService{target: "TrentService.", signing: "kms", internal: "KMSInternalException",
	known: func(op string) bool { _, ok := kmsHandlers[op]; return ok },
	serve: func(c *call) (any, *apiError) {
		if e := c.sim.authorize(c); e != nil {
			return nil, e
		}
		result, herr := kmsHandlers[c.action](c)
		if herr != nil {
			var ae *apiError
			if !errors.As(herr, &ae) {
				ae = &apiError{Code: "KMSInternalException", Message: herr.Error(), Status: 500}
			}
			return nil, ae
		}
		return result, nil
	}}
