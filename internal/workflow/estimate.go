package workflow

import "time"

// Estimates are rough figures from public reports (rds-behaviour.md §9): AWS publishes no
// per-GiB rates. They grow with allocated storage; the first encrypted copy of an instance is
// a full copy and is the slowest part. They are shown as estimates, never promised.
type estimate struct {
	base  time.Duration
	perGB time.Duration
}

var stepEstimates = map[string]estimate{
	StepPreflight:    {base: 10 * time.Second},
	StepFreeze:       {base: 30 * time.Second},
	StepSnapshot:     {base: 2 * time.Minute, perGB: 6 * time.Second},
	StepCopy:         {base: 5 * time.Minute, perGB: 12 * time.Second},
	StepRestore:      {base: 10 * time.Minute, perGB: 6 * time.Second},
	StepModify:       {base: 5 * time.Minute},
	StepParity:       {base: 5 * time.Second},
	StepRenameSource: {base: 10 * time.Minute},
	StepRenameTarget: {base: 10 * time.Minute},
	StepUnfreeze:     {base: 5 * time.Second},
	StepVerify:       {base: 10 * time.Second},
}

func estimateStep(name string, storageGiB int32) time.Duration {
	e := stepEstimates[name]
	return e.base + time.Duration(storageGiB)*e.perGB
}
