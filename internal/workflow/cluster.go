package workflow

import (
	"context"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// clusterSource is everything the preflight of a cluster migration describes.
type clusterSource struct {
	cluster   *model.Cluster
	members   map[string]*model.Instance
	endpoints []model.ClusterEndpoint
	key       *model.Key
	// subscriptions are the event subscriptions that list the cluster (attachments.go).
	subscriptions []string
}

// planCluster describes the migration of an Aurora cluster. It makes no mutating call.
func (e *Engine) planCluster(ctx context.Context, api model.RDS, req MigrateRequest) (*Plan, error) {
	cs, err := e.inspectCluster(ctx, api, req)
	if err != nil {
		return nil, err
	}
	freeze, note, err := e.chooseClusterFreeze(req.Options, cs.cluster.ID, cs.members)
	if err != nil {
		return nil, err
	}
	p := buildClusterPlan(clusterPlanInput{src: cs.cluster, members: cs.members, key: cs.key,
		journal: newClusterJournal(cs.cluster, cs.members, cs.endpoints), freeze: freeze, freezeNote: note, subscriptions: cs.subscriptions})
	if err := checkSnapshotQuota(ctx, api, p, planCommand(KindCluster, cs.cluster.ID, req.KmsKey)); err != nil { // preflight_rules.go
		return nil, err
	}
	return p, nil
}

// migrateCluster runs a new migration of an Aurora cluster from preflight to verify.
func (e *Engine) migrateCluster(ctx context.Context, api model.RDS, req MigrateRequest) (*Report, error) {
	cs, err := e.inspectCluster(ctx, api, req)
	if err != nil {
		return nil, err
	}
	id, release, err := e.newMigrationID(cs.cluster.Region, cs.cluster.ID, "DB cluster")
	if err != nil {
		return nil, err
	}
	defer release()
	if err := e.refuseOtherMigrations(ctx, api, KindCluster, cs.cluster.ID, id); err != nil {
		return nil, err
	}
	j := newClusterJournal(cs.cluster, cs.members, cs.endpoints)
	if err := checkClusterNamesFree(ctx, api, ClusterNamesFor(id, cs.cluster.ID), j); err != nil {
		return nil, err
	}
	freeze, note, err := e.chooseClusterFreeze(req.Options, cs.cluster.ID, cs.members)
	if err != nil {
		return nil, err
	}
	plan := buildClusterPlan(clusterPlanInput{id: id, src: cs.cluster, members: cs.members, key: cs.key, journal: j,
		freeze: freeze, freezeNote: note, subscriptions: cs.subscriptions})
	if err := checkSnapshotQuota(ctx, api, plan, planCommand(KindCluster, cs.cluster.ID, req.KmsKey)); err != nil { // preflight_rules.go
		return nil, err
	}
	st := newState(plan, req)
	st.Options.Freeze = plan.Freeze
	st.Where = e.Where
	st.SourceARN, st.SourceRID, st.SourceAddr = cs.cluster.ARN, cs.cluster.ResourceID, cs.cluster.Endpoint
	st.Cluster = j
	return e.start(ctx, plan, st, func(r *run) {
		r.cluster, r.key = &clusterRun{src: cs.cluster, members: cs.members}, cs.key
		r.clusterNames()
	})
}

// inspectCluster reads the source cluster, its members, its custom endpoints and the key, and
// checks everything that would make the migration fail later.
func (e *Engine) inspectCluster(ctx context.Context, api model.RDS, req MigrateRequest) (*clusterSource, error) {
	region := api.Region()
	cl, err := api.DescribeCluster(ctx, req.Source)
	if err != nil {
		if model.IsNotFound(err) {
			next := "check the identifier and --region; `rdsencrypt scan --region " + region + "` lists the databases"
			if _, ierr := api.DescribeInstance(ctx, req.Source); ierr == nil {
				next = "it is a DB instance: rdsencrypt migrate --db " + req.Source + " --kms-key " + req.KmsKey
			}
			return nil, errorf(req.Source, next, nil, "DB cluster %q not found in %s", req.Source, region)
		}
		return nil, errorf(req.Source, "check credentials and --region, then retry", err, "cannot describe DB cluster %s", req.Source)
	}
	retry := planCommand(KindCluster, cl.ID, req.KmsKey)
	if cl.GlobalClusterID != "" {
		return nil, errorf(cl.ID, "detach it with RemoveFromGlobalCluster and migrate it on its own (then build a new global database from it), or re-create the global database by hand", nil,
			"DB cluster %s belongs to global database %s, which rdsencrypt does not migrate", cl.ID, cl.GlobalClusterID)
	}
	if cl.ReplicationSource != "" {
		return nil, errorf(cl.ID, "migrate its source cluster, then re-create this replica from the encrypted cluster; or promote it (PromoteReadReplicaDBCluster) and migrate it on its own", nil,
			"DB cluster %s is a cross-region read replica of %s, which cannot be migrated on its own", cl.ID, cl.ReplicationSource)
	}
	if !strings.HasPrefix(cl.Settings.Engine, "aurora-") {
		return nil, errorf(cl.ID, "encrypt it by hand: create-db-cluster-snapshot, copy-db-cluster-snapshot --kms-key-id "+req.KmsKey+", restore-db-cluster-from-snapshot --db-cluster-instance-class, then move the endpoints (rdsencrypt migrates Aurora MySQL and Aurora PostgreSQL clusters only)", nil,
			"DB cluster %s runs %s: a Multi-AZ DB cluster, not aurora-mysql or aurora-postgresql", cl.ID, cl.Settings.Engine)
	}
	if m := cl.Settings.EngineMode; m != "" && m != "provisioned" {
		return nil, errorf(cl.ID, "move it to provisioned or Aurora Serverless v2 first, then "+retry, nil,
			"DB cluster %s uses engine mode %s; only provisioned clusters (including Serverless v2) are migrated", cl.ID, m)
	}
	if cl.Status != model.StatusAvailable {
		return nil, errorf(cl.ID, "wait until it is available, then: "+retry, nil, "DB cluster %s is %q, not available", cl.ID, cl.Status)
	}
	if err := checkEngineVersionOffered(ctx, api, cl.ID, cl.Settings.Engine, cl.Settings.EngineVersion, retry); err != nil { // preflight_rules.go
		return nil, err
	}
	members := map[string]*model.Instance{}
	for _, m := range cl.Members {
		inst, err := api.DescribeInstance(ctx, m.InstanceID)
		if err != nil {
			return nil, errorf(m.InstanceID, "retry: "+retry, err, "cannot describe member %s of cluster %s", m.InstanceID, cl.ID)
		}
		if inst.Status != model.StatusAvailable || inst.PendingRename != "" {
			return nil, errorf(inst.ID, "wait until it is available, then: "+retry, nil,
				"member %s of cluster %s is %q, not available", inst.ID, cl.ID, inst.Status)
		}
		members[m.InstanceID] = inst
	}
	eps, err := api.ListClusterEndpoints(ctx, cl.ID)
	if err != nil {
		return nil, errorf(cl.ID, "check rds:DescribeDBClusterEndpoints permission, then retry", err, "cannot list the custom endpoints of %s", cl.ID)
	}
	for _, ep := range eps {
		if ep.Status != model.EndpointAvailable {
			return nil, errorf(ep.ID, "wait until it is available, then: "+retry, nil, "custom endpoint %s of cluster %s is %q, not available", ep.ID, cl.ID, ep.Status)
		}
	}
	key, err := describeUsableKey(ctx, api, req.KmsKey, region)
	if err != nil {
		return nil, err
	}
	subscriptions, err := checkAttachments(ctx, api, cl.ID, cl.ARN, true, cl.ActivityStreamStatus, nil, cl.ReplicaClusters, retry) // attachments.go
	if err != nil {
		return nil, err
	}
	return &clusterSource{cluster: cl, members: members, endpoints: eps, key: key, subscriptions: subscriptions}, nil
}

// checkClusterNamesFree makes sure no resource already uses a name the migration will create.
func checkClusterNamesFree(ctx context.Context, api model.RDS, n ClusterNames, j *ClusterJournal) error {
	taken := func(kind, id string) error {
		return errorf(id, "rename or delete it, then retry", nil, "%s name %s, needed by the migration, is taken", kind, id)
	}
	cannotCheck := func(id string, err error) error {
		return errorf(id, "fix the cause (credentials, permissions), then retry", err, "cannot check that name %s is free", id)
	}
	for _, id := range []string{n.Target, n.Retired} {
		if _, err := api.DescribeCluster(ctx, id); err == nil {
			return taken("DB cluster", id)
		} else if !model.IsNotFound(err) {
			return cannotCheck(id, err)
		}
	}
	for _, m := range j.Members {
		for _, id := range []string{n.MemberTarget(m.ID), n.MemberRetired(m.ID)} {
			if _, err := api.DescribeInstance(ctx, id); err == nil {
				return taken("DB instance", id)
			} else if !model.IsNotFound(err) {
				return cannotCheck(id, err)
			}
		}
	}
	for _, id := range []string{n.Snapshot, n.FinalSnapshot, n.RollbackSnapshot} {
		if _, err := api.DescribeClusterSnapshot(ctx, id); err == nil {
			return taken("DB cluster snapshot", id)
		} else if !model.IsNotFound(err) {
			return cannotCheck(id, err)
		}
	}
	if len(j.Endpoints) > 0 {
		all, err := api.ListClusters(ctx)
		if err != nil {
			return err
		}
		for _, c := range all {
			eps, err := api.ListClusterEndpoints(ctx, c.ID)
			if err != nil {
				return err
			}
			for _, ep := range eps {
				for _, want := range j.Endpoints {
					if ep.ID == n.TempEndpoint(want.ID) {
						return taken("custom endpoint", ep.ID)
					}
				}
			}
		}
	}
	return nil
}
