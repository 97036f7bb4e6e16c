package workflow

import (
	"errors"
	"os"
	"regexp"

	"github.com/rdsencrypt/rdsencrypt/internal/journal"
)

// StatusCorrupt is the status shown for a journal that cannot be read: the migration it
// records is not trusted, and blocks its source until its journal is rebuilt from the tags.
const StatusCorrupt = "corrupt"

// corruptFields reads what it can of a corrupt journal: the source, region and kind written
// near its start, for the rebuild command. Nothing read here is trusted for anything else.
var corruptFields = map[string]*regexp.Regexp{
	"source": regexp.MustCompile(`"source"\s*:\s*"([a-zA-Z][a-zA-Z0-9-]{0,62})"`),
	"region": regexp.MustCompile(`"region"\s*:\s*"([a-z0-9-]{1,30})"`),
	"kind":   regexp.MustCompile(`"kind"\s*:\s*"(instance|cluster)"`),
}

// CorruptJournal is what is known of one journal that cannot be read.
type CorruptJournal struct {
	ID     string
	Reason string
	Source string // "" when not even that could be read
	Region string
	Kind   string
}

// CorruptJournals picks the corrupt journals out of the problems Store.List reports.
func CorruptJournals(problems []error) []CorruptJournal {
	var out []CorruptJournal
	for _, p := range problems {
		var ce *journal.CorruptError
		if !errors.As(p, &ce) {
			continue
		}
		cj := CorruptJournal{ID: ce.ID, Reason: ce.Reason}
		if b, err := os.ReadFile(ce.Path); err == nil {
			for field, re := range corruptFields {
				if m := re.FindSubmatch(b); m != nil {
					switch field {
					case "source":
						cj.Source = string(m[1])
					case "region":
						cj.Region = string(m[1])
					case "kind":
						cj.Kind = string(m[1])
					}
				}
			}
		}
		out = append(out, cj)
	}
	return out
}

// RebuildCommand is the command that rebuilds this journal from the AWS tags.
func (c CorruptJournal) RebuildCommand() string {
	src := c.Source
	if src == "" {
		src = "<source identifier>"
	}
	cmd := "rdsencrypt resume --source " + src
	if c.Kind == KindCluster {
		cmd += " --cluster"
	}
	if c.Region != "" {
		cmd += " --region " + c.Region
	}
	return cmd
}

// Report is the status report of a corrupt journal.
func (c CorruptJournal) Report() *Report {
	return &Report{MigrationID: c.ID, Source: c.Source, Kind: c.Kind, Region: c.Region, Status: StatusCorrupt,
		Steps: []StepReport{}, Parity: Parity{Differences: []Difference{}},
		Error: "journal cannot be read (" + c.Reason + "): it is not trusted", Next: c.RebuildCommand()}
}
