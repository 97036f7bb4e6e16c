package workflow

import (
	"fmt"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// Roles of replica resources.
const (
	RoleReplicaTarget  = "replica-target"
	RoleReplicaRetired = "replica-retired"
)

// plannedStep is one entry of a migration's step list.
type plannedStep struct {
	name     string
	downtime bool
}

// instanceStepOrder lists the steps of an instance migration: the instance route, with the
// replica route's steps for each replica before or after the cutover, in the given order.
// A step's write downtime is the table's, except replica steps: they are inside write
// downtime when they run before the cutover.
func instanceStepOrder(replicas []replicaNode, order string, precopy bool) []plannedStep {
	before := order == ReplicasBeforeCutover
	var out []plannedStep
	add := func(nodes []replicaNode, steps []step, downtime bool) {
		for _, n := range nodes {
			for _, s := range steps {
				out = append(out, plannedStep{stepName(s.name, subjectOf(n.inst.Region, n.inst.ID)), downtime})
			}
		}
	}
	for _, s := range instanceSteps {
		if (s.name == StepPreSnapshot || s.name == StepPreCopy) && !precopy {
			continue
		}
		if s.name == StepRenameSource && before {
			add(replicas, replicaPrepare, true)
		}
		out = append(out, plannedStep{s.name, s.downtime})
		switch {
		case s.name == StepRenameTarget && before:
			add(replicas, replicaSwap, true)
		case s.name == StepUnfreeze && !before:
			for _, n := range replicas {
				add([]replicaNode{n}, replicaSteps, false)
			}
		}
	}
	return out
}

// plannedReplicaSettings says how each setting of a replica reaches its replacement.
// parentRegion is the region of the replica's parent.
func plannedReplicaSettings(rep *model.Instance, parentRegion string) []PlannedSetting {
	return plannedSettings(rep, subjectOf(rep.Region, rep.ID), "replica", "source", replicaCreation(parentRegion, rep.Region),
		func(r model.Route) bool { return r.Replica })
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
