package rdssim

// DescribeAccountAttributes: the quotas the simulator enforces, with their use in the
// region. Names and meanings follow the SDK v1.133.0 doc comment of types.AccountQuota:
// "ManualSnapshots - The number of manual DB instance snapshots per account. The used value
// is the count of the manual DB instance snapshots in the account." (ManualClusterSnapshots
// likewise for DB cluster snapshots), "DBParameterGroups - The number of DB parameter groups per
// account, excluding default parameter groups". AWS counts them per region.

func init() {
	registerRDS("DescribeAccountAttributes", describeAccountAttributes)
}

type xmlAccountQuota struct {
	AccountQuotaName string
	Used             int64
	Max              int64
}

type accountAttributesResult struct {
	AccountQuotas []xmlAccountQuota `xml:"AccountQuotas>AccountQuota"`
}

func describeAccountAttributes(c *call) (any, error) {
	s, r := c.sim, c.r
	max := int64(s.opts.ManualSnapshotQuota)
	return accountAttributesResult{AccountQuotas: []xmlAccountQuota{
		{AccountQuotaName: "ManualSnapshots", Used: int64(manualSnapshotCount(r)), Max: max},
		{AccountQuotaName: "ManualClusterSnapshots", Used: int64(manualClusterSnapshotCount(r)), Max: max},
		{AccountQuotaName: "DBParameterGroups", Used: int64(customParamGroups(r)), Max: int64(s.opts.ParameterGroupQuota)},
	}}, nil
}
