package workflow

import (
	"strings"
	"testing"
)

// The replication strategy freezes in the database: its journal and approval must not name
// the control-plane freeze (enforce) that the snapshot strategy would do, and --freeze enforce
// or none with it is refused rather than silently ignored.
func TestFreezeFollowsTheStrategy(t *testing.T) {
	mode, note, err := freezeForStrategy("orders", StrategyReplication, StrategyReplication, "", FreezeEnforce, "")
	if err != nil || mode != FreezeSQL || note != "" {
		t.Fatalf("replication with the default freeze: %q %q %v, want sql", mode, note, err)
	}
	mode, _, err = freezeForStrategy("orders", StrategyReplication, StrategyReplication, FreezeHook, FreezeHook, "")
	if err != nil || mode != FreezeSQL {
		t.Fatalf("replication with a hook: %q %v, want sql (the hook runs first)", mode, err)
	}
	for _, asked := range []FreezeMode{FreezeEnforce, FreezeNone} {
		_, _, err := freezeForStrategy("orders", StrategyReplication, StrategyReplication, asked, asked, "")
		if err == nil || !strings.Contains(err.Error(), "orders") || !strings.Contains(err.Error(), "--freeze "+string(asked)) {
			t.Fatalf("replication with --freeze %s: %v, want a refusal naming orders", asked, err)
		}
		// auto: the choice was for the databases auto migrates by snapshot.
		mode, note, err := freezeForStrategy("orders", StrategyReplication, StrategyAuto, asked, asked, "")
		if err != nil || mode != FreezeSQL || !strings.Contains(note, "auto chose replication") {
			t.Fatalf("auto replication with --freeze %s: %q %q %v, want sql with a note", asked, mode, note, err)
		}
	}
	mode, note, err = freezeForStrategy("orders", StrategySnapshot, StrategyAuto, "", FreezeNone, "not enforced: no VPC")
	if err != nil || mode != FreezeNone || note != "not enforced: no VPC" {
		t.Fatalf("snapshot strategy keeps its freeze: %q %q %v", mode, note, err)
	}
	r := &run{st: &State{Source: "orders"}}
	var a Approval
	replFreezeApproval(r, &a)
	text := strings.Join(a.Details, " ")
	if strings.Contains(text, "security groups (") || strings.Contains(text, "ingress-free") || !strings.Contains(text, "in the database") {
		t.Fatalf("replication freeze approval: %s", text)
	}
}
