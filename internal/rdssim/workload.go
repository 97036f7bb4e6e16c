package rdssim

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

// The application side of a simulated instance: the clients that connect to it, the writes
// they make, and what that costs the next incremental snapshot or copy.
//
// Clients reach an instance by its endpoint name, so a Workload belongs to an identifier, not
// to an instance: after a cutover the clients of "orders" connect to whichever instance answers
// as "orders" now. A client opens a session when the instance accepts connections (not while it
// is created, rebooted, renamed or deleted) and one of its VPC security groups has an inbound
// rule (ec2.go). Security groups are stateful: replacing them keeps the sessions that are open;
// a reboot (RebootDBInstance, or the reboot of a rename) ends them (RDS user guide, "Rebooting
// a DB instance"; "Controlling access with security groups").
//
// Data changes while the clients hold sessions, at Workload.ChangeGiBPerHour; every instance
// keeps the running total of GiB written (written), and a snapshot records it, so the cost of
// an incremental snapshot or copy is the difference between two totals.

// Workload is the application load on an instance identifier.
type Workload struct {
	// Clients is how many sessions the application keeps open while it can connect.
	Clients int `json:"Clients"`
	// ChangeGiBPerHour is the data the application changes per hour while connected.
	ChangeGiBPerHour float64 `json:"ChangeGiBPerHour"`
	// WriteIOPS is the WriteIOPS metric while connected.
	WriteIOPS float64 `json:"WriteIOPS"`
}

// clientModel tells how many client sessions an instance has. The modelled population below
// is the default; a data plane with real database servers can replace it (Sim.clients).
type clientModel interface {
	// sessions returns the number of sessions open on inst once the change at `at` (a status
	// change, new security groups, a new name) has happened; prev is the count before it.
	sessions(s *Sim, inst *instance, prev int, at time.Time) int
}

// modelledClients opens Workload.Clients sessions whenever the instance accepts and admits
// connections, keeps open sessions across security group changes, and loses them all when
// the instance stops accepting connections.
type modelledClients struct{}

func (modelledClients) sessions(s *Sim, inst *instance, prev int, at time.Time) int {
	if !acceptsConnections(inst) {
		return 0
	}
	w := workloads(inst.r)[inst.id]
	if s.admits(inst) {
		return w.Clients
	}
	return min(prev, w.Clients)
}

// acceptsConnections reports whether the database engine of inst is up.
func acceptsConnections(inst *instance) bool {
	if inst.gone {
		return false
	}
	switch inst.status {
	case statusCreating, statusRebooting, statusRenaming, statusDeleting, statusIncompatibleRest,
		statusInaccessibleCreds, "failed", "stopped", "stopping", "starting":
		return false
	}
	return true
}

// connState is the client side of one instance.
type connState struct {
	sessions int       // modelled (or real) sessions
	held     int       // sessions that survive reboots (a fault: HoldSession)
	rate     float64   // GiB/h changed while sessions are open
	iops     float64   // WriteIOPS while sessions are open
	since    time.Time // when sessions/rate last changed
	written  float64   // GiB written up to since
	name     string    // the identifier the metrics were last recorded under
}

func workloads(r *region) map[string]Workload {
	return *regionExt(r, "workloads", func() *map[string]Workload { m := map[string]Workload{}; return &m })
}

// writtenAt returns the GiB written to inst up to at.
func (inst *instance) writtenAt(at time.Time) float64 {
	c := &inst.conn
	if (c.sessions > 0 || c.held > 0) && at.After(c.since) {
		return c.written + c.rate*at.Sub(c.since).Hours()
	}
	return c.written
}

// refreshSessions re-evaluates the sessions of inst after a change at `at` and records the
// metrics. Callers hold s.mu.
func (s *Sim) refreshSessions(inst *instance, at time.Time) {
	c := &inst.conn
	c.written = inst.writtenAt(at)
	if c.since.IsZero() || at.After(c.since) {
		c.since = at
	}
	c.sessions = s.clients.sessions(s, inst, c.sessions, at)
	s.dataAdmit(inst)
	if inst.gone || inst.status == statusDeleting {
		c.held = 0
	}
	w := workloads(inst.r)[inst.id]
	c.rate, c.iops = w.ChangeGiBPerHour, w.WriteIOPS
	total := c.sessions + c.held
	iops, throughput := 0.0, 0.0
	if total > 0 {
		iops, throughput = c.iops, c.rate*(1<<30)/3600
	}
	if c.name != "" && c.name != inst.id {
		s.endMetrics(inst.r, c.name, at)
	}
	name := inst.id
	if inst.gone {
		name = ""
		s.endMetrics(inst.r, inst.id, at)
	} else {
		s.recordMetrics(inst.r, name, at, float64(total), iops, throughput)
	}
	c.name = name
}

