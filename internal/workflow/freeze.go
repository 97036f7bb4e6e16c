package workflow

import (
	"fmt"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// FreezeMode is how writes to the source stop for the final snapshot and the cutover
// (RunOptions.Freeze). It belongs to the engine, not to a route or a command: the freeze step
// (applyFreeze), rollback (undoFreeze) and cleanup act on it. A strategy that stops writes
// another way (a SQL-level freeze with database credentials) adds a mode here and its case
// in those three places; docs/freeze.md.
type FreezeMode string

const (
	// FreezeEnforce: rdsencrypt stops writes itself through the control plane. The source's
	// VPC security groups are replaced by an ingress-free group of the migration's, the source
	// is rebooted to end the sessions already open, and its DatabaseConnections metric must
	// be 0 before the final snapshot (enforce.go).
	FreezeEnforce FreezeMode = "enforce"
	// FreezeHook: the operator's --freeze-hook stops writes; rdsencrypt trusts it.
	FreezeHook FreezeMode = "hook"
	// FreezeNone: nothing stops writes; on a terminal the freeze approval asks the operator to,
	// unattended it is the acknowledgement that writes made after the final snapshot are lost.
	FreezeNone FreezeMode = "none"
	// FreezeSQL: the replication strategy stops writes in the database itself (its
	// replication-freeze step: new writes refused, application sessions ended, position
	// stable), after the freeze hook when one is given. It is not a --freeze choice: the
	// strategy implies it, and no security group changes.
	FreezeSQL FreezeMode = "sql"
)

// FreezeModes are the modes --freeze takes.
var FreezeModes = []FreezeMode{FreezeEnforce, FreezeHook, FreezeNone}

// ParseFreezeMode reads a --freeze value.
func ParseFreezeMode(s string) (FreezeMode, error) {
	for _, m := range FreezeModes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("--freeze must be enforce, hook or none, not %q", s)
}

// LostWritesSentence is what --freeze none acknowledges, and what an unattended run without
// a freeze choice is refused with.
const LostWritesSentence = "writes made to the source after the final snapshot are lost"

// freezeMode is the journaled choice; journals from before the choice existed: hook when one
// was given, else none (the operator was trusted).
func (o RunOptions) freezeMode() FreezeMode {
	switch {
	case o.Freeze != "":
		return o.Freeze
	case o.FreezeHook != "":
		return FreezeHook
	}
	return FreezeNone
}

// chooseInstanceFreeze resolves the freeze of an instance migration: the requested mode, or
// when none was requested the hook if one is given, else enforce where it can be done, else
// none. note says why enforce is not used when it was not chosen explicitly.
func (e *Engine) chooseInstanceFreeze(o RunOptions, src *model.Instance) (mode FreezeMode, note string, err error) {
	why := ""
	switch {
	case src.VpcID == "":
		why = "it is not in a VPC (no DB subnet group), so no security group can close it"
	case e.Networks == nil:
		why = "this run has no EC2 and CloudWatch client"
	}
	return chooseFreeze(o, src.ID, src.ID, why)
}

// chooseFreeze applies the choice to a source named name (what, in messages) that enforce
// cannot close for reason why ("" when it can).
func chooseFreeze(o RunOptions, name, what, why string) (FreezeMode, string, error) {
	switch o.Freeze {
	case FreezeEnforce:
		if why != "" {
			return "", "", errorf(name, "use --freeze hook with --freeze-hook CMD, or --freeze none", nil,
				"rdsencrypt cannot enforce the write freeze of %s: %s", what, why)
		}
		return FreezeEnforce, "", nil
	case FreezeHook, FreezeNone:
		return o.Freeze, "", nil
	case "":
		if o.FreezeHook != "" {
			return FreezeHook, "", nil
		}
		if why == "" {
			return FreezeEnforce, "", nil
		}
		return FreezeNone, "not enforced: " + why, nil
	}
	return "", "", fmt.Errorf("unknown freeze mode %q", o.Freeze)
}

// chooseClusterFreeze resolves the freeze of an Aurora cluster migration as
// chooseInstanceFreeze does; the cluster's VPC is its members' (enforce_cluster.go).
func (e *Engine) chooseClusterFreeze(o RunOptions, cluster string, members map[string]*model.Instance) (FreezeMode, string, error) {
	why := ""
	switch {
	case clusterVPC(members) == "":
		why = "the cluster has no DB instance in a VPC to close"
	case e.Networks == nil:
		why = "this run has no EC2 and CloudWatch client"
	}
	return chooseFreeze(o, cluster, "cluster "+cluster, why)
}

// freezeStepText describes the freeze step of a plan or an approval.
func freezeStepText(p *Plan, n Names) string {
	switch {
	case p.Freeze == FreezeEnforce && p.Kind == KindCluster:
		return fmt.Sprintf("close cluster %s to clients: replace its security groups with the ingress-free group %s, reboot every member to end open sessions, and check that each member's DatabaseConnections is 0 (write downtime starts here)", p.Source, n.FreezeGroup)
	case p.Freeze == FreezeEnforce:
		return fmt.Sprintf("close %s to clients: replace its security groups with the ingress-free group %s, reboot it to end open sessions, and check that DatabaseConnections is 0 (write downtime starts here)", p.Source, n.FreezeGroup)
	case p.Freeze == FreezeHook:
		return "run the freeze hook to stop application writes to " + p.Source + " (write downtime starts here)"
	}
	return "stop application writes to " + p.Source + " (write downtime starts here)"
}

// freezeActions are the AWS calls of the freeze step in a mode: only enforce makes any.
func freezeActions(m FreezeMode, kind string) []string {
	switch {
	case m == FreezeEnforce && kind == KindCluster:
		return enforceClusterActions
	case m == FreezeEnforce:
		return enforceActions
	}
	return nil
}

// freezeForStrategy resolves the freeze once the strategy is known: the replication strategy
// freezes in the database (FreezeSQL), so --freeze enforce or none, which describe the
// snapshot strategy's freeze, are refused with it rather than journaled and shown in an
// approval for a change that never happens.
//
// With --strategy auto the choice stands for the databases auto migrates by snapshot (an
// unattended run needs one), so there it is not refused: the note says it does not apply.
func freezeForStrategy(source, strategy, askedStrategy string, asked, chosen FreezeMode, note string) (FreezeMode, string, error) {
	if strategy != StrategyReplication {
		return chosen, note, nil
	}
	switch asked {
	case FreezeEnforce, FreezeNone:
		if askedStrategy == StrategyAuto {
			return FreezeSQL, fmt.Sprintf("--freeze %s applies to the snapshot strategy; auto chose replication, which freezes in the database", asked), nil
		}
		return "", "", errorf(source, "drop --freeze (the replication strategy freezes in the database), or use --strategy snapshot with it", nil,
			"--freeze %s applies to the snapshot strategy, and %s migrates with the replication strategy", asked, source)
	}
	return FreezeSQL, "", nil
}

// freezeWarning is the plan's line about the freeze: what enforce changes on the source,
// or who stops writes and what is lost otherwise.
func freezeWarning(p *Plan, groups []string, n Names) string {
	switch p.Freeze {
	case FreezeEnforce:
		rebooted := p.Source + " is rebooted to end open sessions; the final snapshot waits until its DatabaseConnections is 0"
		if p.Kind == KindCluster {
			rebooted = "every member of " + p.Source + " is rebooted to end open sessions; the final snapshot waits until each member's DatabaseConnections is 0"
		}
		return fmt.Sprintf("write freeze enforced: %s's security groups (%s) are replaced by the ingress-free group %s (tagged as the migration's), then %s. After cutover the retired source keeps that group until cleanup; rollback puts back exactly %s",
			p.Source, strings.Join(groups, ", "), n.FreezeGroup, rebooted, strings.Join(groups, ", "))
	case FreezeHook:
		return "the freeze hook must stop every write: " + LostWritesSentence + " (--freeze enforce closes the source instead)"
	case FreezeSQL:
		return "writes to " + p.Source + " stop in the database at the replication-freeze step (new writes refused, application sessions ended, position stable); its security groups are not changed"
	}
	w := "nothing stops writes (--freeze none): " + LostWritesSentence + "; stop the writers yourself before the freeze approval"
	if p.FreezeNote != "" {
		w += " (" + p.FreezeNote + ")"
	}
	return w
}

// FreezeState is what the journal keeps of an enforced freeze.
type FreezeState struct {
	// OriginalGroups are the source's VPC security groups before the freeze, journaled before
	// anything changes: rollback puts them back, and the new instance gets them.
	OriginalGroups []string `json:"original_security_groups"`
	VpcID          string   `json:"vpc_id"`
	// GroupID is the ingress-free group once created (its name is Names.FreezeGroup).
	GroupID string `json:"group_id,omitempty"`
	// RebootedAt is the AWS time of the reboot that ended the open sessions.
	RebootedAt time.Time `json:"rebooted_at,omitzero"`
	// VerifiedAt is the AWS time DatabaseConnections was found 0 for whole minutes.
	VerifiedAt time.Time `json:"verified_at,omitzero"`
}
