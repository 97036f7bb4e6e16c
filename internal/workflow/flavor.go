package workflow

import (
	"context"
	"fmt"
	"strings"
)

// Kinds of migration.
const (
	KindInstance = "instance"
	KindCluster  = "cluster"
)

// flavor is what differs between migrating a DB instance and an Aurora cluster: the step
// table, the step behaviours, and how a run reloads, undoes and cleans up. The engine's
// journaling, approvals and reporting are shared.
type flavor struct {
	steps []stepInfo
	impls map[string]stepImpl
	// reload describes the source and key again for a resumed run.
	reload func(ctx context.Context, r *run) error
	// undo reverses every effect still present in AWS (rollback).
	undo func(ctx context.Context, r *run) error
	// cleanup deletes the retired source (with a final snapshot) and the intermediates.
	cleanup func(ctx context.Context, r *run) error
	// cleanupSummary says what cleanup will delete, for its approval.
	cleanupSummary func(r *run) Approval
}

var flavors = map[string]*flavor{}

func registerFlavor(kind string, f *flavor) { flavors[kind] = f }

func flavorOf(kind string) (*flavor, error) {
	if kind == "" {
		kind = KindInstance // journals written before kinds existed
	}
	f, ok := flavors[kind]
	if !ok {
		return nil, fmt.Errorf("unknown migration kind %q", kind)
	}
	return f, nil
}

// Step names in the journal are "<step>" or "<step>:<subject>" for steps repeated per
// subject (a replica, a cluster member, an endpoint).
func stepName(kind, subject string) string {
	if subject == "" {
		return kind
	}
	return kind + ":" + subject
}

// splitStep returns the step kind and subject of a journal step name.
func splitStep(name string) (kind, subject string) {
	kind, subject, _ = strings.Cut(name, ":")
	return kind, subject
}
