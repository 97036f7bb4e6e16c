package workflow

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/journal"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// Rebuild recreates a lost or corrupt journal of the unfinished migration of source (a DB
// instance or an Aurora cluster, as kind says) from the tags on the resources it created,
// saves it, and returns its id. Steps start as pending: resume observes AWS to find which
// are done.
func (e *Engine) Rebuild(ctx context.Context, kind, region, source string) (string, error) {
	rt, err := routeOf(kind)
	if err != nil {
		return "", err
	}
	api, err := e.Clients(region)
	if err != nil {
		return "", err
	}
	return rt.rebuild(ctx, e, api, region, strings.ToLower(source))
}

// rebuildInstance rebuilds the journal of the migration of DB instance source.
func (e *Engine) rebuildInstance(ctx context.Context, api model.RDS, region, source string) (string, error) {
	ids := map[string]bool{}
	snaps, err := api.ListSnapshots(ctx)
	if err != nil {
		return "", err
	}
	for _, s := range snaps {
		if s.Tags[model.TagSource] == source && s.Tags[model.TagMigrationID] != "" {
			ids[s.Tags[model.TagMigrationID]] = true
		}
	}
	insts, err := api.ListInstances(ctx)
	if err != nil {
		return "", err
	}
	targets := map[string]*model.Instance{} // by migration id
	for i := range insts {
		if insts[i].Tags[model.TagSource] == source && insts[i].Tags[model.TagRole] == RoleTarget {
			ids[insts[i].Tags[model.TagMigrationID]] = true
			targets[insts[i].Tags[model.TagMigrationID]] = &insts[i]
		}
		if insts[i].Tags[model.TagSource] == source && insts[i].Tags[model.TagRole] == RolePositionReplica && insts[i].Tags[model.TagMigrationID] != "" {
			ids[insts[i].Tags[model.TagMigrationID]] = true // a MySQL migration before its snapshot
		}
	}
	if id, err := groupCopyMigration(ctx, api, source); err != nil {
		return "", err
	} else if id != "" {
		ids[id] = true // the source change came before any snapshot
	}
	targetIDs := map[string]string{}
	for id, t := range targets {
		targetIDs[id] = t.ID
	}
	if err := dropFinished(ctx, ids, targetIDs, source, func(id string) string { return NamesFor(id, source).Retired },
		existsBy(api.DescribeInstance)); err != nil {
		return "", err
	}
	id, err := onlyMigrationID(ids, source, region, "rdsencrypt migrate --db "+source)
	if err != nil {
		return "", err
	}
	target := targets[id]
	var encKey, preKey string
	precopy, frozen := false, false
	for _, s := range snaps {
		if s.Tags[model.TagSource] != source || s.Tags[model.TagMigrationID] != id {
			continue // another migration's: a finished one keeps its encrypted and final snapshots
		}
		switch s.Tags[model.TagRole] {
		case RoleEncryptedSnapshot:
			encKey, frozen = s.KmsKeyID, true
		case RoleSnapshot:
			frozen = true
		case RolePreEncryptedSnapshot:
			preKey, precopy = s.KmsKeyID, true
		case RolePreSnapshot:
			precopy = true
		}
	}
	names := NamesFor(id, source)
	var targetRID string
	if target != nil {
		targetRID = target.ResourceID
	}
	src, err := rebuiltSource(ctx, api.DescribeInstance, func(i *model.Instance) string { return i.ResourceID },
		source, names.Retired, targetRID)
	if err != nil {
		return "", errorf(source, "rdsencrypt status", err, "cannot find the source of migration %s", id)
	}
	// The temporary read replica of a MySQL source (replication_position.go) is the source's
	// replica but not part of its tree: journaled so that the rollback deletes it.
	var posReplica *model.Instance
	for i := range insts {
		if t := insts[i].Tags; t[model.TagMigrationID] == id && t[model.TagSource] == source && t[model.TagRole] == RolePositionReplica {
			posReplica = &insts[i]
			src.Replicas = slices.DeleteFunc(slices.Clone(src.Replicas), func(r string) bool { return r == insts[i].ID })
		}
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
		keyARN = preKey // the pre-copy's encrypted copy uses the migration's key
	}
	groupCopy, err := rebuiltGroupCopy(ctx, api, region, id, source, src, target)
	if err != nil {
		return "", err
	}
	if keyARN == "" && (groupCopy == nil || groupCopy.SourceGroup == nil) && posReplica == nil {
		return "", errorf(source, "no rollback is possible without a journal: delete the snapshot "+names.Snapshot+" and start again with rdsencrypt migrate", nil,
			"cannot tell the KMS key of migration %s: no encrypted resource exists yet", id)
	}
	// Without a key (only the source change or the temporary replica was made), the journal
	// serves the rollback alone: resume refuses it (reloadKey).
	now := e.now()
	cutover := target != nil && target.ID == source
	addr := renamedAddress(src.Endpoint, source)
	switch {
	case src.ID == source:
		addr = src.Endpoint
	case cutover:
		addr = target.Endpoint // the cutover gave the source's name, and its address, to the new instance
	}
	st := &State{Version: 1, ID: id, Kind: KindInstance, Region: region, Source: source, SourceARN: src.ARN,
		SourceRID: src.ResourceID, SourceAddr: addr, Mode: ModeEncrypt,
		KmsKeyARN: keyARN, Status: StatusPaused, CreatedAt: now,
		MasterSecret: masterSecretOf(src.MasterUserSecretARN, src.MasterUserSecretKmsKeyID)}
	if src.Settings.StorageEncrypted {
		st.Mode = ModeRekey
	}
	st.Resources = []Resource{
		{Role: RoleSnapshot, Type: TypeDBSnapshot, Region: region, Name: names.Snapshot},
		{Role: RoleEncryptedSnapshot, Type: TypeDBSnapshot, Region: region, Name: names.EncryptedSnapshot},
		{Role: RoleTarget, Type: TypeDBInstance, Region: region, Name: names.Target},
		{Role: RoleRetiredSource, Type: TypeDBInstance, Region: region, Name: names.Retired},
	}
	if target != nil {
		st.Resources[2].ResourceID = target.ResourceID
		frozen = true
	}
	if posReplica != nil {
		st.Resources = append(st.Resources, Resource{Role: RolePositionReplica, Type: TypeDBInstance, Region: region,
			Name: names.PositionReplica, ResourceID: posReplica.ResourceID})
	}
	if precopy {
		st.Options.Precopy = true
		st.Resources = append(st.Resources,
			Resource{Role: RolePreSnapshot, Type: TypeDBSnapshot, Region: region, Name: names.PreSnapshot},
			Resource{Role: RolePreEncryptedSnapshot, Type: TypeDBSnapshot, Region: region, Name: names.PreEncryptedSnapshot})
	}
	var order []string
	if groupCopy != nil {
		// Only the replication strategy copies the source's DB parameter group: its snapshot
		// was taken while writes went on, and the stream's position, the freeze's state and
		// the reverse stream's start are in no tag. The journal serves the rollback alone
		// (Resume refuses it), which drops the replication objects from the source.
		st.Options.Strategy = StrategyReplication
		st.Replication = &ReplicationState{Engine: replication.Family(src.Settings.Engine), RebuiltFromTags: true}
		frozen = false
		for _, ps := range replicationOrder(nil, "") {
			switch ps.name {
			case StepReplSourceGroup:
				if groupCopy.SourceGroup == nil {
					continue
				}
			case StepReplCopyGroup:
				if groupCopy.SourceGroup != nil {
					continue
				}
			case StepReplPosReplica, StepReplPosStop, StepReplPosDelete:
				if !startsFromReplica(src.Settings.Engine) {
					continue
				}
			}
			order = append(order, ps.name)
		}
	} else {
		for _, s := range instanceSteps {
			if (s.name == StepPreSnapshot || s.name == StepPreCopy) && !precopy {
				continue
			}
			order = append(order, s.name)
		}
	}
	for _, name := range order {
		if !managesPassword(name, st.MasterSecret) {
			continue
		}
		status := StepPending
		if name == StepPreflight {
			status = StepDone
		}
		st.Steps = append(st.Steps, StepState{Name: name, Status: status})
	}
	// The final snapshot or what follows it exists, so writes were frozen when it was made; the
	// freeze time is unknown. Pre-copy snapshots alone are made while writes continue.
	if frozen {
		st.FreezeAt = now
	}
	if err := e.rebuildFreeze(ctx, st, names, frozen); err != nil {
		return "", err
	}
	markRebuiltCutover(st, cutover)
	if groupCopy != nil {
		st.Resources = append(st.Resources, groupCopy.Resource)
		st.SourceGroup = groupCopy.SourceGroup
	}
	return e.saveRebuilt(st, "journal rebuilt from AWS tags")
}

