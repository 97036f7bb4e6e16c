package rdssim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Control endpoints (JSON), for tests and tools that drive the simulator over HTTP:
//
//	GET  /_sim/health                 {"status":"ok","time":...}
//	POST /_sim/reset                  drop everything, restart the clock
//	POST /_sim/advance?seconds=N      move the virtual clock forward
//	GET  /_sim/events                 every state change so far ([]Event)
//	GET  /_sim/stats                  {"calls":{"<Action>":n},"throttled":n}
//	POST /_sim/faults                 install faults (FaultRequest); DELETE clears them
//	POST /_sim/policy                 enforce an IAM policy document (policy.go); DELETE stops
//
// Every control is also a method on *Sim.

// FaultRequest is the body of POST /_sim/faults. Every member is optional.
type FaultRequest struct {
	Throttle     *Throttle      `json:"throttle,omitempty"`
	FailCalls    []CallFailure  `json:"fail_calls,omitempty"`
	FailSnapshot []ResourceRef  `json:"fail_snapshot,omitempty"` // next snapshot/copy with this id ends "failed"
	FailRestore  []ResourceRef  `json:"fail_restore,omitempty"`  // next restore into this id ends "incompatible-restore"
	DisableKeys  []KeyDisableAt `json:"disable_keys,omitempty"`
}

// ResourceRef names a resource of a region.
type ResourceRef struct {
	Region string `json:"region"`
	ID     string `json:"id"`
}

// KeyDisableAt disables a KMS key at a virtual time (At) or after AfterSeconds of virtual time.
// With OnCopy, AfterSeconds counts from the moment the next CopyDBSnapshot that encrypts with
// the key is accepted: the disable is scheduled in the same step as the copy, so it lands
// while the copy runs however slowly the caller reacts. OnRestore does the same from the next
// restore (RestoreDBInstanceFromDBSnapshot or RestoreDBClusterFromSnapshot) whose new resource
// is encrypted with the key.
type KeyDisableAt struct {
	Region       string    `json:"region"`
	KeyID        string    `json:"key_id"`
	At           time.Time `json:"at,omitempty"`
	AfterSeconds float64   `json:"after_seconds,omitempty"`
	OnCopy       bool      `json:"on_copy,omitempty"`
	OnRestore    bool      `json:"on_restore,omitempty"`
}

// Stats is the body of GET /_sim/stats.
type Stats struct {
	Calls     map[string]int `json:"calls"`
	Throttled int            `json:"throttled"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Sim) serveControl(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Date", s.Now().Format(http.TimeFormat))
	bad := func(msg string) { writeJSON(w, http.StatusBadRequest, map[string]string{"error": msg}) }
	switch req.URL.Path {
	case "/_sim/health":
		writeJSON(w, 200, map[string]any{"status": "ok", "time": s.Now()})
	case "/_sim/reset":
		if req.Method != http.MethodPost {
			bad("use POST")
			return
		}
		s.Reset()
		writeJSON(w, 200, map[string]any{"status": "reset", "time": s.Now()})
	case "/_sim/advance":
		if req.Method != http.MethodPost {
			bad("use POST")
			return
		}
		secs, err := strconv.ParseFloat(req.URL.Query().Get("seconds"), 64)
		if err != nil || secs < 0 {
			bad("seconds must be a non-negative number")
			return
		}
		s.Advance(time.Duration(secs * float64(time.Second)))
		writeJSON(w, 200, map[string]any{"time": s.Now()})
	case "/_sim/events":
		ev := s.Events()
		if ev == nil {
			ev = []Event{}
		}
		writeJSON(w, 200, ev)
	case "/_sim/stats":
		writeJSON(w, 200, Stats{Calls: s.Calls(), Throttled: s.Throttled()})
	case "/_sim/workload", "/_sim/hold-session", "/_sim/connect":
		s.serveClientControl(w, req)
	case "/_sim/policy":
		s.servePolicyControl(w, req)
	case "/_sim/attach":
		var a struct {
			Region string `json:"Region"`
			Attachment
		}
		if req.Method != http.MethodPost {
			bad("use POST")
			return
		}
		if err := json.NewDecoder(req.Body).Decode(&a); err != nil {
			bad("invalid JSON: " + err.Error())
			return
		}
		if err := s.Attach(s.regionOrDefault(a.Region), a.Attachment); err != nil {
			bad(err.Error())
			return
		}
		writeJSON(w, 200, map[string]string{"status": "ok"})
	case "/_sim/faults":
		switch req.Method {
		case http.MethodDelete:
			s.ClearFaults()
			writeJSON(w, 200, map[string]string{"status": "cleared"})
		case http.MethodPost:
			var fr FaultRequest
			if err := json.NewDecoder(req.Body).Decode(&fr); err != nil {
				bad("invalid JSON: " + err.Error())
				return
			}
			if err := s.ApplyFaults(fr); err != nil {
				bad(err.Error())
				return
			}
			writeJSON(w, 200, map[string]string{"status": "ok"})
		default:
			bad("use POST or DELETE")
		}
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown control endpoint " + req.URL.Path})
	}
}

// ApplyFaults installs every fault of a FaultRequest.
func (s *Sim) ApplyFaults(fr FaultRequest) error {
	if fr.Throttle != nil {
		s.SetThrottle(fr.Throttle)
	}
	for _, f := range fr.FailCalls {
		if err := s.InjectFailure(f); err != nil {
			return err
		}
	}
	for _, f := range fr.FailSnapshot {
		s.FailNextSnapshot(s.regionOrDefault(f.Region), f.ID)
	}
	for _, f := range fr.FailRestore {
		s.FailNextRestore(s.regionOrDefault(f.Region), f.ID)
	}
	for _, k := range fr.DisableKeys {
		if k.OnCopy && k.OnRestore {
			return fmt.Errorf("rdssim: disable_keys %s: on_copy and on_restore are exclusive", k.KeyID)
		}
		if k.OnCopy || k.OnRestore {
			use := KeyUseCopy
			if k.OnRestore {
				use = KeyUseRestore
			}
			if err := s.DisableKeyOnUse(s.regionOrDefault(k.Region), k.KeyID, use, time.Duration(k.AfterSeconds*float64(time.Second))); err != nil {
				return err
			}
			continue
		}
		at := k.At
		if at.IsZero() {
			at = s.Now().Add(time.Duration(k.AfterSeconds * float64(time.Second)))
		}
		if err := s.DisableKeyAt(s.regionOrDefault(k.Region), k.KeyID, at); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sim) regionOrDefault(r string) string {
	if r == "" {
		return s.opts.Regions[0]
	}
	return r
}
