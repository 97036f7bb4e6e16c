package awsclient

import "strconv"

// Change detection for Poll (see observable).

func (i *Instance) observedState() string {
	if i == nil {
		return ""
	}
	return i.ID + "|" + i.Status
}

func (i *Instance) observedProgress() string {
	if i == nil {
		return ""
	}
	return i.PercentProgress
}

func (s *Snapshot) observedState() string {
	if s == nil {
		return ""
	}
	return s.ID + "|" + s.Status
}

func (s *Snapshot) observedProgress() string {
	if s == nil {
		return ""
	}
	return strconv.Itoa(int(s.PercentProgress))
}

func (c *Cluster) observedState() string {
	if c == nil {
		return ""
	}
	return c.ID + "|" + c.Status
}

func (c *Cluster) observedProgress() string { return "" }