// rebuildFreeze recovers an enforced freeze from its group's tags: the group, and the source's
// original groups (TagOriginalGroups), which the new instance must get instead of the freeze
// group the source now carries. A freeze followed by the final snapshot is taken as verified.
func (e *Engine) rebuildFreeze(ctx context.Context, st *State, names Names, frozen bool) error {
	if e.Networks == nil {
		return nil
	}
	net, err := e.Networks(st.Region)
	if err != nil {
		return err
	}
	groups, err := net.FindSecurityGroups(ctx, model.TagMigrationID, st.ID)
	if err != nil {
		return errorf(st.Source, "fix the cause (credentials, permissions), then retry", err, "cannot look for the freeze security group of migration %s", st.ID)
	}
	for _, g := range groups {
		if g.Tags[model.TagRole] != RoleFreezeGroup {
			continue
		}
		original, ok := g.Tags[TagOriginalGroups]
		if !ok {
			return errorf(g.ID, "restore the journal file "+st.ID+".json from a backup, then rdsencrypt resume "+st.ID, nil,
				"freeze security group %s does not say which groups the source had: the journal cannot be rebuilt safely", g.ID)
		}
		st.Options.Freeze = FreezeEnforce
		st.Freeze = &FreezeState{OriginalGroups: strings.Fields(original), VpcID: g.VpcID, GroupID: g.ID}
		if frozen {
			st.Freeze.VerifiedAt = st.FreezeAt
		}
		st.Resources = append(st.Resources, Resource{Role: RoleFreezeGroup, Type: TypeSecurityGroup, Region: st.Region, Name: names.FreezeGroup, ResourceID: g.ID})
	}
	return nil
}

