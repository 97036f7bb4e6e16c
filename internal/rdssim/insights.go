package rdssim

// insights are the Performance Insights and Database Insights settings of a DB instance or
// an Aurora DB cluster, which take the same parameters (SDK v1.133.0 doc comments of
// CreateDBInstance, ModifyDBInstance, CreateDBCluster, ModifyDBCluster and
// RestoreDBClusterFromSnapshot: EnablePerformanceInsights, PerformanceInsightsKMSKeyId,
// PerformanceInsightsRetentionPeriod, DatabaseInsightsMode; a cluster restore takes the first
// three only, docs/aws-behaviour.md#aurora-settings-restore-does-not-keep).
type insights struct {
	PIEnabled            bool
	PIKMSKeyID           string
	PIRetention          int32
	DatabaseInsightsMode string
}

// parseInsights reads the insights parameters; mode says whether the action takes
// DatabaseInsightsMode.
func (s *Sim) parseInsights(p *params, r *region, c *insights, mode bool) {
	if b := p.boolp("EnablePerformanceInsights"); b != nil {
		c.PIEnabled = *b
	}
	if v, ok := p.str("PerformanceInsightsKMSKeyId"); ok && v != "" {
		k, e := s.usableKey(r, v)
		if e != nil {
			p.fail(e)
		} else {
			c.PIKMSKeyID = k.arn
		}
	}
	if v := p.intp("PerformanceInsightsRetentionPeriod"); v != nil {
		c.PIRetention = *v
	}
	if v, ok := p.str("DatabaseInsightsMode"); ok && mode {
		c.DatabaseInsightsMode = v
	}
}

// finishInsights validates the insights settings and fills their defaults: retention 7 days
// and the account's aws/rds key when Performance Insights is on; Database Insights standard
// unless advanced, which needs Performance Insights kept 465 days ("If you set this value to
// advanced, you must also set the PerformanceInsightsEnabled parameter to true and the
// PerformanceInsightsRetentionPeriod parameter to 465", SDK doc comment of
// CreateDBClusterInput.DatabaseInsightsMode; the instance's says the same).
func (s *Sim) finishInsights(r *region, c *insights) *apiError {
	if c.PIEnabled {
		if c.PIRetention == 0 {
			c.PIRetention = 7
		}
		if !(c.PIRetention == 7 || c.PIRetention == 731 || (c.PIRetention%31 == 0 && c.PIRetention <= 713)) {
			return errInvalidValue("Invalid Performance Insights retention period %d.", c.PIRetention)
		}
		if c.PIKMSKeyID == "" {
			c.PIKMSKeyID = s.managedKey(r, "alias/aws/rds").arn
		}
	} else {
		c.PIKMSKeyID, c.PIRetention = "", 0
	}
	switch c.DatabaseInsightsMode {
	case "", "standard":
		c.DatabaseInsightsMode = "standard"
	case "advanced":
		if !c.PIEnabled || c.PIRetention < 465 {
			return errCombination("Database Insights advanced mode requires Performance Insights with a retention period of at least 465 days.")
		}
	default:
		return errInvalidValue("Invalid DatabaseInsightsMode %s.", c.DatabaseInsightsMode)
	}
	return nil
}
