package model

import "strconv"

// Change detection for Poll (see observable).

func (i *Instance) StateKey() string {
	if i == nil {
		return ""
	}
	return i.ID + "|" + i.Status
}

func (i *Instance) ProgressKey() string {
	if i == nil {
		return ""
	}
	return i.PercentProgress
}

func (s *Snapshot) StateKey() string {
	if s == nil {
		return ""
	}
	return s.ID + "|" + s.Status
}

func (s *Snapshot) ProgressKey() string {
	if s == nil {
		return ""
	}
	return strconv.Itoa(int(s.PercentProgress))
}

func (c *Cluster) StateKey() string {
	if c == nil {
		return ""
	}
	return c.ID + "|" + c.Status
}

func (c *Cluster) ProgressKey() string { return "" }