// markRebuiltCutover records in a rebuilt journal a cutover the tags show made (the new
// instance or cluster stands at the source's name, the source at its retired name): from then
// on the new one took the application's writes, so a rollback must stop them first and delete
// it with a final snapshot (rollbackSnapshotName), never without. The cutover's time is in no
// tag: CutoverDoneAt is the rebuild's time, as FreezeAt is (the report then shows no write
// downtime rather than a made-up one). The rename steps stay pending: a resume observes them
// done and still runs their waits (a cluster's members may be mid-rename).
func markRebuiltCutover(st *State, cutover bool) {
	if cutover {
		st.CutoverDoneAt = st.CreatedAt
	}
}

// groupCopyMigration is the migration id of the DB parameter group the instance named source
// carries when that group is a migration's copy made for source ("" otherwise): the replication
// strategy's source change puts it on the source before anything else is tagged.
func groupCopyMigration(ctx context.Context, api model.RDS, source string) (string, error) {
	inst, err := api.DescribeInstance(ctx, source)
	if model.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	pg, err := ourGroupCopy(ctx, api, inst.Settings.DBParameterGroupName, "", source)
	if err != nil || pg == nil {
		return "", err
	}
	return pg.Tags[model.TagMigrationID], nil
}

// ourGroupCopy describes the DB parameter group name when its tags say it is the copy of
// migration id (any migration when id is "") of source; nil otherwise.
func ourGroupCopy(ctx context.Context, api model.RDS, name, id, source string) (*model.ParameterGroup, error) {
	if name == "" || model.DefaultParameterGroup(name) {
		return nil, nil
	}
	pg, err := api.ParameterGroup(ctx, name)
	if err != nil || pg == nil {
		return nil, err
	}
	if pg.Tags[model.TagRole] != RoleParameterGroup || pg.Tags[model.TagSource] != source || pg.Tags[model.TagMigrationID] == "" ||
		id != "" && pg.Tags[model.TagMigrationID] != id {
		return nil, nil
	}
	return pg, nil
}

