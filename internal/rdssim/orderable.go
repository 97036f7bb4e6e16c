package rdssim

import (
	"strings"
)

// Orderable DB instance options: which engine versions and instance classes the simulated
// regions offer, and which classes support encryption at rest. The previous-generation classes
// db.t1.micro, db.m1.*, db.m2.* do not (RDS User Guide, Overview.Encryption.Availability); an
// encrypted instance of such a class is refused with "DB Instance class X does not support
// encryption at rest." (InvalidParameterCombination).

func init() {
	registerRDS("DescribeOrderableDBInstanceOptions", describeOrderable)
}

// supportedVersions lists the engine versions the simulator offers besides each engine's
// default version.
var supportedVersions = map[string][]string{
	"mysql":             {"5.7.44", "8.0.36", "8.0.40", "8.4.3"},
	"mariadb":           {"10.6.20", "10.11.10"},
	"postgres":          {"13.18", "14.15", "15.10", "16.6", "17.2"},
	"aurora-mysql":      {"8.0.mysql_aurora.3.05.2", "8.0.mysql_aurora.3.08.0"},
	"aurora-postgresql": {"14.15", "15.10", "16.6"},
}

// engineVersions returns the versions of an engine, the default one included, sorted.
func engineVersions(engine string) []string {
	eng := engines[engine]
	if eng == nil {
		return nil
	}
	out := append([]string(nil), supportedVersions[engine]...)
	found := false
	for _, v := range out {
		found = found || v == eng.DefaultVersion
	}
	if !found {
		out = append(out, eng.DefaultVersion)
	}
	return out
}

// unencryptableClasses are the classes without encryption at rest.
var unencryptableClasses = map[string]bool{
	"db.t1.micro": true, "db.m1.small": true, "db.m1.medium": true, "db.m1.large": true,
	"db.m1.xlarge": true, "db.m2.xlarge": true, "db.m2.2xlarge": true, "db.m2.4xlarge": true,
}

// classSupportsEncryption reports whether a DB instance class supports encryption at rest.
func classSupportsEncryption(class string) bool { return !unencryptableClasses[class] }

// errClassNoEncryption is the error of an encrypted instance of an unencryptable class.
func errClassNoEncryption(class string) *apiError {
	return errCombination("DB Instance class %s does not support encryption at rest.", class)
}

var (
	currentClasses = []string{"db.m5.large", "db.m5.xlarge", "db.m6g.large", "db.m6i.large", "db.r5.large",
		"db.r6g.large", "db.r6i.large", "db.t3.medium", "db.t3.micro", "db.t3.small", "db.t4g.medium", "db.t4g.micro"}
	oldClasses    = []string{"db.m1.large", "db.m1.medium", "db.m1.small", "db.m2.xlarge", "db.t1.micro"}
	auroraClasses = []string{"db.r5.large", "db.r6g.large", "db.r6i.large", "db.serverless", "db.t3.medium", "db.t4g.medium"}
)

// classesFor returns the orderable classes of an engine.
func classesFor(engine string) []string {
	eng := engines[engine]
	switch {
	case eng == nil:
		return nil
	case eng.Aurora:
		return auroraClasses
	case engine == "mysql" || engine == "postgres" || engine == "mariadb":
		return append(append([]string(nil), currentClasses...), oldClasses...)
	}
	return currentClasses
}

type xmlAZ struct {
	Name string
}

type xmlOrderable struct {
	Engine                            string
	EngineVersion                     string
	DBInstanceClass                   string
	LicenseModel                      string
	AvailabilityZones                 []xmlAZ `xml:"AvailabilityZones>AvailabilityZone"`
	MultiAZCapable                    bool
	ReadReplicaCapable                bool
	Vpc                               bool
	SupportsStorageEncryption         bool
	StorageType                       string
	SupportsIops                      bool
	SupportsEnhancedMonitoring        bool
	SupportsIAMDatabaseAuthentication bool
	SupportsPerformanceInsights       bool
	SupportsStorageAutoscaling        bool
	SupportsClusters                  bool
	SupportedEngineModes              []string `xml:"SupportedEngineModes>member"`
	SupportedNetworkTypes             []string `xml:"SupportedNetworkTypes>member"`
}

type describeOrderableResult struct {
	OrderableDBInstanceOptions []*xmlOrderable `xml:"OrderableDBInstanceOptions>OrderableDBInstanceOption"`
	Marker                     string          `xml:",omitempty"`
}

func describeOrderable(c *call) (any, error) {
	p, r := c.p, c.r
	engine := strings.ToLower(p.required("Engine"))
	version, byVersion := p.str("EngineVersion")
	class, byClass := p.str("DBInstanceClass")
	license, byLicense := p.str("LicenseModel")
	vpc := p.boolp("Vpc")
	max := 100
	if v := p.intp("MaxRecords"); v != nil {
		if *v < 20 || *v > 1000 {
			p.fail(errInvalidValue("Invalid value %d for MaxRecords. Must be between 20 and 1000", *v))
		}
		max = int(*v)
	}
	// pageArgs decodes the Marker; MaxRecords is read above because it allows up to 1000 here.
	markerOnly := newParams(map[string][]string{"Marker": p.v["Marker"]})
	_, marker := pageArgs(markerOnly)
	p.merge(markerOnly)
	p.filters()
	if err := p.Err(); err != nil {
		return nil, err
	}
	eng := engines[engine]
	if eng == nil {
		return nil, errInvalidValue("Invalid DB engine: %s", engine)
	}
	if vpc != nil && !*vpc {
		return describeOrderableResult{}, nil // EC2-Classic is gone
	}
	var azs []xmlAZ
	for _, z := range r.zones() {
		azs = append(azs, xmlAZ{Name: z})
	}
	var all []*xmlOrderable
	for _, v := range engineVersions(engine) {
		if byVersion && v != version {
			continue
		}
		for _, cl := range classesFor(engine) {
			if byClass && cl != class {
				continue
			}
			if byLicense && license != eng.License {
				continue
			}
			o := &xmlOrderable{Engine: engine, EngineVersion: v, DBInstanceClass: cl, LicenseModel: eng.License,
				AvailabilityZones: azs, MultiAZCapable: !eng.Aurora, ReadReplicaCapable: true, Vpc: true,
				SupportsStorageEncryption: classSupportsEncryption(cl), StorageType: "gp3",
				SupportsIops: true, SupportsEnhancedMonitoring: true, SupportsIAMDatabaseAuthentication: true,
				SupportsPerformanceInsights: !strings.HasPrefix(cl, "db.t1") && !strings.HasPrefix(cl, "db.m1") && !strings.HasPrefix(cl, "db.m2"),
				SupportsStorageAutoscaling:  !eng.Aurora, SupportsClusters: eng.Aurora,
				SupportedEngineModes: []string{"provisioned"}, SupportedNetworkTypes: []string{"IPV4", "DUAL"}}
			if eng.Aurora {
				o.StorageType, o.SupportsIops = "aurora", false
			}
			if unencryptableClasses[cl] {
				o.StorageType, o.SupportsIops, o.SupportedNetworkTypes = "standard", false, []string{"IPV4"}
			}
			all = append(all, o)
		}
	}
	page, next := paginate(all, func(o *xmlOrderable) string { return o.EngineVersion + "\x00" + o.DBInstanceClass }, max, marker)
	return describeOrderableResult{OrderableDBInstanceOptions: page, Marker: next}, nil
}
