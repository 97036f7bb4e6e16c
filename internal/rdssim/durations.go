package rdssim

import "time"

// DurationModel holds the virtual durations of every long-running operation.
//
// AWS publishes no throughput figures (docs/aws-behaviour.md#durations), so the numbers are a model built
// from the few documented facts and public anecdotes:
//
//   - A snapshot of a Single-AZ instance suspends I/O for seconds to minutes and scales with the
//     data written since the previous snapshot; the first one is full (incremental.go).
//     Modelled as 1 min + 6 s per GiB stored, i.e. ~11 min for a full 100 GiB.
//   - Copying a snapshot with a new KMS key re-encrypts every block and "takes much longer"
//     than a snapshot (anecdotes: ~15 min for a small database, hours for big ones). Modelled as
//     3 min + 12 s per GiB transferred (~23 min for a full 100 GiB; an incremental copy
//     transfers only the changed GiB, incremental.go). A copy that keeps its encryption state is a
//     cheaper 1 min + 3 s/GiB; a cross-region copy first waits CrossRegionQueue in "pending"
//     and adds CrossRegionPerGiB for the transfer.
//   - A restore creates the instance (~8 min) and is "available" before its volume is loaded:
//     blocks are loaded from S3 on first access (lazy loading; RDS user guide, "Restoring to a
//     DB instance"), so the time to available does not grow with the size (RestorePerGiB 0;
//     first reads are slow instead). Then the initial automated backup (InitialBackup, status
//     backing-up) when backups are enabled.
//   - CreateDBInstance takes ~10 min, then the initial backup.
//   - ModifyDBInstance with ApplyImmediately takes 2-5 min (Modify, 3 min); storage changes add
//     ModifyStoragePerGiB per GiB of the new size.
//   - Rename: the old name keeps answering for RenameGrace, then the instance is "renaming"
//     under the new name, reboots, and is available again about 10 min after the call
//     (USER_RenameInstance: "the new DNS name becomes effective in about 10 minutes").
//   - Delete ~5 min (plus the final snapshot when one is taken).
//   - A read replica: the source is "modifying" for ReplicaSourceSuspend (~1 min I/O
//     suspension), the replica is created in 10 min + 6 s/GiB (+ CrossRegionPerGiB across
//     regions).
//
// All values are virtual durations; divide by Options.Speed for wall-clock time.
type DurationModel struct {
	SnapshotBase   time.Duration // CreateDBSnapshot, fixed part
	SnapshotPerGiB time.Duration // CreateDBSnapshot, per GiB of AllocatedStorage

	CopyBase            time.Duration // CopyDBSnapshot keeping the encryption state/key
	CopyPerGiB          time.Duration
	EncryptedCopyBase   time.Duration // CopyDBSnapshot that (re-)encrypts with KmsKeyId
	EncryptedCopyPerGiB time.Duration
	CrossRegionQueue    time.Duration // a cross-region copy/replica waits this long in "pending"
	CrossRegionPerGiB   time.Duration // extra transfer time per GiB across regions

	CreateBase    time.Duration // CreateDBInstance until the first backup
	CreatePerGiB  time.Duration
	RestoreBase   time.Duration // RestoreDBInstanceFromDBSnapshot until the first backup
	RestorePerGiB time.Duration
	InitialBackup time.Duration // "backing-up" after create/restore when backups are enabled

	Modify              time.Duration // ModifyDBInstance with changes applied immediately
	ModifyStoragePerGiB time.Duration // added when storage size/type/iops change
	Reboot              time.Duration // RebootDBInstance, and the reboot at the end of a rename

	RenameGrace time.Duration // the old identifier still answers (status available) this long
	Rename      time.Duration // from the call until the instance is available under the new name

	Delete         time.Duration // DeleteDBInstance ("deleting" until gone)
	SnapshotDelete time.Duration // DeleteDBSnapshot ("deleting" until gone)

	ReplicaSourceSuspend time.Duration // source "modifying" while RDS snapshots it
	ReplicaBase          time.Duration // CreateDBInstanceReadReplica
	ReplicaPerGiB        time.Duration
}

// DefaultDurations returns the model described on DurationModel.
func DefaultDurations() DurationModel {
	return DurationModel{
		SnapshotBase:         1 * time.Minute,
		SnapshotPerGiB:       6 * time.Second,
		CopyBase:             1 * time.Minute,
		CopyPerGiB:           3 * time.Second,
		EncryptedCopyBase:    3 * time.Minute,
		EncryptedCopyPerGiB:  12 * time.Second,
		CrossRegionQueue:     1 * time.Minute,
		CrossRegionPerGiB:    6 * time.Second,
		CreateBase:           10 * time.Minute,
		CreatePerGiB:         0,
		RestoreBase:          8 * time.Minute,
		RestorePerGiB:        0,
		InitialBackup:        2 * time.Minute,
		Modify:               3 * time.Minute,
		ModifyStoragePerGiB:  1 * time.Second,
		Reboot:               1 * time.Minute,
		RenameGrace:          30 * time.Second,
		Rename:               10 * time.Minute,
		Delete:               5 * time.Minute,
		SnapshotDelete:       10 * time.Second,
		ReplicaSourceSuspend: 1 * time.Minute,
		ReplicaBase:          10 * time.Minute,
		ReplicaPerGiB:        6 * time.Second,
	}
}

// sized returns base + perGiB*gib.
func sized(base, perGiB time.Duration, gib int32) time.Duration {
	if gib < 0 {
		gib = 0
	}
	return base + perGiB*time.Duration(gib)
}