// rebuiltCopy is the migration's DB parameter group copy found from tags, and the source
// change when the source carries it.
type rebuiltCopy struct {
	Resource    Resource
	SourceGroup *SourceGroupState
}

// rebuiltGroupCopy recovers the copy of the source's DB parameter group that migration id made
// (the replication strategy's) from its tags: found on the source, on the new instance, or
// under the name the copy of the source's group gets; nil when there is none. When the source
// carries it, the source change was made: its original group comes from the copy's
// TagOriginalParameterGroup, so that rollback puts it back (undoSourceGroup says what to run
// when a copy made before that tag lacks it).
func rebuiltGroupCopy(ctx context.Context, api model.RDS, region, id, source string, src, target *model.Instance) (*rebuiltCopy, error) {
	names := []string{src.Settings.DBParameterGroupName, ParameterGroupCopyName(src.Settings.DBParameterGroupName, id)}
	if target != nil {
		names = append(names, target.Settings.DBParameterGroupName)
	}
	for _, name := range names {
		pg, err := ourGroupCopy(ctx, api, name, id, source)
		if err != nil {
			return nil, errorf(name, "fix the cause (credentials, permissions), then retry", err, "cannot read the DB parameter group %s of migration %s", name, id)
		}
		if pg == nil {
			continue
		}
		found := &rebuiltCopy{Resource: Resource{Role: RoleParameterGroup, Type: TypeDBParameterGroup, Region: region, Name: pg.Name}}
		if strings.EqualFold(src.Settings.DBParameterGroupName, pg.Name) {
			found.SourceGroup = &SourceGroupState{Original: pg.Tags[TagOriginalParameterGroup], Modified: true}
		}
		return found, nil
	}
	return nil, nil
}

// dropFinished removes from ids, while other ids remain, each migration whose only trace is
// the end state of a finished one: its encrypted instance or cluster at the source's name
// (with its tags, its snapshots kept as restore points, its DB parameter group copy) and no
// retired source left. A resource migrated once is the source of the next migration of that
// name, whose journal is the one to rebuild (review T9); after that next migration's cutover
// it sits at the next one's retired name. targets maps an id to its target's identifier now;
// retired names an id's retired source, exists says whether a resource of that name exists.
func dropFinished(ctx context.Context, ids map[string]bool, targets map[string]string, source string,
	retired func(id string) string, exists func(ctx context.Context, name string) (bool, error),
) error {
	for id := range ids {
		// Only one resource is the source (at its name, or retired by another id), so at
		// most one id is dropped.
		t, ok := targets[id]
		if len(ids) < 2 || !ok || t != source && !retiredByAnother(t, id, ids, retired) {
			continue
		}
		found, err := exists(ctx, retired(id))
		if err != nil {
			return errorf(retired(id), "fix the cause (credentials, permissions), then retry", err, "cannot look for the retired source of migration %s", id)
		}
		if !found {
			delete(ids, id) // with the retired source there, the cutover is made, not cleaned up: not finished
		}
	}
	return nil
}

