package model

import (
	"context"
	"time"
)

// Network is the set of EC2 and CloudWatch calls of an enforced write freeze in one region:
// a security group without inbound rules to put on the source, and the source's
// DatabaseConnections metric to verify that no session is left. Errors are *Error values;
// a group that does not exist gives KindNotFound.
type Network interface {
	// CreateSecurityGroup creates a VPC security group (no inbound rule, AWS's default
	// outbound rule) tagged with tags.
	CreateSecurityGroup(ctx context.Context, name, description, vpcID string, tags Tags) (*SecurityGroup, error)
	DescribeSecurityGroup(ctx context.Context, id string) (*SecurityGroup, error)
	// FindSecurityGroups lists the groups carrying the tag key=value.
	FindSecurityGroups(ctx context.Context, key, value string) ([]SecurityGroup, error)
	DeleteSecurityGroup(ctx context.Context, id string) error
	// InstanceMetric returns an AWS/RDS metric of a DB instance (DatabaseConnections,
	// WriteIOPS) as the per-minute Maximum between from and to, oldest first.
	InstanceMetric(ctx context.Context, instanceID, metric string, from, to time.Time) ([]MetricPoint, error)
}

// SecurityGroup is a VPC security group.
type SecurityGroup struct {
	ID, Name, VpcID string
	// InboundRules is the number of inbound permissions; 0 lets no new connection in.
	InboundRules int
	Tags         Tags
}

// MetricPoint is one datapoint of a metric.
type MetricPoint struct {
	At    time.Time
	Value float64
}
