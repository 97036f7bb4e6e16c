package rdssim

import (
	"fmt"
	"strings"
	"time"
)

// DescribeEvents serves the simulator's event log (events.go) as RDS events: one event per
// recorded state change of an instance, DB snapshot, cluster, cluster snapshot or parameter
// group of the caller's region, with the wording and categories of the RDS event catalogue
// where one exists (USER_Events.Messages).

func init() {
	registerRDS("DescribeEvents", describeEvents)
}

// eventSourceTypes maps event log types to RDS SourceType values.
var eventSourceTypes = map[string]string{
	"instance":         "db-instance",
	"snapshot":         "db-snapshot",
	"cluster":          "db-cluster",
	"cluster-snapshot": "db-cluster-snapshot",
	"pg":               "db-parameter-group",
	"cluster-pg":       "db-parameter-group",
}

var validSourceTypes = map[string]bool{"db-instance": true, "db-parameter-group": true, "db-security-group": true,
	"db-snapshot": true, "db-cluster": true, "db-cluster-snapshot": true, "custom-engine-version": true,
	"db-proxy": true, "blue-green-deployment": true, "db-shard-group": true, "zero-etl": true}

type xmlEvent struct {
	SourceIdentifier string
	SourceType       string
	Message          string
	EventCategories  []string `xml:"EventCategories>EventCategory"`
	Date             string
	SourceArn        string
}

type describeEventsResult struct {
	Events []*xmlEvent `xml:"Events>Event"`
	Marker string      `xml:",omitempty"`
}

// eventText returns the message and categories of a state change, given the resource's
// previous status ("" for its first event).
func eventText(e Event, prev string) (string, []string) {
	noun := map[string]string{"instance": "DB instance", "cluster": "DB cluster"}[e.Type]
	switch e.Type {
	case "instance", "cluster":
		switch e.Status {
		case "creating":
			switch {
			case strings.HasPrefix(e.Action, "Restore"):
				return "Restoring " + noun + " from snapshot", []string{"restoration"}
			case e.Action == "CreateDBInstanceReadReplica":
				return "Creating read replica", []string{"read replica"}
			}
			return "Creating " + noun, []string{"creation"}
		case "backing-up":
			return "Backing up " + noun, []string{"backup"}
		case "available":
			switch prev {
			case "creating":
				if strings.HasPrefix(e.Action, "Restore") {
					return "Restored from snapshot", []string{"restoration"}
				}
				return noun + " created", []string{"creation"}
			case "backing-up":
				if strings.HasPrefix(e.Action, "Create") && e.Action != "CreateDBSnapshot" && e.Action != "CreateDBClusterSnapshot" ||
					strings.HasPrefix(e.Action, "Restore") {
					return noun + " created", []string{"creation"}
				}
				return "Finished " + noun + " backup", []string{"backup"}
			case "modifying":
				return "Finished applying modification to " + noun, []string{"configuration change"}
			case "renaming":
				return "Renamed " + noun, []string{"configuration change"}
			case "rebooting":
				return noun + " restarted", []string{"availability"}
			case "starting":
				return noun + " started", []string{"notification"}
			}
			return noun + " is available", []string{"notification"}
		case "modifying":
			return "Applying modification to " + noun, []string{"configuration change"}
		case "renaming":
			return "Renaming " + noun, []string{"configuration change"}
		case "rebooting":
			return noun + " restarting", []string{"availability"}
		case "deleting":
			return "Deleting " + noun, []string{"deletion"}
		case "deleted":
			return noun + " deleted", []string{"deletion"}
		case "stopped":
			return noun + " stopped", []string{"notification"}
		case statusIncompatibleRest:
			return "Database instance is in a state that cannot be restored: incompatible-restore", []string{"failure"}
		case statusInaccessibleCreds:
			return noun + " can't access its AWS KMS key: the key is disabled or deleted", []string{"failure"}
		}
		return noun + " status changed to " + e.Status, []string{"notification"}
	case "snapshot", "cluster-snapshot":
		kind := "snapshot"
		if e.Type == "cluster-snapshot" {
			kind = "cluster snapshot"
		}
		auto := strings.HasPrefix(e.ID, "rds:")
		copying := strings.HasPrefix(e.Action, "Copy")
		switch e.Status {
		case "creating", "copying", "pending":
			if copying {
				return "Started copy of " + kind, []string{"notification"}
			}
			if auto {
				return "Creating automated " + kind, []string{"creation"}
			}
			return "Creating manual " + kind, []string{"creation"}
		case "available":
			switch {
			case copying:
				return "Finished copy of " + kind, []string{"notification"}
			case auto:
				return "Automated " + kind + " created", []string{"creation"}
			}
			return "Manual " + kind + " created", []string{"creation"}
		case "failed":
			if copying {
				return "Failed to copy " + kind, []string{"failure"}
			}
			return "Failed to create " + kind, []string{"failure"}
		case "deleting":
			return "Deleting " + kind, []string{"deletion"}
		case "deleted":
			return "Deleted manual " + kind, []string{"deletion"}
		}
		return kind + " status changed to " + e.Status, []string{"notification"}
	case "pg", "cluster-pg":
		if e.Status == "modified" {
			return "Updated parameter group", []string{"configuration change"}
		}
		return "Created parameter group", []string{"configuration change"}
	}
	return "", nil
}

