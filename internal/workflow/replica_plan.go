package workflow

import (
	"fmt"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"strings"
	"time"
)

// Replica step kinds; each runs once per replica, named "<kind>:<region>/<id>".
const (
	StepReplicaCreate  = "replica-create"
	StepReplicaModify  = "replica-modify"
	StepReplicaParity  = "replica-parity"
	StepReplicaRetire  = "replica-retire"
	StepReplicaPromote = "replica-promote"
)

// Roles of replica resources.
const (
	RoleReplicaTarget  = "replica-target"
	RoleReplicaRetired = "replica-retired"
)

// replicaSteps are the per-replica steps of an instance migration.
var replicaSteps = []stepInfo{
	{name: StepReplicaCreate, actions: []string{"CreateDBInstanceReadReplica"}, mutating: true,
		describeSubject: func(p *Plan, subject string) string {
			return fmt.Sprintf("create an encrypted read replica replacing %s, from the new primary (or its new parent)", subject)
		}},
	{name: StepReplicaModify, actions: []string{"ModifyDBInstance"}, mutating: true,
		describeSubject: func(p *Plan, subject string) string {
			return fmt.Sprintf("apply the settings of %s that replica creation cannot carry", subject)
		}},
	{name: StepReplicaParity, actions: []string{"DescribeDBInstances"},
		describeSubject: func(p *Plan, subject string) string {
			return fmt.Sprintf("compare every setting of the new replica with %s", subject)
		}},
	{name: StepReplicaRetire, actions: []string{"ModifyDBInstance"}, mutating: true,
		describeSubject: func(p *Plan, subject string) string {
			return fmt.Sprintf("rename the old replica %s to its retired name (its endpoint stops answering)", subject)
		}},
	{name: StepReplicaPromote, actions: []string{"ModifyDBInstance"}, mutating: true,
		describeSubject: func(p *Plan, subject string) string {
			return fmt.Sprintf("rename the new replica to %s and wait for its original endpoint to answer", subject)
		}},
}

func init() {
	stepEstimates[StepReplicaCreate] = estimate{base: 10 * time.Minute, perGB: 6 * time.Second}
	stepEstimates[StepReplicaModify] = estimate{base: 5 * time.Minute}
	stepEstimates[StepReplicaParity] = estimate{base: 5 * time.Second}
	stepEstimates[StepReplicaRetire] = estimate{base: 10 * time.Minute}
	stepEstimates[StepReplicaPromote] = estimate{base: 10 * time.Minute}
}

// plannedStep is one entry of a migration's step list.
type plannedStep struct {
	name     string
	downtime bool
}

// instanceStepOrder lists the steps of an instance migration with replicas in the given order.
func instanceStepOrder(replicas []replicaNode, order string) []plannedStep {
	var out []plannedStep
	add := func(name string, downtime bool) { out = append(out, plannedStep{name, downtime}) }
	for _, k := range []string{StepPreflight, StepFreeze, StepSnapshot, StepCopy, StepRestore, StepModify, StepParity} {
		add(k, k != StepPreflight)
	}
	prep := func(n replicaNode, downtime bool) {
		subject := subjectOf(n.inst.Region, n.inst.ID)
		for _, k := range []string{StepReplicaCreate, StepReplicaModify, StepReplicaParity} {
			add(stepName(k, subject), downtime)
		}
	}
	swap := func(n replicaNode, downtime bool) {
		subject := subjectOf(n.inst.Region, n.inst.ID)
		add(stepName(StepReplicaRetire, subject), downtime)
		add(stepName(StepReplicaPromote, subject), downtime)
	}
	if order == ReplicasBeforeCutover {
		for _, n := range replicas {
			prep(n, true)
		}
	}
	add(StepRenameSource, true)
	add(StepRenameTarget, true)
	if order == ReplicasBeforeCutover {
		for _, n := range replicas {
			swap(n, true)
		}
	}
	add(StepUnfreeze, false)
	if order != ReplicasBeforeCutover {
		for _, n := range replicas {
			prep(n, false)
			swap(n, false)
		}
	}
	add(StepVerify, false)
	return out
}

// plannedReplicaSettings says how each setting of a replica reaches its replacement.
func plannedReplicaSettings(rep *model.Instance) []PlannedSetting {
	return plannedSettings(rep, subjectOf(rep.Region, rep.ID), "replica", "source", func(r model.Route) bool { return r.Replica })
}

func replicaWarnings(replicas []replicaNode, order string) []string {
	if len(replicas) == 0 {
		return nil
	}
	var list []string
	for _, n := range replicas {
		s := subjectOf(n.inst.Region, n.inst.ID)
		if n.parent != "" {
			s += " (replica of " + n.parent + ")"
		}
		list = append(list, s)
	}
	w := []string{fmt.Sprintf("read replicas are recreated encrypted and swapped into their names: %s", strings.Join(list, ", "))}
	if order == ReplicasBeforeCutover {
		w = append(w, "replicas before cutover: no stale reads, but the write downtime includes creating every replica")
	} else {
		w = append(w, "replicas after cutover: shorter write downtime, but each old replica serves frozen (stale) data from the end of the freeze until its own swap")
	}
	return w
}
