package rdssim

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
)

// The data plane (Options.DataPlane): every postgres, mysql and mariadb instance that is not an
// Aurora or cluster member is a real server (internal/dataplane), reached through a proxy on
// its endpoint address, a loopback address derived from the region and identifier. The hooks
// here are called by the control plane:
//
//   - setInstanceStatus calls dataStatus, which waits for the instance's pending server work
//     before any status that accepts connections (so an instance is never "available" before
//     its server accepts connections), restarts the server on "rebooting", stops it on
//     "deleting", and opens or closes the endpoint's proxy for the new status;
//   - CreateDBInstance, RestoreDBInstanceFromDBSnapshot, CreateDBInstanceReadReplica and
//     PromoteReadReplica start their server work in the background;
//   - CreateDBSnapshot, the final snapshot of DeleteDBInstance and the automated snapshot take a
//     backup before they return, so a snapshot holds every transaction committed before the
//     call; CopyDBSnapshot copies it.
//
// Virtual durations are unchanged; real work only delays the answers that depend on it. See
// docs/data-plane.md.

// dataState is the simulator's data plane; nil when Options.DataPlane is off.
type dataState struct {
	m    *dataplane.Manager
	err  error  // the manager could not start
	salt string // makes this simulator's addresses differ from other simulators' on the host

	nodes   map[*instance]*dataNode
	backups map[*snapshot]*dataplane.Backup
	proxies map[string]*dataplane.Proxy // by host:port
	ips     map[string]string           // region/identifier -> loopback address
	owners  map[string]string           // loopback address -> region/identifier
}

// dataNode is the server of one instance.
type dataNode struct {
	srv   *dataplane.Server
	work  chan struct{} // closed when the pending server work ends; nil when none
	err   error         // the last server work failed
	proxy *dataplane.Proxy
}

// idle reports whether the node has no server work in flight (and forgets finished work).
func (n *dataNode) idle() bool {
	if n.work == nil {
		return true
	}
	select {
	case <-n.work:
		n.work = nil
		return true
	default:
		return false
	}
}

// dataFailure returns " (<server error>)" when the instance's server work failed, else "".
func (s *Sim) dataFailure(i *instance) string {
	if s.data == nil {
		return ""
	}
	if n := s.data.nodes[i]; n != nil && n.idle() && n.err != nil {
		return " (" + oneLine(n.err.Error()) + ")"
	}
	return ""
}

// oneLine squeezes a server error into one line of at most 300 characters for an event.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// randomPassword stands in for a password the simulator is not told (a managed master
// password lives in Secrets Manager, which is not simulated).
func randomPassword() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newDataState() *dataState {
	d := &dataState{salt: randomPassword()}
	d.m, d.err = dataplane.NewManager()
	d.clear()
	return d
}

func (d *dataState) clear() {
	d.nodes = map[*instance]*dataNode{}
	d.backups = map[*snapshot]*dataplane.Backup{}
	d.proxies = map[string]*dataplane.Proxy{}
	d.ips = map[string]string{}
	d.owners = map[string]string{}
}

// reset stops every server and proxy and removes their files (Reset, /_sim/reset).
func (d *dataState) reset() {
	for _, p := range d.proxies {
		p.Close()
	}
	for _, n := range d.nodes {
		if n.work != nil {
			<-n.work
		}
	}
	if d.m != nil {
		d.m.Reset()
	}
	d.clear()
}

// Close stops every data-plane server and removes the data plane's temporary root. The
// simulator is unusable for data-plane instances afterwards. Without a data plane it does
// nothing.
func (s *Sim) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data == nil {
		return nil
	}
	s.data.reset()
	if s.data.m == nil {
		return nil
	}
	return s.data.m.Close()
}

// DataRoot returns the directory that holds every data-plane server and backup ("" without a
// data plane).
func (s *Sim) DataRoot() string {
	if s.data == nil || s.data.m == nil {
		return ""
	}
	return s.data.m.Root()
}

// DataPlaneExec runs one statement on an instance's server as its administrator (rdsadmin), in
// database db. It is for what RDS lets the master user (rds_superuser) do but vanilla
// PostgreSQL 15 reserves to superusers, above all CREATE SUBSCRIPTION; a test that uses it
// stands in for that RDS privilege (docs/data-plane.md).
func (s *Sim) DataPlaneExec(ctx context.Context, region, id, db, stmt string) error {
	s.mu.Lock()
	var srv *dataplane.Server
	if r := s.regions[region]; r != nil && s.data != nil {
		if i := r.instances[strings.ToLower(id)]; i != nil {
			if n := s.dataNodeOf(i); n != nil {
				srv = n.srv
			}
		}
	}
	s.mu.Unlock()
	if srv == nil {
		return fmt.Errorf("no data-plane server for instance %s in %s", id, region)
	}
	return srv.AdminExec(ctx, db, stmt)
}

