package fleet

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// A scan reports, for every DB instance and Aurora cluster of some regions, the facts AWS's
// RDS security guidance asks about, and turns each gap into a finding with a severity and a
// fix. The analysis here is pure: ScanRegion (scan_collect.go) does the reads.

// Severity ranks a finding; the order follows AWS Security Hub's RDS controls, with storage
// encryption raised to high because it cannot be fixed in place.
type Severity string

// Severities, most severe first.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityInfo     Severity = "info"
)

// Severities lists the severities from the most severe down.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo}

// Rank is 0 for critical and grows as the severity falls.
func (s Severity) Rank() int {
	if i := slices.Index(Severities, s); i >= 0 {
		return i
	}
	return len(Severities)
}

// Checks a scan makes; a finding names the one it fails.
const (
	CheckEncryption         = "storage-encryption"
	CheckCustomerKey        = "customer-managed-key"
	CheckPublicAccess       = "publicly-accessible"
	CheckIAMAuth            = "iam-database-authentication"
	CheckTLS                = "tls-enforced"
	CheckLogExports         = "cloudwatch-log-exports"
	CheckDeletionProtection = "deletion-protection"
	CheckBackups            = "backup-retention"
	CheckReplicaEncryption  = "replica-encryption"
	CheckKeyReadable        = "kms-key-readable"
	CheckReplicationObjects = "rdsencrypt-replication-left"
)

// MinBackupRetentionDays is the retention below which backups are reported (Security Hub RDS.11).
const MinBackupRetentionDays = 7

// Tri-state answers for facts a scan may be unable to read.
const (
	FactYes     = "yes"
	FactNo      = "no"
	FactUnknown = "unknown"
)

// Key managers as a scan reports them.
const (
	KeyAWSManaged = "aws-managed" // the aws/rds key
	KeyCustomer   = "customer"
)

