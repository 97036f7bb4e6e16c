package awsclient

import (
	"context"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// LogFiles lists an instance's log files whose names contain the text, oldest first
// (by LastWritten, then name).
func (c *regionClient) LogFiles(ctx context.Context, instanceID, contains string) ([]string, error) {
	ctx = withTarget(ctx, instanceID)
	type file struct {
		name    string
		written int64
	}
	var files []file
	pages := rds.NewDescribeDBLogFilesPaginator(c.rds, &rds.DescribeDBLogFilesInput{DBInstanceIdentifier: aws.String(instanceID),
		FilenameContains: aws.String(contains)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, translateError("DescribeDBLogFiles", instanceID, err)
		}
		for _, f := range page.DescribeDBLogFiles {
			files = append(files, file{str(f.LogFileName), aws.ToInt64(f.LastWritten)})
		}
	}
	sort.Slice(files, func(i, j int) bool {
		if files[i].written != files[j].written {
			return files[i].written < files[j].written
		}
		return files[i].name < files[j].name
	})
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.name
	}
	return out, nil
}

// ReadLogFile reads a log file from its start: Marker "0" reads from the beginning (the AWS
// CLI's example for download-db-log-file-portion: "to download the entire file, you need
// --starting-token 0"), and each answer's Marker continues while AdditionalDataPending is true.
func (c *regionClient) ReadLogFile(ctx context.Context, instanceID, name string) (string, error) {
	ctx = withTarget(ctx, instanceID)
	var b strings.Builder
	marker := "0"
	for range 10000 {
		out, err := c.rds.DownloadDBLogFilePortion(ctx, &rds.DownloadDBLogFilePortionInput{DBInstanceIdentifier: aws.String(instanceID),
			LogFileName: aws.String(name), Marker: aws.String(marker)})
		if err != nil {
			return "", translateError("DownloadDBLogFilePortion", instanceID, err)
		}
		b.WriteString(str(out.LogFileData))
		if !aws.ToBool(out.AdditionalDataPending) || str(out.Marker) == "" || str(out.Marker) == marker {
			break
		}
		marker = str(out.Marker)
	}
	return b.String(), nil
}
