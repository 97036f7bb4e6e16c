package rdssim

import (
	"math"
	"time"
)

// Incremental snapshots and copies (RDS user guide, "Creating a DB snapshot" and "Copying a
// DB snapshot"; docs/precopy.md):
//
//   - The first snapshot of a DB instance holds all of its data; each later one holds the
//     blocks changed since the previous snapshot of the same instance (DbiResourceId) that
//     still exists. Automated snapshots count. The cost of a snapshot is therefore the GiB
//     written since that snapshot (workload.go), at most the allocated storage.
//   - A copy is incremental when an earlier copy of a snapshot of the same source instance
//     exists in the destination, made with the same KMS key (or both unencrypted), and the
//     source snapshot is not itself a copy; then it transfers the blocks changed between the
//     two source snapshots. Otherwise the copy is full. The first copy with a new key is
//     always full.
//
// Durations then follow DurationModel with the changed GiB in place of the allocated storage.

// snapshotChange returns the GiB snapshot sn of inst stores.
func snapshotChange(r *region, inst *instance, sn *snapshot) float64 {
	full := float64(inst.cfg.AllocatedStorage)
	var prev *snapshot
	for _, o := range r.snapshots {
		if o == sn || o.copy || o.rid != inst.rid || o.gone || o.status == snapFailed || o.status == snapDeleting {
			continue
		}
		if prev == nil || o.written > prev.written || (o.written == prev.written && o.created.After(prev.created)) {
			prev = o
		}
	}
	if prev == nil {
		return full
	}
	return math.Min(full, math.Max(0, sn.written-prev.written))
}

// copyChange returns the GiB copy sn of src transfers into region r.
func copyChange(r *region, src, sn *snapshot) float64 {
	full := float64(src.cfg.AllocatedStorage)
	if src.copy {
		return full
	}
	var prev *snapshot
	for _, o := range r.snapshots {
		if o == sn || !o.copy || o.rid != src.rid || o.gone || o.status != snapAvailable ||
			o.cfg.KmsKeyArn != sn.cfg.KmsKeyArn || o.written > src.written {
			continue
		}
		if prev == nil || o.written > prev.written {
			prev = o
		}
	}
	if prev == nil {
		return full
	}
	return math.Min(full, src.written-prev.written)
}

// sizedF returns base + perGiB*gib for a fractional size, rounded to the second.
func sizedF(base, perGiB time.Duration, gib float64) time.Duration {
	if gib < 0 {
		gib = 0
	}
	return base + (time.Duration(float64(perGiB) * gib)).Round(time.Second)
}
