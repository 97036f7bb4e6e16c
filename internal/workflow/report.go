package workflow

import (
	"strconv"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/journal"
)

// Plan is what a migration will do, computed without any mutating call.
type Plan struct {
	MigrationID string `json:"migration_id,omitempty"`
	Kind        string `json:"kind"` // instance or cluster
	Region      string `json:"region"`
	Source      string `json:"source"`
	Engine      string `json:"engine"`
	// Mode is "encrypt" for an unencrypted source, "rekey" for one encrypted with another key,
	// "none" when the source already uses the requested key.
	Mode      string `json:"mode"`
	KmsKeyARN string `json:"kms_key_arn"`
	// RegionKeys are the resolved key ARNs of other regions, for cross-region replicas.
	RegionKeys       map[string]string `json:"region_keys,omitempty"`
	AllocatedStorage int32             `json:"allocated_storage_gib"`
	// ReplicaOrder is when replicas are recreated: after-cutover or before-cutover.
	ReplicaOrder string            `json:"replica_order,omitempty"`
	Steps        []PlannedStep     `json:"steps"`
	Settings     []PlannedSetting  `json:"settings"`
	Resources    []PlannedResource `json:"resources"`
	// Renames are the cutover's renames (the primary's pair, each replica's pair), in order.
	Renames  []PlannedRename `json:"cutover_renames,omitempty"`
	Warnings []string        `json:"warnings"`
	// Acknowledgements an unattended run needs (AckIAMAuth), besides --yes.
	Acknowledgements []string `json:"acknowledgements,omitempty"`
	// EventSubscriptions are the event subscriptions that list the source by identifier
	// (attachments.go).
	EventSubscriptions []string `json:"event_subscriptions,omitempty"`
	EstimatedTotal     Duration `json:"estimated_total_seconds"`
	EstimatedDowntime  Duration `json:"estimated_downtime_seconds"`
	// Precopy is the chosen strategy (RunOptions.Precopy); Strategies estimate both.
	Precopy    bool               `json:"precopy"`
	Strategies []StrategyEstimate `json:"strategies,omitempty"`
	// Freeze is how writes stop (RunOptions.Freeze as chosen); FreezeNote says why it is not
	// enforced when that was not asked for.
	Freeze     FreezeMode `json:"freeze"`
	FreezeNote string     `json:"freeze_note,omitempty"`
	// Strategy is snapshot or replication (--strategy auto resolved), StrategyReason why.
	Strategy       string `json:"strategy,omitempty"`
	StrategyReason string `json:"strategy_reason,omitempty"`
	// SourceChange is a change to the source the replication strategy needs (its DB
	// parameter group, and a reboot), approved on its own; nil when none.
	SourceChange *SourceChange `json:"source_change,omitempty"`
	// MasterUserSecret is the source's managed master password secret, if any: the new
	// resource gets a new one after cutover (master_secret.go).
	MasterUserSecret *MasterSecret `json:"master_user_secret,omitempty"`
	// WriteGiBPerHour is the source's write rate (CloudWatch WriteThroughput over the last
	// hour) the estimates count the changes since the pre-copy with; nil when unknown.
	WriteGiBPerHour *float64 `json:"write_gib_per_hour,omitempty"`
}

// StrategyEstimate is the estimate of one snapshot strategy, from the same step estimates.
type StrategyEstimate struct {
	Precopy           bool     `json:"precopy"`
	EstimatedTotal    Duration `json:"estimated_total_seconds"`
	EstimatedDowntime Duration `json:"estimated_downtime_seconds"`
}

// PlannedStep is one step of a plan with the AWS actions it calls.
type PlannedStep struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Actions     []string `json:"api_actions"`
	Mutating    bool     `json:"mutating"`
	Downtime    bool     `json:"downtime"`
	Estimate    Duration `json:"estimate_seconds"`
	// ApprovedWith is the earlier step whose approval covers this one (the second rename of
	// a cutover), or "".
	ApprovedWith string `json:"approved_with,omitempty"`
}

// PlannedSetting says how one setting of the source reaches the new resource.
type PlannedSetting struct {
	Resource string `json:"resource"`
	Name     string `json:"name"`
	Value    string `json:"value"`
	// Via is "restore", "modify", "replica", "snapshot" (inherited), or "not-carried".
	Via  string `json:"via"`
	Note string `json:"note,omitempty"`
}

// PlannedRename is one rename of the cutover, in the order the migration makes them: the
// second rename of a pair starts as soon as the first has freed the name.
type PlannedRename struct {
	Step     string `json:"step"`
	Region   string `json:"region"`
	From     string `json:"from"`
	To       string `json:"to"`
	Downtime bool   `json:"downtime"` // while application writes are frozen
}