func (s *Sim) eventSourceARN(e Event) string {
	switch e.Type {
	case "instance":
		return s.rdsARN(e.Region, "db", e.ID)
	case "cluster":
		return s.rdsARN(e.Region, "cluster", e.ID)
	}
	return e.ResourceID // snapshots and groups record their ARN
}

func describeEvents(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	srcID, bySrc := p.str("SourceIdentifier")
	srcType, byType := p.str("SourceType")
	start, end := p.timep("StartTime"), p.timep("EndTime")
	dur := p.intp("Duration")
	cats, _ := p.list("EventCategories", "EventCategory")
	max, marker := pageArgs(p)
	p.filters()
	if err := p.Err(); err != nil {
		return nil, err
	}
	if byType && !validSourceTypes[srcType] {
		return nil, errInvalidValue("Invalid source type: %s", srcType)
	}
	if bySrc && !byType {
		return nil, errCombination("If SourceIdentifier is supplied, SourceType must also be provided.")
	}
	from, to := windowOf(c.now, start, end, dur)
	if to.Before(from) {
		return nil, errInvalidValue("The parameter StartTime must be earlier than EndTime.")
	}
	type row struct {
		key string
		x   *xmlEvent
	}
	var rows []row
	prev := map[string]string{}
	for n, e := range s.events {
		last := prev[e.Type+"/"+e.ResourceID]
		prev[e.Type+"/"+e.ResourceID] = e.Status
		st := eventSourceTypes[e.Type]
		if st == "" || e.Region != r.name || e.Time.Before(from) || e.Time.After(to) {
			continue
		}
		if (byType && st != srcType) || (bySrc && !strings.EqualFold(e.ID, idOrARN(srcID))) {
			continue
		}
		msg, ec := eventText(e, last)
		if len(cats) > 0 && !anyOf(ec, cats) {
			continue
		}
		rows = append(rows, row{key: fmt.Sprintf("%012d", n), x: &xmlEvent{SourceIdentifier: e.ID, SourceType: st,
			Message: msg, EventCategories: ec, Date: xmlTime(e.Time), SourceArn: s.eventSourceARN(e)}})
	}
	page, next := paginate(rows, func(x row) string { return x.key }, max, marker)
	res := describeEventsResult{Marker: next}
	for _, x := range page {
		res.Events = append(res.Events, x.x)
	}
	return res, nil
}

// windowOf returns the time interval of a DescribeEvents request: EndTime (default now) back
// to StartTime, or Duration minutes (default 60) around the given bound.
func windowOf(now time.Time, start, end *time.Time, dur *int32) (time.Time, time.Time) {
	d := 60 * time.Minute
	if dur != nil {
		d = time.Duration(*dur) * time.Minute
	}
	switch {
	case start != nil && end != nil:
		return *start, *end
	case start != nil && dur != nil:
		return *start, start.Add(d)
	case start != nil:
		return *start, now
	case end != nil:
		return end.Add(-d), *end
	}
	return now.Add(-d), now
}

func anyOf(have, want []string) bool {
	for _, h := range have {
		if matchAny(h, want) {
			return true
		}
	}
	return false
}
