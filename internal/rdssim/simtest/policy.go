package simtest

import (
	"encoding/json"
	"net/http"
)

// EnforcePolicy makes the simulator evaluate every RDS and KMS request against the IAM
// policy document doc (see rdssim.Sim.EnforcePolicy); nil stops enforcement.
func (h *Harness) EnforcePolicy(doc []byte) {
	h.t.Helper()
	if h.Sim != nil {
		if err := h.Sim.EnforcePolicy(doc); err != nil {
			h.t.Fatalf("simtest: policy: %v", err)
		}
		return
	}
	if len(doc) == 0 {
		h.control(http.MethodDelete, "/_sim/policy", nil, nil)
		return
	}
	h.control(http.MethodPost, "/_sim/policy", json.RawMessage(doc), nil)
}
