package awsclient

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// pager is what the SDK's Describe paginators have in common.
type pager[Page any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*rds.Options)) (Page, error)
}

// allPages reads every page of p and returns the records items picks out of them, in order.
func allPages[Page, Record any](ctx context.Context, p pager[Page], items func(Page) []Record) ([]Record, error) {
	var out []Record
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, items(page)...)
	}
	return out, nil
}

// convertAll converts SDK records of region with from; nil for none.
func convertAll[Record, T any](region string, records []Record, from func(string, *Record) *T) []T {
	var out []T
	for i := range records {
		out = append(out, *from(region, &records[i]))
	}
	return out
}