// hasData reports whether an instance is (or gets) a real server.
func (s *Sim) hasData(i *instance) bool {
	return s.data != nil && i.clusterID == "" && dataplane.EngineOf(i.cfg.Engine) != ""
}

// address returns the loopback address of an identifier in a region: 127.a.b.c from a hash of
// both and the simulator's salt, the same for the simulator's life, different for every
// identifier (and, but for a 1 in 2^24 chance per pair, from other simulators' on the host).
func (d *dataState) address(region, id string) string {
	key := region + "/" + id
	if ip, ok := d.ips[key]; ok {
		return ip
	}
	for n := 0; ; n++ {
		h := sha256.Sum256([]byte(fmt.Sprintf("%s/%s#%d", d.salt, key, n)))
		if h[0] == 0 { // keep clear of 127.0.0.0/16, where other local services listen
			continue
		}
		ip := net.IPv4(127, h[0], h[1], 2+h[2]%252).String()
		if _, taken := d.owners[ip]; !taken {
			d.ips[key], d.owners[ip] = ip, key
			return ip
		}
	}
}

// endpointAddress is the Endpoint.Address of an instance.
func (s *Sim) endpointAddress(i *instance) string {
	if s.hasData(i) {
		return s.data.address(i.r.name, i.id)
	}
	return i.r.endpoint(i.id)
}

// dataSpec builds the server spec of an instance from its settings and parameter group.
func (s *Sim) dataSpec(i *instance, password string) dataplane.Spec {
	return dataplane.Spec{Engine: dataplane.EngineOf(i.cfg.Engine), MasterUser: i.cfg.MasterUsername,
		MasterPassword: password, DBName: i.cfg.DBName, Settings: s.dataSettings(i), Binlog: dataBinlog(i)}
}

// dataBinlog reports whether a MariaDB server logs binary logs: when automated backups are on
// (RDS's rule), and on replicas, so that a replica can be the source of a cascading replica
// (RDS turns backups on for that with a restart the data plane does not model).
func dataBinlog(i *instance) bool { return i.cfg.BackupRetention > 0 || i.source != nil }

// dataSettings returns the values of the instance's parameter group that the server applies.
func (s *Sim) dataSettings(i *instance) map[string]string {
	out := map[string]string{}
	pg := groups(i.r).params[i.cfg.ParameterGroup]
	if pg == nil {
		return out
	}
	for _, x := range pg.parameters() {
		if x.ParameterValue != "" && !strings.ContainsAny(x.ParameterValue, "{(") {
			out[x.ParameterName] = x.ParameterValue
		}
	}
	if v := pg.paramValue("read_only"); v == "{TrueIfReplica}" {
		out["read_only"] = runningValue(i, v)
	}
	return out
}

// dataCheck returns the error a data-plane action fails with when the data plane cannot serve
// the instance's engine (a missing binary names its Debian package).
func (s *Sim) dataCheck(engine string) *apiError {
	if s.data.err != nil {
		return errf("InternalFailure", "%v", s.data.err)
	}
	if err := dataplane.Check(dataplane.EngineOf(engine)); err != nil {
		return errf("InternalFailure", "%v", err)
	}
	return nil
}

// dataWork runs fn in the background as the instance's pending server work; the next status
// that accepts connections waits for it.
func (s *Sim) dataWork(i *instance, fn func(n *dataNode) error) {
	n := s.data.nodes[i]
	if n == nil {
		n = &dataNode{}
		s.data.nodes[i] = n
	}
	if n.work != nil {
		<-n.work
	}
	done := make(chan struct{})
	n.work = done
	go func() {
		defer close(done)
		n.err = fn(n)
	}()
}

func dataCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Minute)
}

// dataCreate starts the server of a new instance.
func (s *Sim) dataCreate(i *instance, password string) {
	spec := s.dataSpec(i, password)
	m := s.data.m
	s.dataWork(i, func(n *dataNode) error {
		ctx, cancel := dataCtx()
		defer cancel()
		srv, err := m.Create(ctx, spec)
		n.srv = srv
		return err
	})
}