// SetWorkload sets the application load on the instance identifier id of region (the default
// region when empty). It applies to whichever instance answers as id, now and after a rename.
func (s *Sim) SetWorkload(regionName, id string, w Workload) error {
	if w.Clients < 0 || w.ChangeGiBPerHour < 0 || w.WriteIOPS < 0 || math.IsNaN(w.ChangeGiBPerHour) || math.IsNaN(w.WriteIOPS) {
		return fmt.Errorf("workload: negative or invalid value")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setWorkloadLocked(regionName, id, w)
}

func (s *Sim) setWorkloadLocked(regionName, id string, w Workload) error {
	r := s.regions[s.regionOrDefault(regionName)]
	if r == nil {
		return fmt.Errorf("workload: unknown region %q", regionName)
	}
	now := s.clock.now()
	s.settle(now)
	workloads(r)[strings.ToLower(id)] = w
	if inst := r.instances[strings.ToLower(id)]; inst != nil {
		s.refreshSessions(inst, now)
	}
	return nil
}

// HoldSession opens a client session on instance id that no reboot ends (a client the control
// plane cannot disconnect, for tests of a freeze that must refuse to go on). n sessions are
// added; a negative n releases them.
func (s *Sim) HoldSession(regionName, id string, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.regions[s.regionOrDefault(regionName)]
	if r == nil {
		return fmt.Errorf("hold session: unknown region %q", regionName)
	}
	inst := r.instances[strings.ToLower(id)]
	if inst == nil {
		return fmt.Errorf("hold session: no instance %s", id)
	}
	now := s.clock.now()
	s.settle(now)
	inst.conn.written = inst.writtenAt(now)
	inst.conn.since = now
	inst.conn.held = max(0, inst.conn.held+n)
	s.refreshSessions(inst, now)
	return nil
}

// Connect is one new connection attempt by an application to the instance that answers as id:
// it fails like a TCP timeout when the instance does not accept connections or none of its
// security groups lets the client in.
func (s *Sim) Connect(regionName, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.regions[s.regionOrDefault(regionName)]
	if r == nil {
		return fmt.Errorf("connect: unknown region %q", regionName)
	}
	s.settle(s.clock.now())
	inst := r.instances[strings.ToLower(id)]
	switch {
	case inst == nil:
		return fmt.Errorf("connect %s: no such host", id)
	case !acceptsConnections(inst):
		return fmt.Errorf("connect %s: connection refused (status %s)", id, inst.status)
	case !s.admits(inst):
		return fmt.Errorf("connect %s: i/o timeout (no inbound rule in %v)", id, inst.cfg.VpcSecurityGroups)
	}
	return nil
}

// Sessions returns the client sessions open on instance id now (DatabaseConnections).
func (s *Sim) Sessions(regionName, id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.regions[s.regionOrDefault(regionName)]
	if r == nil {
		return 0
	}
	s.settle(s.clock.now())
	if inst := r.instances[strings.ToLower(id)]; inst != nil {
		return inst.conn.sessions + inst.conn.held
	}
	return 0
}

// ClientRequest is the body of the /_sim/workload, /_sim/hold-session and /_sim/connect
// control endpoints (POST).
type ClientRequest struct {
	Region   string   `json:"Region"`
	ID       string   `json:"DBInstanceIdentifier"`
	Workload Workload `json:"Workload"`
	Sessions int      `json:"Sessions"` // hold-session: sessions to add (negative: release)
}

func (s *Sim) serveClientControl(w http.ResponseWriter, req *http.Request) {
	var cr ClientRequest
	if req.Method != http.MethodPost {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "use POST"})
		return
	}
	if err := json.NewDecoder(req.Body).Decode(&cr); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON: " + err.Error()})
		return
	}
	var err error
	switch req.URL.Path {
	case "/_sim/workload":
		err = s.SetWorkload(cr.Region, cr.ID, cr.Workload)
	case "/_sim/hold-session":
		err = s.HoldSession(cr.Region, cr.ID, cr.Sessions)
	case "/_sim/connect":
		if cerr := s.Connect(cr.Region, cr.ID); cerr != nil {
			writeJSON(w, 200, map[string]string{"status": "refused", "error": cerr.Error()})
			return
		}
		writeJSON(w, 200, map[string]string{"status": "connected"})
		return
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, 200, map[string]string{"status": "ok"})
}
