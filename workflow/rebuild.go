package workflow

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/awsclient"
)

// Rebuild recreates a lost or corrupt journal of the unfinished migration of source from the
// tags on the resources it created, saves it, and returns its id. Steps start as pending:
// resume observes AWS to find which are done.
func (e *Engine) Rebuild(ctx context.Context, region, source string) (string, error) {
	api, err := e.Clients(region)
	if err != nil {
		return "", err
	}
	source = strings.ToLower(source)
	ids := map[string]bool{}
	snaps, err := api.ListSnapshots(ctx)
	if err != nil {
		return "", err
	}
	var encKey string
	for _, s := range snaps {
		if s.Tags[awsclient.TagSource] == source && s.Tags[awsclient.TagMigrationID] != "" {
			ids[s.Tags[awsclient.TagMigrationID]] = true
			if s.Tags[awsclient.TagRole] == RoleEncryptedSnapshot {
				encKey = s.KmsKeyID
			}
		}
	}
	insts, err := api.ListInstances(ctx)
	if err != nil {
		return "", err
	}
	var target *awsclient.Instance
	for i := range insts {
		if insts[i].Tags[awsclient.TagSource] == source && insts[i].Tags[awsclient.TagRole] == RoleTarget {
			ids[insts[i].Tags[awsclient.TagMigrationID]] = true
			target = &insts[i]
		}
	}
	if len(ids) == 0 {
		return "", errorf(source, "nothing to resume: start with rdsencrypt migrate --db "+source, nil,
			"no resource tagged %s=%s found in %s", awsclient.TagSource, source, region)
	}
	if len(ids) > 1 {
		list := slices.Sorted(func(yield func(string) bool) {
			for id := range ids {
				if !yield(id) {
					return
				}
			}
		})
		return "", errorf(source, "roll back the others by hand, or pass one id: rdsencrypt resume <id>", nil,
			"resources of several migrations of %s exist (%s)", source, strings.Join(list, ", "))
	}
	var id string
	for k := range ids {
		id = k
	}
	if !ValidMigrationID(id) {
		return "", fmt.Errorf("tag %s=%q is not a migration id", awsclient.TagMigrationID, id)
	}
	names := NamesFor(id, source)
	src, err := api.DescribeInstance(ctx, source)
	if target != nil && err == nil && src.ResourceID == target.ResourceID {
		src, err = api.DescribeInstance(ctx, names.Retired) // cutover happened: the source is retired
	}
	if awsclient.IsNotFound(err) {
		src, err = api.DescribeInstance(ctx, names.Retired)
	}
	if err != nil {
		return "", errorf(source, "rdsencrypt status", err, "cannot find the source of migration %s", id)
	}
	if len(src.Replicas) > 0 {
		// The replica tree and which replacements exist cannot be told apart from tags alone
		// with certainty; guessing could orphan or delete a replica.
		return "", errorf(source, "restore the journal file "+id+".json from a backup into the state directory, then rdsencrypt resume "+id, nil,
			"migration %s of %s involves read replicas (%s): its journal cannot be rebuilt from tags", id, source, strings.Join(src.Replicas, ", "))
	}
	keyARN := encKey
	if keyARN == "" && target != nil {
		keyARN = target.Settings.KmsKeyID
	}
	if keyARN == "" {
		return "", errorf(source, "rdsencrypt rollback is impossible without a journal; delete the snapshot "+names.Snapshot+" and start again with rdsencrypt migrate", nil,
			"cannot tell the KMS key of migration %s: no encrypted resource exists yet", id)
	}
	now := e.now()
	st := &State{Version: 1, ID: id, Kind: KindInstance, Region: region, Source: source, SourceARN: src.ARN,
		SourceRID: src.ResourceID, SourceAddr: originalAddress(src, source), Mode: ModeEncrypt,
		KmsKeyARN: keyARN, Status: StatusPaused, CreatedAt: now}
	if src.Settings.StorageEncrypted {
		st.Mode = ModeRekey
	}
	st.Resources = []Resource{
		{Role: RoleSnapshot, Kind: KindDBSnapshot, Region: region, Name: names.Snapshot},
		{Role: RoleEncryptedSnapshot, Kind: KindDBSnapshot, Region: region, Name: names.EncryptedSnapshot},
		{Role: RoleTarget, Kind: KindDBInstance, Region: region, Name: names.Target},
		{Role: RoleRetiredSource, Kind: KindDBInstance, Region: region, Name: names.Retired},
	}
	if target != nil {
		st.Resources[2].ResourceID = target.ResourceID
	}
	for _, s := range instanceSteps {
		status := StepPending
		if s.name == StepPreflight {
			status = StepDone
		}
		st.Steps = append(st.Steps, StepState{Name: s.name, Status: status})
	}
	// Resources exist, so writes were frozen when they were made; the freeze time is unknown.
	st.FreezeAt = now
	release, err := e.Store.Lock(id)
	if err != nil {
		return "", err
	}
	defer func() { _ = release() }()
	if err := e.Store.Save(st); err != nil {
		return "", err
	}
	_ = e.Store.AppendAudit(id, AuditRecord{Kind: "state-change", To: StatusPaused, Message: "journal rebuilt from AWS tags"})
	return id, nil
}

// originalAddress is the endpoint address the source had under its original identifier:
// endpoints are <identifier>.<suffix>, so a renamed source's address gives it back.
func originalAddress(src *awsclient.Instance, original string) string {
	if i := strings.Index(src.Endpoint, "."); i >= 0 {
		return original + src.Endpoint[i:]
	}
	return src.Endpoint
}
