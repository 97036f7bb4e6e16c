package rdssim

import (
	"strings"
)

// Engine versions the regions offer (DescribeDBEngineVersions), and versions AWS stopped
// offering after instances were created on them (RetireEngineVersion). CreateDBInstance and
// CreateDBCluster accept only offered versions, with InvalidParameterCombination "Cannot find
// version 5.6.10 for mysql" (AWS's wording for an unknown version). A snapshot of a version no
// longer offered must be upgraded (ModifyDBSnapshot, SDK v1.133.0 doc comment: "Updates a
// manual DB snapshot with a new engine version ... MariaDB, MySQL, PostgreSQL, and Oracle")
// before it can be restored; AWS's exact message for such a restore is not documented: the
// same "Cannot find version" wording is used (the stricter assumption: the restore fails).

func init() {
	registerRDS("DescribeDBEngineVersions", describeDBEngineVersions)
}

// RetireEngineVersion makes AWS stop offering an engine version, as it does when a version
// reaches its end of standard support: instances on it keep running, new ones (and restores
// of its snapshots) are refused, and DescribeDBEngineVersions lists it only with IncludeAll.
func (s *Sim) RetireEngineVersion(engine, version string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.retiredVersions == nil {
		s.retiredVersions = map[string]bool{}
	}
	s.retiredVersions[strings.ToLower(engine)+"\x00"+version] = true
}

func (s *Sim) versionRetired(engine, version string) bool {
	return s.retiredVersions[engine+"\x00"+version]
}

// versionOffered reports whether the engine version can be used for a new instance or cluster.
func (s *Sim) versionOffered(engine, version string) bool {
	if s.versionRetired(engine, version) {
		return false
	}
	for _, v := range engineVersions(engine) {
		if v == version {
			return true
		}
	}
	return false
}

func errVersionNotFound(engine, version string) *apiError {
	return errCombination("Cannot find version %s for %s", version, engine)
}

type xmlEngineVersion struct {
	Engine                 string
	EngineVersion          string
	MajorEngineVersion     string
	DBParameterGroupFamily string
	DBEngineDescription    string
	Status                 string
}

type describeEngineVersionsResult struct {
	DBEngineVersions []*xmlEngineVersion `xml:"DBEngineVersions>DBEngineVersion"`
	Marker           string              `xml:",omitempty"`
}

func describeDBEngineVersions(c *call) (any, error) {
	s, p := c.sim, c.p
	engine, byEngine := p.str("Engine")
	version, byVersion := p.str("EngineVersion")
	includeAll := p.boolean("IncludeAll", false)
	p.boolean("DefaultOnly", false)
	max, marker := pageArgs(p)
	p.filters("engine", "engine-version", "status")
	if err := p.Err(); err != nil {
		return nil, err
	}
	engine = strings.ToLower(engine)
	var all []*xmlEngineVersion
	for name, eng := range engines {
		if byEngine && name != engine {
			continue
		}
		versions := engineVersions(name)
		for key := range s.retiredVersions {
			if e, v, _ := strings.Cut(key, "\x00"); e == name && !contains(versions, v) {
				versions = append(versions, v)
			}
		}
		for _, v := range versions {
			if byVersion && v != version {
				continue
			}
			status := "available"
			if s.versionRetired(name, v) {
				if !includeAll {
					continue
				}
				status = "deprecated"
			}
			all = append(all, &xmlEngineVersion{Engine: name, EngineVersion: v, MajorEngineVersion: majorOf(v, 2),
				DBParameterGroupFamily: eng.Family(v), DBEngineDescription: name, Status: status})
		}
	}
	page, next := paginate(all, func(v *xmlEngineVersion) string { return v.Engine + "\x00" + v.EngineVersion }, max, marker)
	return describeEngineVersionsResult{DBEngineVersions: page, Marker: next}, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// RDS Custom engines. Creating or restoring one needs an instance profile (SDK v1.133.0 doc
// comments of CreateDBInstanceInput and RestoreDBInstanceFromDBSnapshotInput
// .CustomIamInstanceProfile: "This setting is required for RDS Custom"); AWS's exact message
// when it is missing is not documented: the simulator's names the parameter.
func init() {
	engines["custom-oracle-ee"] = &engineInfo{DefaultVersion: "19.cev-orders.1", Port: 1521, License: "bring-your-own-license",
		Family: func(string) string { return "custom-oracle-ee-19" }, OptionGroup: func(string) string { return "default:custom-oracle-ee-19" },
		LogTypes: []string{"alert", "audit", "listener", "trace"}}
	engines["custom-sqlserver-se"] = &engineInfo{DefaultVersion: "15.00.4249.2.v1", Port: 1433, License: "license-included",
		Family: func(string) string { return "custom-sqlserver-se-15.0" }, OptionGroup: func(string) string { return "default:custom-sqlserver-se-15-00" },
		LogTypes: []string{"agent", "error"}}
}

// requireInstanceProfile refuses an RDS Custom create or restore without
// CustomIamInstanceProfile.
func requireInstanceProfile(p *params, engine string) *apiError {
	if strings.HasPrefix(engine, "custom-") && p.get("CustomIamInstanceProfile") == "" {
		return errCombination("CustomIamInstanceProfile is required for RDS Custom engine %s.", engine)
	}
	return nil
}