// Finding is one gap between a database and the RDS security guidance.
type Finding struct {
	Check    string   `json:"check"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	// Fix is the command or change that closes the gap.
	Fix string `json:"fix"`
}

// ScanReplica is a read replica as its primary lists it.
type ScanReplica struct {
	ID     string `json:"id"`
	Region string `json:"region"`
	// Encrypted is yes, no, or unknown when the replica's region was not scanned.
	Encrypted string `json:"encrypted"`
}

// ScanResource is one scanned DB instance or Aurora cluster.
type ScanResource struct {
	Kind          string `json:"kind"` // instance or cluster
	Region        string `json:"region"`
	ID            string `json:"id"`
	Engine        string `json:"engine"`
	EngineVersion string `json:"engine_version"`
	Status        string `json:"status"`
	Encrypted     bool   `json:"storage_encrypted"`
	KmsKeyARN     string `json:"kms_key_arn,omitempty"`
	// KeyManager is aws-managed, customer, or unknown when the key could not be described.
	KeyManager         string `json:"key_manager,omitempty"`
	PubliclyAccessible bool   `json:"publicly_accessible"`
	// PublicMembers are the cluster members that are publicly accessible.
	PublicMembers   []string      `json:"public_members,omitempty"`
	IAMAuth         bool          `json:"iam_database_authentication"`
	TLSEnforced     string        `json:"tls_enforced"` // yes, no, unknown
	TLSParameter    string        `json:"tls_parameter,omitempty"`
	ParameterGroup  string        `json:"parameter_group,omitempty"`
	LogExports      []string      `json:"log_exports"`
	DeletionProt    bool          `json:"deletion_protection"`
	BackupRetention int32         `json:"backup_retention_days"`
	ReplicaOf       string        `json:"replica_of,omitempty"`
	Replicas        []ScanReplica `json:"replicas,omitempty"`
	Members         []string      `json:"members,omitempty"`
	Tags            model.Tags    `json:"tags,omitempty"`
	// Replication is what the scan found of rdsencrypt's replication objects in the
	// database (instances with a replication engine; nil for the others).
	Replication *ScanReplication `json:"replication_objects,omitempty"`
	Findings    []Finding        `json:"findings"`
}

// ScanReplication is the look into one instance's database for the replication objects a
// migration left (a forgotten slot keeps the source's WAL until its storage is full).
type ScanReplication struct {
	Checked bool `json:"checked"`
	// NotChecked says why the database was not looked into (no credentials, not available).
	NotChecked string              `json:"not_checked,omitempty"`
	Objects    []workflow.Leftover `json:"objects,omitempty"`
}

// AddLeftovers records what the look into r's database found, each object a finding: high
// for a slot (it holds WAL, which fills the storage), low for the rest.
func (r *ScanResource) AddLeftovers(objects []workflow.Leftover) {
	r.Replication = &ScanReplication{Checked: true, Objects: objects}
	for _, l := range objects {
		if l.InUse {
			r.Findings = append(r.Findings, Finding{Check: CheckReplicationObjects, Severity: SeverityLow,
				Message: fmt.Sprintf("rdsencrypt replication object %s: in use by migration %s (running)", l.Object, l.Migration)})
			continue
		}
		sev, why := SeverityLow, "it grants nothing to applications but should go with its migration"
		if strings.HasPrefix(l.Object, "slot ") {
			sev, why = slotSeverity(l)
		}
		r.Findings = append(r.Findings, Finding{Check: CheckReplicationObjects, Severity: sev,
			Message: fmt.Sprintf("rdsencrypt replication object left: %s: %s", l.Object, why), Fix: l.Fix})
	}
	sortFindings(r.Findings)
}

// slotSeverity rates a slot: the reverse stream's slot of a completed migration (its fix is
// cleanup) with nothing to warn about (workflow.SlotWarning: read now, keeping less than
// workflow.SlotWALWarnBytes) is working as planned (low); any other slot fills the storage (high).
func slotSeverity(l workflow.Leftover) (Severity, string) {
	st := l.Slot
	if st == nil {
		return SeverityHigh, workflow.SlotGrows
	}
	if w := workflow.SlotWarning(st); w != "" {
		return SeverityHigh, w
	}
	if strings.HasPrefix(l.Fix, "rdsencrypt cleanup ") {
		return SeverityLow, "read by the reverse stream of migration " + l.Migration + ", " + workflow.SlotKept(st) + "; it stays until cleanup, which removes it"
	}
	return SeverityHigh, "read, " + workflow.SlotKept(st) + ": " + workflow.SlotGrows
}

// Worst returns the most severe finding's severity, or "" when there is none.
func (r *ScanResource) Worst() Severity {
	worst := Severity("")
	for _, f := range r.Findings {
		if worst == "" || f.Severity.Rank() < worst.Rank() {
			worst = f.Severity
		}
	}
	return worst
}

// ScanSummary counts what a scan found.
type ScanSummary struct {
	Instances   int              `json:"instances"`
	Clusters    int              `json:"clusters"`
	Unencrypted int              `json:"unencrypted"`
	Findings    map[Severity]int `json:"findings"`
}

// ScanReport is the outcome of a scan of some regions.
type ScanReport struct {
	Regions   []string       `json:"regions"`
	Resources []ScanResource `json:"resources"`
	Summary   ScanSummary    `json:"summary"`
	// Errors are regions or facts that could not be read; the rest of the scan stands.
	Errors []string `json:"errors,omitempty"`
	// Unread are the regions that could not be listed at all: the inventory is incomplete.
	Unread []string `json:"unread_regions,omitempty"`
}

// ScanFacts are the facts a scan reads besides the described resources.
type ScanFacts struct {
	// Params holds parameter values by ParamKey(region, group, name); a missing key means unknown.
	Params map[string]string
	// KeyManagers maps a KMS key ARN to model.Key.Manager (AWS or CUSTOMER).
	KeyManagers map[string]string
	// KeyProblems maps a KMS key ARN that could not be described to why: a finding about
	// the databases it encrypts, not a failed scan.
	KeyProblems map[string]string
	// Encrypted maps "region/id" of every scanned instance to its storage encryption, for
	// the replica lists of primaries.
	Encrypted map[string]bool
	// KmsKey is the key named in the fix commands (default "KEY").
	KmsKey string
}

// ParamKey is the key of ScanFacts.Params: parameter group names are per region.
func ParamKey(region, group, name string) string { return region + "\x00" + group + "\x00" + name }

// InstanceKey is the key of ScanFacts.Encrypted.
func InstanceKey(region, id string) string { return region + "/" + id }

// TLSParameter names the parameter that makes an engine refuse unencrypted connections, and
// whether it lives in the cluster parameter group. Oracle (an SSL option in the option
// group) and Db2 have none: their TLS is reported unknown.
func TLSParameter(engine string) (name string, cluster bool) {
	switch {
	case strings.HasPrefix(engine, "aurora-mysql"), engine == "aurora":
		return "require_secure_transport", true
	case strings.HasPrefix(engine, "aurora-postgresql"):
		return "rds.force_ssl", true
	case engine == "mysql", engine == "mariadb":
		return "require_secure_transport", false
	case engine == "postgres", strings.HasPrefix(engine, "sqlserver"):
		return "rds.force_ssl", false
	}
	return "", false
}

// tlsOn interprets a TLS parameter value; "" (unset) is the engine's default: on for RDS
// for PostgreSQL 15 and later, off everywhere else.
func tlsOn(engine, version, value string) bool {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "1", "on", "true":
		return true
	case "":
		if engine == "postgres" {
			major, _ := strconv.Atoi(strings.SplitN(version, ".", 2)[0])
			return major >= 15
		}
	}
	return false
}

// logTypes are the log types worth exporting per engine (the ones AWS offers, minus the
// noisy general log).
func logTypes(engine string) string {
	switch {
	case strings.HasPrefix(engine, "aurora-postgresql"), engine == "postgres":
		return "postgresql"
	case strings.HasPrefix(engine, "aurora-mysql"), engine == "aurora":
		return "audit,error,slowquery"
	case engine == "mysql", engine == "mariadb":
		return "error,slowquery"
	case strings.HasPrefix(engine, "oracle"):
		return "alert,audit,listener"
	case strings.HasPrefix(engine, "sqlserver"):
		return "agent,error"
	case strings.HasPrefix(engine, "db2"):
		return "diag.log,notify.log"
	}
	return "error"
}

func (f ScanFacts) kmsKey() string {
	if f.KmsKey != "" {
		return f.KmsKey
	}
	return "KEY"
}

func (f ScanFacts) keyManager(arn string) string {
	switch f.KeyManagers[arn] {
	case "AWS":
		return KeyAWSManaged
	case "CUSTOMER":
		return KeyCustomer
	}
	return FactUnknown
}

// tls reads the TLS fact of a resource from the parameter values.
func (f ScanFacts) tls(region, engine, version, group string) (enforced, param string) {
	name, _ := TLSParameter(engine)
	if name == "" || group == "" {
		return FactUnknown, ""
	}
	v, ok := f.Params[ParamKey(region, group, name)]
	if !ok {
		return FactUnknown, name
	}
	shown := v
	if shown == "" {
		shown = "default"
	}
	param = fmt.Sprintf("%s=%s", name, shown)
	if tlsOn(engine, version, v) {
		return FactYes, param
	}
	return FactNo, param
}

// keyFix is the fix of a key that cannot be described: look at it, or move the database to
// a key this account controls.
func keyFix(kind, region, id, arn, key string) string {
	return "aws kms describe-key --region " + region + " --key-id " + arn + "   (then, to move it to a key you control: " +
		MigrateCommand(kind, region, id, key) + ")"
}

// MigrateCommand is the rdsencrypt command that encrypts a resource.
func MigrateCommand(kind, region, id, key string) string {
	flag := "--db"
	if kind == workflow.KindCluster {
		flag = "--cluster"
	}
	return fmt.Sprintf("rdsencrypt migrate --region %s %s %s --kms-key %s", region, flag, id, key)
}

// replicaSource splits a replica's source (identifier, or ARN across regions) into its
// region and identifier.
func replicaSource(region, source string) (string, string) {
	if strings.HasPrefix(source, "arn:") {
		return model.ARNRegion(source), model.ARNLastPart(source)
	}
	return region, source
}

// AnalyzeInstance reports the facts and findings of a DB instance that is not an Aurora
// cluster member (members are reported with their cluster).
func AnalyzeInstance(inst model.Instance, facts ScanFacts) ScanResource {
	s := inst.Settings
	r := ScanResource{Kind: workflow.KindInstance, Region: inst.Region, ID: inst.ID, Engine: s.Engine, EngineVersion: s.EngineVersion,
		Status: inst.Status, Encrypted: s.StorageEncrypted, PubliclyAccessible: s.PubliclyAccessible,
		IAMAuth: s.IAMDatabaseAuthenticationEnabled, ParameterGroup: s.DBParameterGroupName,
		LogExports: slices.Clone(s.EnabledCloudwatchLogsExports), DeletionProt: s.DeletionProtection,
		BackupRetention: s.BackupRetentionPeriod, Tags: inst.Tags, Findings: []Finding{}}
	if r.LogExports == nil {
		r.LogExports = []string{}
	}
	if s.StorageEncrypted {
		r.KmsKeyARN, r.KeyManager = s.KmsKeyID, facts.keyManager(s.KmsKeyID)
	}
	r.TLSEnforced, r.TLSParameter = facts.tls(inst.Region, s.Engine, s.EngineVersion, s.DBParameterGroupName)
	key := facts.kmsKey()
	modify := "aws rds modify-db-instance --region " + inst.Region + " --db-instance-identifier " + inst.ID
	add := func(check string, sev Severity, fix, format string, args ...any) {
		r.Findings = append(r.Findings, Finding{Check: check, Severity: sev, Message: fmt.Sprintf(format, args...), Fix: fix})
	}

	if inst.ReplicaSource != "" {
		pr, pid := replicaSource(inst.Region, inst.ReplicaSource)
		r.ReplicaOf = pid
		if pr != inst.Region {
			r.ReplicaOf = pr + "/" + pid
		}
		if !s.StorageEncrypted {
			add(CheckEncryption, SeverityHigh, MigrateCommand(workflow.KindInstance, pr, pid, key)+"   (its read replicas are recreated encrypted)",
				"read replica %s is not encrypted; a replica is encrypted by migrating its primary %s", inst.ID, pid)
		}
	} else if !s.StorageEncrypted {
		add(CheckEncryption, SeverityHigh, MigrateCommand(workflow.KindInstance, inst.Region, inst.ID, key),
			"storage of DB instance %s is not encrypted at rest, nor are its snapshots and backups", inst.ID)
	}
	if why := facts.KeyProblems[r.KmsKeyARN]; s.StorageEncrypted && why != "" {
		add(CheckKeyReadable, SeverityHigh, keyFix(workflow.KindInstance, inst.Region, inst.ID, r.KmsKeyARN, key),
			"the KMS key %s of DB instance %s cannot be described (%s): if it is deleted or disabled, the database and its snapshots cannot be restored", r.KmsKeyARN, inst.ID, why)
	}
	if s.StorageEncrypted && r.KeyManager == KeyAWSManaged {
		add(CheckCustomerKey, SeverityInfo, MigrateCommand(workflow.KindInstance, inst.Region, inst.ID, key)+"   (KEY: a customer managed key)",
			"encrypted with the AWS managed key aws/rds: its snapshots cannot be shared with other accounts and its key policy cannot be changed")
	}
	for _, rep := range inst.Replicas {
		region, id := replicaSource(inst.Region, rep)
		enc, ok := facts.Encrypted[InstanceKey(region, id)]
		sr := ScanReplica{ID: id, Region: region, Encrypted: FactUnknown}
		if ok {
			sr.Encrypted = yesNo(enc)
		}
		r.Replicas = append(r.Replicas, sr)
		if ok && !enc && s.StorageEncrypted {
			add(CheckReplicaEncryption, SeverityHigh, "recreate the replica "+id+" from the encrypted primary (delete it, then create-db-instance-read-replica)",
				"read replica %s in %s is not encrypted although its primary is", id, region)
		}
	}
	if s.PubliclyAccessible {
		add(CheckPublicAccess, SeverityCritical, modify+" --no-publicly-accessible --apply-immediately",
			"DB instance %s is publicly accessible: its endpoint resolves to a public address", inst.ID)
	}
	switch r.TLSEnforced {
	case FactNo:
		add(CheckTLS, SeverityMedium, tlsFix(s.Engine, s.DBParameterGroupName, inst.Region, false),
			"parameter group %s does not require TLS (%s): clients may connect unencrypted", s.DBParameterGroupName, r.TLSParameter)
	case FactUnknown:
		if name, _ := TLSParameter(s.Engine); name == "" && strings.HasPrefix(s.Engine, "oracle") {
			add(CheckTLS, SeverityInfo, "add the SSL option to option group "+s.OptionGroupName+" and use the SSL port",
				"TLS for Oracle is enforced by the SSL option of the option group, which this scan does not read")
		}
	}
	if !s.IAMDatabaseAuthenticationEnabled && supportsIAMAuth(s.Engine) {
		add(CheckIAMAuth, SeverityLow, modify+" --enable-iam-database-authentication --apply-immediately",
			"IAM database authentication is off: database users authenticate with passwords only")
	}
	if len(s.EnabledCloudwatchLogsExports) == 0 {
		add(CheckLogExports, SeverityMedium, modify+` --cloudwatch-logs-export-configuration '{"EnableLogTypes":["`+strings.ReplaceAll(logTypes(s.Engine), ",", `","`)+`"]}' --apply-immediately`,
			"no database logs are exported to CloudWatch Logs")
	}
	if !s.DeletionProtection {
		add(CheckDeletionProtection, SeverityLow, modify+" --deletion-protection --apply-immediately",
			"deletion protection is off: one API call deletes the database")
	}
	r.addBackupFinding(s.BackupRetentionPeriod, inst.ReplicaSource != "", modify)
	sortFindings(r.Findings)
	return r
}

// AnalyzeCluster reports the facts and findings of an Aurora cluster; members are its DB
// instances as described (for their public accessibility).
func AnalyzeCluster(c model.Cluster, members []model.Instance, facts ScanFacts) ScanResource {
	s := c.Settings
	r := ScanResource{Kind: workflow.KindCluster, Region: c.Region, ID: c.ID, Engine: s.Engine, EngineVersion: s.EngineVersion,
		Status: c.Status, Encrypted: s.StorageEncrypted, IAMAuth: s.IAMDatabaseAuthenticationEnabled,
		ParameterGroup: s.DBClusterParameterGroupName, LogExports: slices.Clone(s.EnabledCloudwatchLogsExports),
		DeletionProt: s.DeletionProtection, BackupRetention: s.BackupRetentionPeriod, Tags: c.Tags, Findings: []Finding{}}
	if r.LogExports == nil {
		r.LogExports = []string{}
	}
	for _, m := range c.Members {
		r.Members = append(r.Members, m.InstanceID)
	}
	for _, m := range members {
		if m.Settings.PubliclyAccessible {
			r.PublicMembers = append(r.PublicMembers, m.ID)
		}
	}
	r.PubliclyAccessible = len(r.PublicMembers) > 0
	if s.StorageEncrypted {
		r.KmsKeyARN, r.KeyManager = s.KmsKeyID, facts.keyManager(s.KmsKeyID)
	}
	r.TLSEnforced, r.TLSParameter = facts.tls(c.Region, s.Engine, s.EngineVersion, s.DBClusterParameterGroupName)
	if c.ReplicationSource != "" {
		r.ReplicaOf = c.ReplicationSource
	}
	key := facts.kmsKey()
	modify := "aws rds modify-db-cluster --region " + c.Region + " --db-cluster-identifier " + c.ID
	add := func(check string, sev Severity, fix, format string, args ...any) {
		r.Findings = append(r.Findings, Finding{Check: check, Severity: sev, Message: fmt.Sprintf(format, args...), Fix: fix})
	}
	if why := facts.KeyProblems[r.KmsKeyARN]; s.StorageEncrypted && why != "" {
		add(CheckKeyReadable, SeverityHigh, keyFix(workflow.KindCluster, c.Region, c.ID, r.KmsKeyARN, key),
			"the KMS key %s of Aurora cluster %s cannot be described (%s): if it is deleted or disabled, the cluster and its snapshots cannot be restored", r.KmsKeyARN, c.ID, why)
	}
	if !s.StorageEncrypted {
		add(CheckEncryption, SeverityHigh, MigrateCommand(workflow.KindCluster, c.Region, c.ID, key),
			"storage of Aurora cluster %s is not encrypted at rest, nor are its snapshots and backups", c.ID)
	} else if r.KeyManager == KeyAWSManaged {
		add(CheckCustomerKey, SeverityInfo, MigrateCommand(workflow.KindCluster, c.Region, c.ID, key)+"   (KEY: a customer managed key)",
			"encrypted with the AWS managed key aws/rds: its snapshots cannot be shared with other accounts and its key policy cannot be changed")
	}
	for _, id := range r.PublicMembers {
		add(CheckPublicAccess, SeverityCritical, "aws rds modify-db-instance --region "+c.Region+" --db-instance-identifier "+id+" --no-publicly-accessible --apply-immediately",
			"cluster member %s is publicly accessible: its endpoint resolves to a public address", id)
	}
	switch r.TLSEnforced {
	case FactNo:
		add(CheckTLS, SeverityMedium, tlsFix(s.Engine, s.DBClusterParameterGroupName, c.Region, true),
			"cluster parameter group %s does not require TLS (%s): clients may connect unencrypted", s.DBClusterParameterGroupName, r.TLSParameter)
	case FactUnknown:
		if name, _ := TLSParameter(s.Engine); name != "" {
			add(CheckTLS, SeverityInfo, "check "+name+" in cluster parameter group "+s.DBClusterParameterGroupName,
				"could not read %s from cluster parameter group %s", name, s.DBClusterParameterGroupName)
		}
	}
	if !s.IAMDatabaseAuthenticationEnabled {
		add(CheckIAMAuth, SeverityLow, modify+" --enable-iam-database-authentication --apply-immediately",
			"IAM database authentication is off: database users authenticate with passwords only")
	}
	if len(s.EnabledCloudwatchLogsExports) == 0 {
		add(CheckLogExports, SeverityMedium, modify+` --cloudwatch-logs-export-configuration '{"EnableLogTypes":["`+strings.ReplaceAll(logTypes(s.Engine), ",", `","`)+`"]}' --apply-immediately`,
			"no database logs are exported to CloudWatch Logs")
	}
	if !s.DeletionProtection {
		add(CheckDeletionProtection, SeverityLow, modify+" --deletion-protection --apply-immediately",
			"deletion protection is off: one API call deletes the cluster")
	}
	r.addBackupFinding(s.BackupRetentionPeriod, false, modify)
	sortFindings(r.Findings)
	return r
}

func (r *ScanResource) addBackupFinding(days int32, replica bool, modify string) {
	if replica {
		return // replicas are created without backups; the primary's backups are what count
	}
	fix := fmt.Sprintf("%s --backup-retention-period %d --apply-immediately", modify, MinBackupRetentionDays)
	switch {
	case days == 0:
		r.Findings = append(r.Findings, Finding{Check: CheckBackups, Severity: SeverityMedium, Fix: fix,
			Message: "automated backups are off: no point-in-time recovery, and no read replica can be created"})
	case days < MinBackupRetentionDays:
		r.Findings = append(r.Findings, Finding{Check: CheckBackups, Severity: SeverityLow, Fix: fix,
			Message: fmt.Sprintf("backups are kept %d day(s), less than %d", days, MinBackupRetentionDays)})
	}
}

// tlsFix says how to make a parameter group require TLS; default groups cannot be changed.
func tlsFix(engine, group, region string, cluster bool) string {
	name, _ := TLSParameter(engine)
	value := "1"
	if strings.HasPrefix(engine, "aurora-mysql") {
		value = "ON"
	}
	if strings.HasPrefix(group, "default.") {
		return fmt.Sprintf("create a custom parameter group with %s=%s and attach it (default group %s cannot be changed)", name, value, group)
	}
	cmd, flag := "modify-db-parameter-group", "--db-parameter-group-name"
	if cluster {
		cmd, flag = "modify-db-cluster-parameter-group", "--db-cluster-parameter-group-name"
	}
	return fmt.Sprintf("aws rds %s --region %s %s %s --parameters ParameterName=%s,ParameterValue=%s,ApplyMethod=immediate",
		cmd, region, flag, group, name, value)
}

func supportsIAMAuth(engine string) bool {
	return engine == "mysql" || engine == "mariadb" || engine == "postgres" || strings.HasPrefix(engine, "aurora")
}

func yesNo(b bool) string {
	if b {
		return FactYes
	}
	return FactNo
}

func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int { return a.Severity.Rank() - b.Severity.Rank() })
}

// Summarize counts resources and findings, and sorts resources by region, kind and id.
func (rep *ScanReport) Summarize() {
	slices.SortFunc(rep.Resources, func(a, b ScanResource) int {
		return strings.Compare(a.Region+"\x00"+a.Kind+"\x00"+a.ID, b.Region+"\x00"+b.Kind+"\x00"+b.ID)
	})
	sum := ScanSummary{Findings: map[Severity]int{}}
	for _, r := range rep.Resources {
		if r.Kind == workflow.KindCluster {
			sum.Clusters++
		} else {
			sum.Instances++
		}
		if !r.Encrypted {
			sum.Unencrypted++
		}
		for _, f := range r.Findings {
			sum.Findings[f.Severity]++
		}
	}
	rep.Summary = sum
}
