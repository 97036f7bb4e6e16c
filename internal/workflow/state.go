package workflow

import "time"

// Status of a migration as a whole.
const (
	StatusPlanned     = "planned"
	StatusRunning     = "running"
	StatusPaused      = "paused" // stopped between steps (quit, Ctrl-C, manual cutover); resumable
	StatusFailed      = "failed" // a step failed; resumable or roll-backable
	StatusCompleted   = "completed"
	StatusRolledBack  = "rolled-back"
	StatusCleanedUp   = "cleaned-up"
	StatusNothingToDo = "nothing-to-do"
)

// IsOpen reports whether a migration in this status still owns its source: it is under way,
// stopped, failed, or being rolled back or cleaned up. A source with an open migration
// cannot start another one.
func IsOpen(status string) bool {
	switch status {
	case StatusPlanned, StatusRunning, StatusPaused, StatusFailed, StatusRollingBack, StatusCleaningUp:
		return true
	}
	return false
}

// Resumable reports whether resume may run a migration's steps forward.
func Resumable(status string) bool {
	switch status {
	case StatusPlanned, StatusRunning, StatusPaused, StatusFailed:
		return true
	}
	return false
}

// Status of one step in the journal.
const (
	StepPending = "pending"
	StepRunning = "running" // intent written, outcome not yet: resume must observe AWS
	StepDone    = "done"
	StepSkipped = "skipped"
	StepFailed  = "failed"
)

// State is everything the journal keeps about one migration. It holds names and
// progress, never secrets. Resume trusts AWS over this record: State says what was
// intended, AWS says what exists.
type State struct {
	Version int    `json:"version"`
	ID      string `json:"migration_id"`
	Kind    string `json:"kind"` // instance or cluster
	Region  string `json:"region"`
	// Where is the endpoint and profile the migration's AWS calls go to, so that resume,
	// rollback, cleanup and status reach the same place without repeating the flags.
	Where      Where             `json:"where,omitzero"`
	Source     string            `json:"source"`             // original identifier of the source
	SourceARN  string            `json:"source_arn"`         // ARN at start
	SourceRID  string            `json:"source_resource_id"` // DbiResourceId / DbClusterResourceId
	SourceAddr string            `json:"source_endpoint"`    // endpoint address to restore at cutover
	Mode       string            `json:"mode"`               // encrypt or rekey
	KmsKeyARN  string            `json:"kms_key_arn"`
	RegionKeys map[string]string `json:"region_keys,omitempty"` // region -> key ARN for replicas
	Options    RunOptions        `json:"options"`
	Status     string            `json:"status"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
	// Resources are the resources this migration creates or renames, by role.
	Resources []Resource  `json:"resources"`
	Steps     []StepState `json:"steps"`
	// FreezeAt and CutoverDoneAt are AWS times (Date header) bounding the write downtime.
	FreezeAt      time.Time `json:"freeze_at,omitzero"`
	CutoverDoneAt time.Time `json:"cutover_done_at,omitzero"`
	// UnfreezeAt is the AWS time writes were let resume; replicas not yet swapped serve
	// stale data from then on.
	UnfreezeAt time.Time `json:"unfreeze_at,omitzero"`
	// TargetAddrs are the addresses the new instance's temporary name resolved to before its
	// rename; DNS says whether the original name followed (dns.go).
	TargetAddrs []string `json:"target_addresses,omitempty"`
	DNS         string   `json:"dns,omitempty"`
	// Replicas are the source's read replicas being recreated, parents before children.
	Replicas    []ReplicaState `json:"replicas,omitempty"`
	Differences []Difference   `json:"parity_differences,omitempty"`
	// Replication is the replication strategy's progress (nil for the snapshot strategy).
	Replication *ReplicationState `json:"replication,omitempty"`
	// SourceGroup is the replication strategy's change to the source's DB parameter group,
	// journaled at the start when the plan has one (replication_source_group.go).
	SourceGroup *SourceGroupState `json:"source_group,omitempty"`
	LastError   string            `json:"last_error,omitempty"`
	// OtherAPICalls counts the calls made outside any step (reading the journal's resources
	// back on resume, say); the steps count the rest (call_ledger.go).
	OtherAPICalls int `json:"other_api_calls,omitempty"`
	// Acknowledgements an unattended run needs (the plan's).
	Acknowledgements []string `json:"acknowledgements,omitempty"`
	// WriteGiBPerHour is the plan's write rate of the source (CloudWatch WriteThroughput),
	// for the expected length of the snapshot and copy inside the freeze; nil when unknown.
	WriteGiBPerHour *float64 `json:"write_gib_per_hour,omitempty"`
	// PrecopyAt is the AWS time the pre-copy's snapshot was asked for: with FreezeAt, how
	// long the source wrote before the final snapshot.
	PrecopyAt time.Time `json:"precopy_at,omitzero"`

	// MasterSecret is the source's managed master password secret and, after step
	// manage-master-password, the new resource's (master_secret.go); nil when none.
	MasterSecret *MasterSecret `json:"master_secret,omitempty"`
	// EventSubscriptions list the source by identifier; verify checks they still do.
	EventSubscriptions []string `json:"event_subscriptions,omitempty"`

	// Freeze is the enforced freeze's record (RunOptions.Freeze enforce), once it started.
	Freeze *FreezeState `json:"freeze,omitempty"`

	// Cluster is the source's members and custom endpoints, for a cluster migration.
	Cluster *ClusterJournal `json:"cluster,omitempty"`
}

// Where says where a migration's AWS calls go besides its region: an endpoint URL (a
// simulator, a VPC endpoint) and the name of the shared-config profile. Never credentials.
type Where struct {
	EndpointURL string `json:"endpoint_url,omitempty"`
	Profile     string `json:"profile,omitempty"`
}

// RunOptions are the choices made at migrate time that a resume must keep.
type RunOptions struct {
	// Freeze is how writes stop (freeze.go); "" in a request: the engine chooses, enforce
	// where it can.
	Freeze       FreezeMode `json:"freeze,omitempty"`
	FreezeHook   string     `json:"freeze_hook,omitempty"`
	UnfreezeHook string     `json:"unfreeze_hook,omitempty"`
	Replicas     string     `json:"replicas,omitempty"` // after-cutover or before-cutover
	Cutover      string     `json:"cutover,omitempty"`  // auto or manual
	// Precopy takes a snapshot and its encrypted copy while writes continue, so that the
	// snapshot and copy inside the freeze are incremental (false: the whole route inside).
	Precopy bool `json:"precopy,omitempty"`
	// Strategy is StrategySnapshot ("" in journals written before strategies existed) or
	// StrategyReplication; a plan resolves StrategyAuto to one of them.
	Strategy string `json:"strategy,omitempty"`
}

// Resource is one AWS resource a migration owns or renames.
type Resource struct {
	Role       string `json:"role"` // snapshot, encrypted-snapshot, target, retired-source, final-snapshot, replica:<id>, ...
	Type       string `json:"kind"` // resource type: db-instance, db-snapshot, db-cluster, db-cluster-snapshot, db-cluster-endpoint
	Region     string `json:"region"`
	Name       string `json:"name"`                  // identifier the tool gives it
	ResourceID string `json:"resource_id,omitempty"` // DbiResourceId once known
	// CreatedAt is when the tool made it (AWS clock), kept where an AWS rule counts from it:
	// a DB parameter group copy is used only groupSettle after (replication_group_copy.go).
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// StepState is the journal record of one step.
type StepState struct {
	Name       string     `json:"name"`
	Status     string     `json:"status"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	APICalls   int        `json:"api_calls"`
	Error      string     `json:"error,omitempty"`
}
