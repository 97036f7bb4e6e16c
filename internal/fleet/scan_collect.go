package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/redact"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// regionFleet is what one region holds, as described.
type regionFleet struct {
	region    string
	instances []model.Instance
	clusters  []model.Cluster
}

// Scan describes every DB instance and Aurora cluster of the regions and analyses them. It
// makes read-only calls only. A region that cannot be listed is reported in Errors; the
// other regions are still scanned. kmsKey is the key named in fix commands ("" = KEY).
func Scan(ctx context.Context, e *workflow.Engine, regions []string, kmsKey string) (*ScanReport, error) {
	rep := &ScanReport{Regions: slices.Clone(regions), Resources: []ScanResource{}}
	facts := ScanFacts{Params: map[string]string{}, KeyManagers: map[string]string{}, KeyProblems: map[string]string{},
		Encrypted: map[string]bool{}, KmsKey: kmsKey}
	var fleets []regionFleet
	for _, region := range regions {
		f, err := listRegion(ctx, e, region)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			rep.Errors = append(rep.Errors, fmt.Sprintf("%s: %s", region, redact.String(err.Error())))
			rep.Unread = append(rep.Unread, region)
			continue
		}
		for _, inst := range f.instances {
			facts.Encrypted[InstanceKey(region, inst.ID)] = inst.Settings.StorageEncrypted
		}
		fleets = append(fleets, f)
	}
	for _, f := range fleets {
		api, err := e.Clients(f.region)
		if err != nil {
			return nil, err
		}
		rep.Errors = append(rep.Errors, readScanFacts(ctx, api, f, &facts)...)
		members := map[string][]model.Instance{}
		var tagged map[string]bool // read once per region, when a database is looked into
		for _, inst := range f.instances {
			if inst.ClusterID != "" {
				members[inst.ClusterID] = append(members[inst.ClusterID], inst)
				continue
			}
			res := AnalyzeInstance(inst, facts)
			if e.ChecksReplication(inst.Settings.Engine) {
				if tagged == nil {
					var problem string
					if tagged, problem = taggedMigrations(ctx, api, f); problem != "" {
						rep.Errors = append(rep.Errors, problem)
					}
				}
				lookForLeftovers(ctx, e, &inst, tagged, &res)
			}
			rep.Resources = append(rep.Resources, res)
		}
		for _, c := range f.clusters {
			rep.Resources = append(rep.Resources, AnalyzeCluster(c, members[c.ID], facts))
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	rep.Summarize()
	return rep, nil
}

func listRegion(ctx context.Context, e *workflow.Engine, region string) (regionFleet, error) {
	api, err := e.Clients(region)
	if err != nil {
		return regionFleet{}, err
	}
	insts, err := api.ListInstances(ctx)
	if err != nil {
		return regionFleet{}, fmt.Errorf("list DB instances in %s: %w", region, err)
	}
	clusters, err := api.ListClusters(ctx)
	if err != nil {
		return regionFleet{}, fmt.Errorf("list DB clusters in %s: %w", region, err)
	}
	return regionFleet{region: region, instances: insts, clusters: clusters}, nil
}

// readScanFacts reads the TLS parameter of every parameter group in use and the manager of
// every KMS key in use, once each. A fact that cannot be read stays unknown.
func readScanFacts(ctx context.Context, api model.RDS, f regionFleet, facts *ScanFacts) []string {
	var problems []string
	param := func(group, engine string, cluster bool) {
		name, inCluster := TLSParameter(engine)
		if group == "" || name == "" || inCluster != cluster {
			return
		}
		k := ParamKey(f.region, group, name)
		if _, done := facts.Params[k]; done {
			return
		}
		var v string
		var err error
		if cluster {
			v, err = api.ClusterParameterValue(ctx, group, name)
		} else {
			var p model.Parameter
			p, err = api.Parameter(ctx, group, name)
			v = p.Value
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: parameter %s of group %s: %s", f.region, name, group, redact.String(err.Error())))
			return
		}
		facts.Params[k] = v
	}
	key := func(arn string) {
		if arn == "" {
			return
		}
		if _, done := facts.KeyManagers[arn]; done {
			return
		}
		k, err := api.DescribeKey(ctx, arn)
		if err != nil {
			facts.KeyManagers[arn] = ""
			facts.KeyProblems[arn] = redact.String(err.Error())
			return
		}
		facts.KeyManagers[arn] = k.Manager
	}
	for _, inst := range f.instances {
		if inst.ClusterID != "" {
			continue
		}
		param(inst.Settings.DBParameterGroupName, inst.Settings.Engine, false)
		if inst.Settings.StorageEncrypted {
			key(inst.Settings.KmsKeyID)
		}
	}
	for _, c := range f.clusters {
		param(c.Settings.DBClusterParameterGroupName, c.Settings.Engine, true)
		if c.Settings.StorageEncrypted {
			key(c.Settings.KmsKeyID)
		}
	}
	return problems
}

// lookForLeftovers looks into inst's database for the tool's replication objects. It never
// fails the scan: an instance it cannot look into is reported "not checked" with why.
func lookForLeftovers(ctx context.Context, e *workflow.Engine, inst *model.Instance, tagged map[string]bool, res *ScanResource) {
	if inst.Status != "available" {
		res.Replication = &ScanReplication{NotChecked: "status " + inst.Status}
		return
	}
	cctx, cancel := context.WithTimeout(ctx, leftoverTimeout)
	defer cancel()
	objects, err := e.ReplicationLeftovers(cctx, inst, tagged)
	if err != nil {
		why := redact.String(err.Error())
		if errors.Is(err, workflow.ErrNotChecked) {
			why = "no credentials: the instance has no RDS-managed secret; pass --db-secret ARN or set " + workflow.EnvDBPassword
		}
		res.Replication = &ScanReplication{NotChecked: why}
		return
	}
	res.AddLeftovers(objects)
}

// taggedMigrations are the migration ids (model.TagMigrationID) on the region's DB
// instances, DB clusters and DB snapshots: a migration running from another machine, whose
// replication objects must not get a drop as their fix. A snapshot list that cannot be read
// is reported; the ids of the instances and clusters still count.
func taggedMigrations(ctx context.Context, api model.RDS, f regionFleet) (map[string]bool, string) {
	ids := map[string]bool{}
	add := func(tags model.Tags) {
		if id := tags[model.TagMigrationID]; id != "" {
			ids[id] = true
		}
	}
	for _, inst := range f.instances {
		add(inst.Tags)
	}
	for _, c := range f.clusters {
		add(c.Tags)
	}
	snaps, err := api.ListSnapshots(ctx)
	if err != nil {
		return ids, fmt.Sprintf("%s: list DB snapshots: %s", f.region, redact.String(err.Error()))
	}
	for _, s := range snaps {
		add(s.Tags)
	}
	return ids, ""
}

// leftoverTimeout bounds the look into one database.
const leftoverTimeout = 20 * time.Second