// PlannedResource is a resource the migration will create or rename.
type PlannedResource struct {
	Role   string `json:"role"` // snapshot, encrypted-snapshot, target, retired-source, ...
	Type   string `json:"kind"` // resource type: db-instance, db-snapshot, db-cluster, ...
	Region string `json:"region"`
	Name   string `json:"name"`
}

// Difference is a setting whose value differs between the source and the new resource.
type Difference struct {
	Resource string `json:"resource"`
	Setting  string `json:"setting"`
	Source   string `json:"source"`
	Target   string `json:"target"`
}

// Report is the outcome of a run, printed by --output json.
type Report struct {
	MigrationID     string       `json:"migration_id"`
	Source          string       `json:"source"`
	Kind            string       `json:"kind"`
	Region          string       `json:"region"`
	Where           Where        `json:"where,omitzero"`
	Status          string       `json:"status"`
	KmsKeyARN       string       `json:"kms_key_arn"`
	Steps           []StepReport `json:"steps"`
	APICalls        int          `json:"api_calls"`
	DowntimeSeconds float64      `json:"downtime_seconds"`
	// DNS says whether the original endpoint name resolved to the new instance before writes
	// resumed, or that it was not resolvable from where the tool ran.
	DNS string `json:"dns,omitempty"`
	// MasterUserSecret names the old and the new managed master password secrets, when the
	// source had one: applications must read the new one.
	MasterUserSecret *MasterSecret `json:"master_user_secret,omitempty"`
	Parity           Parity        `json:"parity"`
	// Replicas gives, for each recreated read replica, how long it served stale data.
	Replicas []ReplicaReport `json:"replicas,omitempty"`
	// Strategy is snapshot or replication; Replication its figures (lag at the freeze,
	// drain time on the local clock, tables and rows verified).
	Strategy    string            `json:"strategy,omitempty"`
	Replication *ReplicationState `json:"replication,omitempty"`
	// ReverseSlots are the reverse stream's slots on the new instance as `status ID` read them
	// (PostgreSQL, from the cutover until cleanup): read or not, the WAL each keeps.
	ReverseSlots []Leftover `json:"reverse_slots,omitempty"`
	// Warnings are what the operator must know about the migration as it stands (a
	// PostgreSQL replication run: the new instance keeps WAL for the retired source).
	Warnings []string `json:"warnings,omitempty"`
	// Next is the command the operator should run next, if any.
	Next  string `json:"next,omitempty"`
	Error string `json:"error,omitempty"`
	// Audit summarizes the audit trail (audit_report.go); set by whoever has the store.
	Audit *journal.AuditSummary `json:"audit,omitempty"`
}

// ReplicaReport is the outcome of one recreated read replica.
type ReplicaReport struct {
	Replica string `json:"replica"` // region/identifier
	Swapped bool   `json:"swapped"`
	// StaleReadSeconds runs from the end of the write freeze until the new replica answered
	// at the old endpoint (AWS clock): the old replica served frozen data meanwhile.
	StaleReadSeconds float64 `json:"stale_read_seconds"`
	// Followed: the old replica was not frozen until its swap but followed the retired
	// source, which the reverse stream fed with the new instance's writes (replication
	// strategy, docs/replication.md#read-replicas); StaleReadSeconds is then 0.
	Followed bool `json:"followed_reverse_stream,omitempty"`
	// DNS says whether the replica's endpoint name resolved to the new replica once it took
	// the name, or that it was not resolvable from where the tool ran.
	DNS string `json:"dns,omitempty"`
}

// StepReport is the outcome of one step.
type StepReport struct {
	Name       string     `json:"name"`
	Status     string     `json:"status"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	APICalls   int        `json:"api_calls"`
}

// Parity is the result of comparing source and new resource settings.
type Parity struct {
	Differences []Difference `json:"differences"`
}

// Duration is a time.Duration that marshals to JSON as whole seconds.
type Duration time.Duration

// MarshalJSON writes the duration as whole seconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, int64(time.Duration(d)/time.Second), 10), nil
}

// UnmarshalJSON reads whole seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return err
	}
	*d = Duration(time.Duration(s) * time.Second)
	return nil
}

// nonNegativeSeconds is a duration between two AWS times in seconds, never negative: the two
// may come from clocks of different regions, or from Date headers a second apart in
// resolution, and a duration shorter than their error is zero, not less.
func nonNegativeSeconds(d time.Duration) float64 {
	return max(d, 0).Seconds()
}
