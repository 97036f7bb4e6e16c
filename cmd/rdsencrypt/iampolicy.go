package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rdsencrypt/rdsencrypt/internal/iampolicy"
)

type iamPolicyOptions struct {
	Cluster     bool
	CrossRegion bool
	Account     string
	Partition   string
	Explain     bool
}

func (a *app) iamPolicyCommand() *cobra.Command {
	var o iamPolicyOptions
	cmd := &cobra.Command{
		Use:   "iam-policy [--cluster] [--cross-region]",
		Short: "Print the least-privilege IAM policy rdsencrypt needs (JSON); makes no AWS call",
		Long: `iam-policy prints the IAM policy document rdsencrypt needs: the RDS actions of an instance
migration (with --cluster, of an Aurora cluster migration too), narrowed to the names and
tags rdsencrypt gives what it creates wherever AWS supports it, and kms:DescribeKey plus
kms:CreateGrant through RDS only. With --region (and without --cross-region) resources are
limited to that region. --explain writes, to stderr, why each statement is as narrow as it
is and where AWS does not allow narrowing it further.`,
		Example: `  rdsencrypt iam-policy > rdsencrypt-policy.json
  rdsencrypt iam-policy --cluster --cross-region --explain
  rdsencrypt iam-policy --region us-east-1 --account 123456789012`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			doc := iampolicy.New(iampolicy.Options{Cluster: o.Cluster, CrossRegion: o.CrossRegion,
				Partition: o.Partition, Account: o.Account, Region: a.opts.Region, DBIAMUser: a.opts.DBIAMUser})
			b, err := doc.JSON()
			if err != nil {
				return err
			}
			if _, err := a.streams.Out.Write(b); err != nil {
				return err
			}
			if o.Explain {
				for _, s := range doc.Statement {
					fmt.Fprintf(a.streams.Err, "%s: %s\n", s.Sid, s.Why)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.Cluster, "cluster", false, "include the Aurora cluster actions")
	f.BoolVar(&o.CrossRegion, "cross-region", false, "allow every region (replicas and keys in other regions)")
	f.StringVar(&o.Account, "account", "*", "AWS account id to put in resource ARNs")
	f.StringVar(&o.Partition, "partition", "aws", "AWS partition (aws, aws-cn, aws-us-gov)")
	f.BoolVar(&o.Explain, "explain", false, "write the reason and limits of each statement to stderr")
	return cmd
}
