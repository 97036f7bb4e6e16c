package rdssim

import (
	"strings"
	"time"
)

// DB instance statuses used by the simulator (docs/aws-behaviour.md#statuses).
const (
	statusAvailable         = "available"
	statusCreating          = "creating"
	statusBackingUp         = "backing-up"
	statusModifying         = "modifying"
	statusRenaming          = "renaming"
	statusRebooting         = "rebooting"
	statusDeleting          = "deleting"
	statusIncompatibleRest  = "incompatible-restore"
	statusInaccessibleCreds = "inaccessible-encryption-credentials"
)

// instanceConfig is every setting of a DB instance that a snapshot, restore or replica can
// carry. Zero values mean "not set" where AWS omits the element.
type instanceConfig struct {
	Class, Engine, EngineVersion, License string
	DBName, MasterUsername                string
	CharacterSet, NcharCharacterSet       string
	Timezone                              string

	AllocatedStorage, MaxAllocatedStorage int32
	StorageType                           string
	Iops, StorageThroughput               int32
	DedicatedLogVolume                    bool

	MultiAZ                   bool
	AZ, SecondaryAZ           string
	SubnetGroup               string
	VpcSecurityGroups         []string
	ParameterGroup            string
	OptionGroup               string
	Port                      int32
	PubliclyAccessible        bool
	NetworkType               string
	CustomerOwnedIP           bool
	AutoMinorVersionUpgrade   bool
	CopyTagsToSnapshot        bool
	DeletionProtection        bool
	IAMAuth                   bool
	LogExports                []string
	CACertificate             string
	BackupRetention           int32
	BackupWindow              string
	MaintenanceWindow         string
	BackupTarget              string
	MonitoringInterval        int32
	MonitoringRoleArn         string
	insights                  // Performance Insights and Database Insights (insights.go)
	StorageEncrypted          bool
	KmsKeyArn                 string
	ManageMasterUserPassword  bool
	MasterUserSecretKmsKeyArn string
	ProcessorFeatures         []ProcessorFeature
	EngineLifecycleSupport    string
	PromotionTier             int32
	LicenseModelSet           bool
	ReplicaMode               string
	DomainMemberships         []string
}

// ProcessorFeature is a name/value pair of ProcessorFeatures.
type ProcessorFeature struct {
	Name  string `xml:"Name"`
	Value string `xml:"Value"`
}

func (c instanceConfig) clone() instanceConfig {
	c.VpcSecurityGroups = append([]string(nil), c.VpcSecurityGroups...)
	c.LogExports = append([]string(nil), c.LogExports...)
	c.ProcessorFeatures = append([]ProcessorFeature(nil), c.ProcessorFeatures...)
	c.DomainMemberships = append([]string(nil), c.DomainMemberships...)
	return c
}

// instance is a DB instance.
type instance struct {
	lifecycle
	r       *region
	id      string // current identifier, lower case
	rid     string // DbiResourceId, never changes
	status  string
	created time.Time
	cfg     instanceConfig
	tags    []Tag
	pending pendingMods

	renameTo   string // new identifier while the old one still answers (RenameGrace)
	clusterID  string
	source     *instance // read replica source (any region)
	replicas   []*instance
	secretARN  string
	paramApply string // in-sync or pending-reboot
	action     string // the action that started the current timeline (for events)
	conn       connState
	att        attached // roles, activity stream, backup replication, Aurora replicas (attachments.go)
}

func (i *instance) arn(s *Sim) string { return s.rdsARN(i.r.name, "db", i.id) }

// setStatus changes the instance status and records the event.
func (s *Sim) setInstanceStatus(i *instance, status string, at time.Time, action string) {
	status = s.dataStatus(i, status)
	i.status = status
	s.emit(at, i.r.name, "instance", i.id, i.rid, status, action)
	s.dataStatusSet(i)
	s.refreshSessions(i, at)
}

// idTaken reports whether an instance identifier is in use (or reserved by a rename).
func (r *region) idTaken(id string) bool {
	_, a := r.instances[id]
	_, b := r.reserved[id]
	return a || b
}

// instanceByRef finds an instance of region r by identifier or ARN.
func (s *Sim) instanceByRef(r *region, ref string) (*instance, *apiError) {
	if strings.HasPrefix(ref, "arn:") {
		a, ok := parseARN(ref)
		if !ok || a.Service != "rds" || a.Kind != "db" {
			return nil, errInvalidValue("Invalid database identifier: %s", ref)
		}
		if a.Region != r.name || a.Account != s.account {
			return nil, errInstanceNotFound(ref)
		}
		ref = a.ID
	}
	if i := r.instances[strings.ToLower(ref)]; i != nil {
		return i, nil
	}
	return nil, errInstanceNotFound(ref)
}

// instanceByARN finds an instance in any region by ARN (cross-region replica sources).
func (s *Sim) instanceByARN(ref string) (*instance, *apiError) {
	a, ok := parseARN(ref)
	if !ok || a.Service != "rds" || a.Kind != "db" {
		return nil, errInvalidValue("Invalid database identifier: %s", ref)
	}
	r := s.regions[a.Region]
	if r == nil || a.Account != s.account {
		return nil, errInstanceNotFound(ref)
	}
	return s.instanceByRef(r, a.ID)
}

// requireAvailable returns InvalidDBInstanceState unless the instance is available.
func requireAvailable(i *instance, what string) *apiError {
	if i.status == statusAvailable && i.renameTo == "" {
		return nil
	}
	if what == "" {
		what = "Database instance is not in available state."
	}
	return errf("InvalidDBInstanceState", "%s", what)
}

// removeInstance drops an instance from its region and unlinks its replicas.
func (s *Sim) removeInstance(i *instance) {
	i.gone = true
	if i.secretARN != "" { // RDS deletes the managed secret with its instance
		s.deleteSecret(i.r, i.secretARN, s.clock.now())
	}
	s.dataRemove(i)
	delete(i.r.instances, i.id)
	if i.renameTo != "" {
		delete(i.r.reserved, i.renameTo)
	}
	if src := i.source; src != nil {
		src.replicas = removeInst(src.replicas, i)
	}
	for _, rep := range i.replicas {
		rep.source = nil // promoted to standalone
	}
	i.replicas = nil
}

func removeInst(list []*instance, x *instance) []*instance {
	out := list[:0]
	for _, i := range list {
		if i != x {
			out = append(out, i)
		}
	}
	return out
}

// defaultMaintenanceWindow and defaultBackupWindow are deterministic per identifier.
func defaultMaintenanceWindow(id string) string {
	days := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	h := 0
	for _, c := range id {
		h = h*31 + int(c)
	}
	if h < 0 {
		h = -h
	}
	d := days[h%7]
	hour := 3 + h%5
	return d + ":" + two(hour) + ":00-" + d + ":" + two(hour) + ":30"
}

func defaultBackupWindow(id string) string {
	h := 0
	for _, c := range id {
		h = h*17 + int(c)
	}
	if h < 0 {
		h = -h
	}
	hour := 6 + h%4
	return two(hour) + ":00-" + two(hour) + ":30"
}

func two(n int) string {
	if n < 10 {
		return "0" + string(rune('0'+n))
	}
	return string(rune('0'+n/10)) + string(rune('0'+n%10))
}