// retiredByAnother reports whether name is the retired name of the source under an id of ids
// other than id.
func retiredByAnother(name, id string, ids map[string]bool, retired func(id string) string) bool {
	for other := range ids {
		if other != id && name == retired(other) {
			return true
		}
	}
	return false
}

// existsBy turns a describe call into dropFinished's exists: not found is false, other errors stay.
func existsBy[T any](describe func(context.Context, string) (T, error)) func(context.Context, string) (bool, error) {
	return func(ctx context.Context, name string) (bool, error) {
		_, err := describe(ctx, name)
		if model.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	}
}

// onlyMigrationID returns the one migration id found on the tagged resources of source, or
// says that there is none (start one with migrate) or several.
func onlyMigrationID(ids map[string]bool, source, region, migrate string) (string, error) {
	if len(ids) == 0 {
		return "", errorf(source, "nothing to resume: start with "+migrate, nil,
			"no resource tagged %s=%s found in %s", model.TagSource, source, region)
	}
	if len(ids) > 1 {
		// Resume of an id needs its journal file: a command naming an id alone cannot run.
		sorted := slices.Sorted(maps.Keys(ids))
		var choices []string
		for _, id := range sorted {
			choices = append(choices, "restore "+id+".json from a backup into the state directory, then rdsencrypt resume "+id)
		}
		return "", errorf(source, strings.Join(choices, "; or ")+"; then roll the other back with its journal, or by hand (its resources carry the tag "+model.TagMigrationID+")", nil,
			"resources of several unfinished migrations of %s exist (%s): which one to rebuild cannot be told from tags", source, strings.Join(sorted, ", "))
	}
	id := slices.Collect(maps.Keys(ids))[0]
	if !ValidMigrationID(id) {
		return "", fmt.Errorf("tag %s=%q is not a migration id", model.TagMigrationID, id)
	}
	return id, nil
}

// rebuiltSource describes the source of a migration whose journal is rebuilt: at its name,
// or at its retired name once the cutover gave its name to the new resource (targetRID, ""
// when there is none).
func rebuiltSource[T any](ctx context.Context, describe func(context.Context, string) (*T, error), rid func(*T) string,
	source, retired, targetRID string,
) (*T, error) {
	src, err := describe(ctx, source)
	if targetRID != "" && err == nil && rid(src) == targetRID {
		src, err = describe(ctx, retired) // cutover happened: the source is retired
	}
	if model.IsNotFound(err) {
		src, err = describe(ctx, retired)
	}
	return src, err
}

// saveRebuilt saves a rebuilt journal under its lock and says in the audit trail how it came to be.
func (e *Engine) saveRebuilt(st *State, message string) (string, error) {
	st.Where = e.Where
	release, err := e.Store.Lock(st.ID)
	if err != nil {
		return "", err
	}
	defer func() { _ = release() }()
	// A readable journal is never overwritten by one rebuilt from tags, which knows less:
	// only a lost or corrupt one is replaced.
	if old, err := e.Store.Load(st.ID); err == nil {
		if Resumable(old.Status) {
			return old.ID, nil
		}
		return "", errorf(st.ID, "rdsencrypt status "+st.ID, nil,
			"migration %s already has a journal, status %s: it is not rebuilt from the tags", st.ID, old.Status)
	}
	if err := e.Store.Save(st); err != nil {
		return "", err
	}
	_ = e.Store.AppendAudit(st.ID, journal.AuditRecord{Type: journal.AuditStateChange, To: StatusPaused, Message: message})
	return st.ID, nil
}

// renamedAddress is the address an endpoint has under identifier id: addresses are
// <identifier>.<rest>.
func renamedAddress(addr, id string) string {
	if i := strings.Index(addr, "."); i >= 0 {
		return id + addr[i:]
	}
	return addr
}