// dataRestore starts the server of a restored instance from the snapshot's backup.
func (s *Sim) dataRestore(i *instance, sn *snapshot) {
	b := s.data.backups[sn]
	spec := s.dataSpec(i, "")
	m := s.data.m
	s.dataWork(i, func(n *dataNode) error {
		if b == nil {
			return fmt.Errorf("snapshot %s holds no data", sn.id)
		}
		ctx, cancel := dataCtx()
		defer cancel()
		srv, err := m.Restore(ctx, b, spec)
		n.srv = srv
		return err
	})
}

// dataReplica starts a replica's server following its source's.
func (s *Sim) dataReplica(i, src *instance) {
	sn := s.data.nodes[src]
	spec := s.dataSpec(i, "")
	m := s.data.m
	s.dataWork(i, func(n *dataNode) error {
		if sn == nil || sn.srv == nil {
			return fmt.Errorf("source %s has no server", src.id)
		}
		ctx, cancel := dataCtx()
		defer cancel()
		srv, err := m.Replica(ctx, sn.srv, spec)
		n.srv = srv
		return err
	})
}

// dataPromote promotes a replica's server.
func (s *Sim) dataPromote(i *instance) {
	if s.data.nodes[i] == nil {
		return
	}
	s.dataWork(i, func(n *dataNode) error {
		if n.srv == nil {
			return fmt.Errorf("no server")
		}
		ctx, cancel := dataCtx()
		defer cancel()
		return n.srv.Promote(ctx)
	})
}

// connectable reports whether an instance in this status accepts connections.
func connectable(status string) bool {
	switch status {
	case statusCreating, statusRebooting, statusRenaming, statusDeleting, statusIncompatibleRest,
		statusInaccessibleCreds, "failed", "stopped", "stopping", "starting":
		return false
	}
	return true
}

// dataStatus is called by setInstanceStatus before the status changes; it returns the status
// to set ("failed" when the server work failed).
func (s *Sim) dataStatus(i *instance, status string) string {
	if !s.hasData(i) {
		return status
	}
	n := s.data.nodes[i]
	if n == nil {
		return status
	}
	switch {
	case status == statusRebooting:
		s.dataRoute(i, n, false)
		settings, binlog := s.dataSettings(i), dataBinlog(i)
		s.dataWork(i, func(n *dataNode) error {
			if n.srv == nil {
				return n.err
			}
			ctx, cancel := dataCtx()
			defer cancel()
			return n.srv.Restart(ctx, settings, binlog)
		})
		return status
	case status == statusDeleting:
		s.dataRoute(i, n, false)
		if n.work != nil {
			<-n.work
			n.work = nil
		}
		if n.srv != nil {
			n.srv.Stop()
		}
		return status
	case connectable(status):
		if n.work != nil {
			<-n.work
			n.work = nil
		}
		if n.err != nil || n.srv == nil {
			s.dataRoute(i, n, false)
			if n.err != nil {
				s.emit(s.clock.now(), i.r.name, "instance", i.id, i.rid, "data-error: "+oneLine(n.err.Error()), i.action)
			}
			return "failed"
		}
	}
	return status
}

// dataStatusSet is called by setInstanceStatus after the status changed: the endpoint answers
// exactly while the status accepts connections.
func (s *Sim) dataStatusSet(i *instance) {
	if !s.hasData(i) {
		return
	}
	if n := s.data.nodes[i]; n != nil {
		s.dataRoute(i, n, connectable(i.status) && n.idle() && n.srv != nil && n.err == nil)
	}
}

// dataRoute opens the proxy of the instance's current address to its server, or closes it.
// The proxy follows the identifier: after a rename the old address's proxy is closed.
func (s *Sim) dataRoute(i *instance, n *dataNode, open bool) {
	addr := net.JoinHostPort(s.data.address(i.r.name, i.id), strconv.Itoa(int(i.cfg.Port)))
	if n.proxy != nil && (!open || n.proxy.Addr() != addr) {
		n.proxy.Close()
		n.proxy = nil
	}
	if !open {
		return
	}
	// The server's certificate names the endpoint address before the endpoint opens, as an
	// RDS instance's certificate names its endpoint (docs/data-plane.md#tls).
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	err := n.srv.ServeAs(ctx, s.data.address(i.r.name, i.id))
	cancel()
	if err != nil {
		s.emit(s.clock.now(), i.r.name, "instance", i.id, i.rid, "endpoint-error: "+err.Error(), i.action)
		return
	}
	p := s.data.proxies[addr]
	if p == nil {
		p = dataplane.NewProxy(addr)
		s.data.proxies[addr] = p
	}
	if err := p.Open(n.srv.Addr()); err != nil {
		s.emit(s.clock.now(), i.r.name, "instance", i.id, i.rid, "endpoint-error: "+err.Error(), i.action)
		return
	}
	p.Admit(s.admits(i))
	n.proxy = p
}

