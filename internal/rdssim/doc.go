// Package rdssim is an in-process simulator of the Amazon RDS and AWS KMS control planes.
//
// It speaks the real wire protocols (RDS: AWS Query over POST form with XML responses; KMS:
// JSON 1.1 with X-Amz-Target) so the unmodified aws-sdk-go-v2 clients can be pointed at it with
// BaseEndpoint. Regions are told apart by the SigV4 credential scope of each request.
//
// Time is virtual (see clock.go): every state change is scheduled on a timeline at a virtual
// instant and applied lazily, in (time, sequence) order, whenever a request or a control call
// reads the state. The results therefore depend only on the virtual time at which requests
// arrive, never on goroutine scheduling.
//
// Layout: one file per resource family. Action handlers register themselves in registry.go's
// maps from init functions, so a new family (clusters, parameter groups, ...) is added by adding
// files: registerRDS("DescribeDBClusters", describeDBClusters), a per-region extension value
// (regionExt), reset hooks (onReset) and, where the core asks about another family, the hooks in
// hooks.go.
package rdssim
