package rdssim

import "fmt"

// Hooks through which the core asks other resource families. Files that implement a family
// replace or fill these from their init functions; the defaults accept names as given.

// groupCheck validates a group name an instance refers to. kind is "db-parameter-group",
// "option-group" or "db-subnet-group". A nil result accepts the name.
type groupCheck func(s *Sim, r *region, name, engine, version string) *apiError

var groupChecks = map[string]groupCheck{}

func (s *Sim) checkGroup(r *region, kind, name, engine, version string) *apiError {
	if chk := groupChecks[kind]; chk != nil && name != "" {
		return chk(s, r, name, engine, version)
	}
	return nil
}

// subnetGroupView renders the DBSubnetGroup element of an instance. The default describes any
// name as a group of three subnets in the region's default VPC.
var subnetGroupView = func(s *Sim, r *region, name string) *xmlSubnetGroup {
	g := &xmlSubnetGroup{DBSubnetGroupName: name, VpcId: r.defaultVPC, SubnetGroupStatus: "Complete",
		DBSubnetGroupDescription: name, SupportedNetworkTypes: []string{"IPV4"}}
	if name == "default" {
		g.DBSubnetGroupDescription = "default"
	} else {
		g.DBSubnetGroupArn = s.rdsARN(r.name, "subgrp", name)
	}
	for n, az := range r.zones() {
		sn := xmlSubnet{SubnetIdentifier: fmt.Sprintf("subnet-%s%02d", r.defaultVPC[4:], n), SubnetStatus: "Active"}
		sn.SubnetAvailabilityZone.Name = az
		g.Subnets = append(g.Subnets, sn)
	}
	return g
}

// clusterMemberHook is called by CreateDBInstance when DBClusterIdentifier is given (Aurora or
// Multi-AZ cluster members). It must validate the cluster and may adjust the instance (it is
// not yet stored). Without a cluster implementation every cluster is unknown.
var clusterMemberHook = func(c *call, inst *instance, clusterID string) *apiError {
	return errf("DBClusterNotFoundFault", "DBCluster %s not found.", clusterID)
}

// clusterSnapshotRestoreHook serves RestoreDBInstanceFromDBSnapshot with
// DBClusterSnapshotIdentifier (Multi-AZ cluster snapshot to instance).
var clusterSnapshotRestoreHook = func(c *call, ref string) (*snapshot, *apiError) {
	return nil, errf("DBClusterSnapshotNotFoundFault", "DBClusterSnapshot %s not found.", ref)
}