// dataAdmit lets new connections through the instance's endpoint exactly while one of its
// security groups has an inbound rule for its port (refreshSessions calls it after a change).
func (s *Sim) dataAdmit(i *instance) {
	if !s.hasData(i) {
		return
	}
	if n := s.data.nodes[i]; n != nil && n.proxy != nil {
		n.proxy.Admit(s.admits(i))
	}
}

// dataRemove destroys an instance's server once the instance is gone.
func (s *Sim) dataRemove(i *instance) {
	if s.data == nil {
		return
	}
	n := s.data.nodes[i]
	if n == nil {
		return
	}
	delete(s.data.nodes, i)
	if n.work != nil {
		<-n.work
	}
	if n.proxy != nil {
		n.proxy.Close()
	}
	if n.srv != nil {
		n.srv.Destroy()
	}
}

// dataSnapshot takes the backup of a snapshot from the instance's running server. It returns
// false when the backup failed (the snapshot then ends "failed").
func (s *Sim) dataSnapshot(i *instance, sn *snapshot) bool {
	if !s.hasData(i) {
		return true
	}
	n := s.data.nodes[i]
	if n == nil {
		return true
	}
	if n.work != nil {
		<-n.work
		n.work = nil
	}
	if n.srv == nil || !n.srv.Running() {
		return false
	}
	ctx, cancel := dataCtx()
	defer cancel()
	b, err := n.srv.Backup(ctx)
	if err != nil {
		s.emit(s.clock.now(), sn.r.name, "snapshot", sn.id, sn.arn(s), "data-error: "+err.Error(), sn.action)
		return false
	}
	s.data.backups[sn] = b
	return true
}

// dataCopySnapshot copies a snapshot's backup to its copy.
func (s *Sim) dataCopySnapshot(src, dst *snapshot) bool {
	if s.data == nil {
		return true
	}
	b := s.data.backups[src]
	if b == nil {
		return true
	}
	c, err := b.Copy(s.data.m)
	if err != nil {
		return false
	}
	s.data.backups[dst] = c
	return true
}

// dataDropSnapshot removes a deleted snapshot's backup.
func (s *Sim) dataDropSnapshot(sn *snapshot) {
	if s.data == nil {
		return
	}
	if b := s.data.backups[sn]; b != nil {
		b.Remove()
		delete(s.data.backups, sn)
	}
}

// dataApplyGroup applies a modified parameter group to the running servers of the instances
// that use it: dynamic parameters with ApplyMethod immediate at once, the others at the next
// reboot, with ParameterApplyStatus pending-reboot in between.
func (s *Sim) dataApplyGroup(r *region, pg *paramGroup, immediate map[string]string, pendingReboot bool) {
	if s.data == nil {
		return
	}
	for _, i := range sortedInstances(r) {
		n := s.data.nodes[i]
		if n == nil || i.cfg.ParameterGroup != pg.name {
			continue
		}
		if pendingReboot {
			i.paramApply = "pending-reboot"
		}
		if len(immediate) > 0 && n.idle() && n.srv != nil {
			values := make(map[string]string, len(immediate))
			for k, v := range immediate {
				values[k] = runningValue(i, v)
			}
			ctx, cancel := dataCtx()
			if err := n.srv.ApplyDynamic(ctx, values); err != nil {
				s.emit(s.clock.now(), r.name, "instance", i.id, i.rid, "parameter-error: "+err.Error(), "ModifyDBParameterGroup")
			}
			cancel()
		}
	}
}

// dataSetPassword changes the master user's password on the instance's server (a
// MasterUserPassword modify, or RDS creating or rotating the managed secret). It returns once
// the server has it (one quick statement): the secret and the server never disagree.
func (s *Sim) dataSetPassword(i *instance, password string) {
	if !s.hasData(i) || s.data.nodes[i] == nil {
		return
	}
	user := i.cfg.MasterUsername
	s.dataWork(i, func(n *dataNode) error {
		if n.srv == nil {
			return fmt.Errorf("no server")
		}
		ctx, cancel := dataCtx()
		defer cancel()
		return n.srv.SetPassword(ctx, user, password)
	})
	<-s.data.nodes[i].work
}
