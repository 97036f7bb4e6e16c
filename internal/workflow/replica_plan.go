package workflow

import (
	"fmt"
	"slices"
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

func replicaWarnings(replicas []replicaNode, order, strategy string, steps []PlannedStep) []string {
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
	if strategy == StrategyReplication {
		// docs/replication.md#read-replicas
		w = append(w, fmt.Sprintf("replication: each new read replica is created from the new instance (or its new parent) once the stream is attached, while writes continue; it follows the new instance, which receives the stream. Building them takes about %s, outside the write downtime",
			roundMinutes(stepsEstimate(steps, replicaPrepare))))
		if order == ReplicasBeforeCutover {
			return append(w, fmt.Sprintf("replicas before cutover: each replica's rename pair runs inside the freeze, after the primary's: no read of the old replicas once writes resume, but the write downtime includes about %s of replica renames",
				roundMinutes(stepsEstimate(steps, replicaSwap))))
		}
		return append(w, "replicas after cutover (the default): writes resume after the primary's rename pair; each old replica keeps answering reads at its name, fed through the retired source by the reverse stream, until its own rename pair right after the unfreeze (its name does not answer between the two renames)")
	}
	if order == ReplicasBeforeCutover {
		w = append(w, "replicas before cutover: no stale reads, but the write downtime includes creating every replica")
	} else {
		w = append(w, "replicas after cutover: shorter write downtime, but each old replica serves frozen (stale) data from the end of the freeze until its own swap")
	}
	return w
}

// replicaPairLines tell the cutover's approval when each read replica's rename pair follows
// (each pair is approved on its own).
func replicaPairLines(r *run) []string {
	if len(r.st.Replicas) == 0 {
		return nil
	}
	when := "then, after writes resume, each read replica's pair, one approval each:"
	switch {
	case r.st.Options.Replicas == ReplicasBeforeCutover:
		when = "then, before writes resume, each read replica's pair, covered by this approval:"
	case r.st.Options.Strategy != StrategyReplication:
		when = "after writes resume, once each new replica is built, each read replica's pair, one approval each:"
	}
	var pairs []string
	for _, rs := range r.st.Replicas {
		n := NamesFor(r.st.ID, rs.ID)
		pairs = append(pairs, fmt.Sprintf("%s -> %s and %s -> %s", rs.ID, n.Retired, n.Target, rs.ID))
	}
	return []string{fmt.Sprintf("3. %s %s", when, strings.Join(pairs, "; "))}
}

// stepsEstimate sums the planned estimates of the steps of the given kinds.
func stepsEstimate(steps []PlannedStep, kinds []step) Duration {
	var d Duration
	for _, ps := range steps {
		kind, _ := splitStep(ps.Name)
		if slices.ContainsFunc(kinds, func(s step) bool { return s.name == kind }) {
			d += ps.Estimate
		}
	}
	return d
}

// plannedRenames lists the cutover's renames in the order of the planned steps.
func plannedRenames(steps []PlannedStep, src *model.Instance, names Names, id string) []PlannedRename {
	var out []PlannedRename
	for _, ps := range steps {
		kind, subject := splitStep(ps.Name)
		region, replica, _ := strings.Cut(subject, "/")
		rn := NamesFor(id, replica)
		pr := PlannedRename{Step: ps.Name, Region: region, Downtime: ps.Downtime}
		switch kind {
		case StepRenameSource:
			pr.Region, pr.From, pr.To = src.Region, src.ID, names.Retired
		case StepRenameTarget:
			pr.Region, pr.From, pr.To = src.Region, names.Target, src.ID
		case StepReplicaRetire:
			pr.From, pr.To = replica, rn.Retired
		case StepReplicaPromote:
			pr.From, pr.To = rn.Target, replica
		default:
			continue
		}
		out = append(out, pr)
	}
	return out
}
