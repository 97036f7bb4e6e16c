package rdssim

import "strings"

// engineInfo holds the defaults of one RDS engine. Other files (orderable options, parameter
// groups) may add entries to engines from init functions.
type engineInfo struct {
	DefaultVersion string
	Port           int32
	License        string
	// Family returns the parameter group family of a version, e.g. "postgres16".
	Family func(version string) string
	// OptionGroup returns the default option group of a version, e.g. "default:postgres-16".
	OptionGroup func(version string) string
	LogTypes    []string
	Aurora      bool
}

func majorOf(version string, parts int) string {
	f := strings.Split(version, ".")
	if len(f) > parts {
		f = f[:parts]
	}
	return strings.Join(f, ".")
}

func familyFn(prefix string, parts int) func(string) string {
	return func(v string) string { return prefix + majorOf(v, parts) }
}

func optionGroupFn(name string, parts int) func(string) string {
	return func(v string) string {
		return "default:" + name + "-" + strings.ReplaceAll(majorOf(v, parts), ".", "-")
	}
}

func oracle(edition string) *engineInfo {
	return &engineInfo{DefaultVersion: "19.0.0.0.ru-2024-10.rur-2024-10.r1", Port: 1521, License: "bring-your-own-license",
		Family: familyFn(edition+"-", 1), OptionGroup: optionGroupFn(edition, 1),
		LogTypes: []string{"alert", "audit", "listener", "trace", "oemagent"}}
}

func sqlserver(edition string) *engineInfo {
	return &engineInfo{DefaultVersion: "15.00.4415.2.v1", Port: 1433, License: "license-included",
		Family: familyFn(edition+"-", 2), OptionGroup: optionGroupFn(edition, 2),
		LogTypes: []string{"agent", "error"}}
}

var engines = map[string]*engineInfo{
	"mysql": {DefaultVersion: "8.0.40", Port: 3306, License: "general-public-license",
		Family: familyFn("mysql", 2), OptionGroup: optionGroupFn("mysql", 2),
		LogTypes: []string{"audit", "error", "general", "slowquery", "iam-db-auth-error"}},
	"mariadb": {DefaultVersion: "10.11.10", Port: 3306, License: "general-public-license",
		Family: familyFn("mariadb", 2), OptionGroup: optionGroupFn("mariadb", 2),
		LogTypes: []string{"audit", "error", "general", "slowquery"}},
	"postgres": {DefaultVersion: "16.6", Port: 5432, License: "postgresql-license",
		Family: familyFn("postgres", 1), OptionGroup: optionGroupFn("postgres", 1),
		LogTypes: []string{"postgresql", "upgrade", "iam-db-auth-error"}},
	"oracle-ee":      oracle("oracle-ee"),
	"oracle-ee-cdb":  oracle("oracle-ee-cdb"),
	"oracle-se2":     oracle("oracle-se2"),
	"oracle-se2-cdb": oracle("oracle-se2-cdb"),
	"sqlserver-ee":   sqlserver("sqlserver-ee"),
	"sqlserver-se":   sqlserver("sqlserver-se"),
	"sqlserver-ex":   sqlserver("sqlserver-ex"),
	"sqlserver-web":  sqlserver("sqlserver-web"),
	"db2-se": {DefaultVersion: "11.5.9.0.sb00000000.r1", Port: 50000, License: "bring-your-own-license",
		Family: familyFn("db2-se-", 2), OptionGroup: optionGroupFn("db2-se", 2), LogTypes: []string{"diag.log", "notify.log"}},
	"db2-ae": {DefaultVersion: "11.5.9.0.sb00000000.r1", Port: 50000, License: "bring-your-own-license",
		Family: familyFn("db2-ae-", 2), OptionGroup: optionGroupFn("db2-ae", 2), LogTypes: []string{"diag.log", "notify.log"}},
	"aurora-mysql": {DefaultVersion: "8.0.mysql_aurora.3.08.0", Port: 3306, License: "general-public-license",
		Family: func(string) string { return "aurora-mysql8.0" }, OptionGroup: func(string) string { return "default:aurora-mysql-8-0" },
		LogTypes: []string{"audit", "error", "general", "slowquery", "iam-db-auth-error"}, Aurora: true},
	"aurora-postgresql": {DefaultVersion: "16.6", Port: 5432, License: "postgresql-license",
		Family: familyFn("aurora-postgresql", 1), OptionGroup: optionGroupFn("aurora-postgresql", 1),
		LogTypes: []string{"postgresql", "iam-db-auth-error"}, Aurora: true},
}

// engineBase returns the engine family used to decide restore compatibility ("oracle-ee" ->
// "oracle").
func engineBase(engine string) string {
	for _, p := range []string{"oracle", "sqlserver", "db2", "aurora-mysql", "aurora-postgresql"} {
		if strings.HasPrefix(engine, p) {
			return p
		}
	}
	return engine
}

// defaultCA is the region's default certificate authority for new instances.
const defaultCA = "rds-ca-rsa2048-g1"

var knownCAs = map[string]bool{"rds-ca-rsa2048-g1": true, "rds-ca-rsa4096-g1": true, "rds-ca-ecc384-g1": true, "rds-ca-2019": true}
