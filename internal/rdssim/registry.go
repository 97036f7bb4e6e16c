package rdssim

import (
	"net/http"
	"time"
)

// call is the context of one API request. Handlers run with Sim.mu held and the simulator
// settled at now.
type call struct {
	sim    *Sim
	r      *region
	now    time.Time
	action string
	p      *params // RDS form parameters (nil for KMS)
	body   []byte  // KMS JSON body (nil for RDS)
	req    *http.Request
	// checks are the IAM checks of an EC2 or CloudWatch call (nil for RDS and KMS, whose
	// checks come from their parameters), denyCode the error code of a refusal.
	checks   []authzCheck
	denyCode string
}

// rdsHandler handles one RDS action. The returned value is XML-encoded as the <ActionResult>
// element (nil gives an empty one). An *apiError becomes an ErrorResponse.
type rdsHandler func(c *call) (any, error)

// kmsHandler handles one KMS operation. The returned value is JSON-encoded as the body.
type kmsHandler func(c *call) (any, error)

var (
	rdsHandlers = map[string]rdsHandler{}
	kmsHandlers = map[string]kmsHandler{}
	// resetHooks run for every region when the simulator is created or reset, after the
	// region's AWS-managed keys exist.
	resetHooks []func(s *Sim, r *region)
)

// registerRDS installs the handler of an RDS action. Called from init functions.
func registerRDS(action string, h rdsHandler) {
	if _, dup := rdsHandlers[action]; dup {
		panic("rdssim: duplicate RDS action " + action)
	}
	rdsHandlers[action] = h
}

// registerKMS installs the handler of a KMS operation (name without "TrentService.").
func registerKMS(op string, h kmsHandler) {
	if _, dup := kmsHandlers[op]; dup {
		panic("rdssim: duplicate KMS operation " + op)
	}
	kmsHandlers[op] = h
}

// onReset registers a per-region seeding hook.
func onReset(h func(s *Sim, r *region)) { resetHooks = append(resetHooks, h) }

// Actions returns the names of the RDS actions the simulator implements.
func Actions() []string {
	out := make([]string, 0, len(rdsHandlers))
	for a := range rdsHandlers {
		out = append(out, a)
	}
	return out
}
