package integration

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
)

// The end-to-end secrets check (every file and output of migrate, resume, cleanup and
// rollback at --debug) is cmd/rdsencrypt/secrets_test.go; this one covers the calls the
// instance path does not make.

// A cross-region call carries a presigned URL (access key id and signature) in its body;
// the --debug wire log must not show it.
func TestDebugLogHidesPresignedURLs(t *testing.T) {
	e := newEnv(t)
	e.createInstance(simpleSource("ledger"))
	createKeyIn(t, e.h.KMS(otherRegion), "alias/eu")
	var log bytes.Buffer
	client := awsclient.NewForSimulator(awsclient.Config{Region: region, EndpointURL: e.h.URL, MaxBackoff: 5 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ctx := context.Background()
	snap, err := client.For(region).CreateSnapshot(ctx, "ledger", "ledger-plain", nil)
	require.NoError(t, err)
	e.h.Advance(time.Hour)
	_, err = client.For(otherRegion).CopySnapshot(ctx, model.CopySnapshotInput{SourceID: snap.ARN, SourceRegion: region,
		TargetID: "ledger-eu", KmsKeyID: "alias/eu"})
	require.NoError(t, err)
	require.Contains(t, log.String(), "PreSignedUrl", "the copy was presigned and logged")
	for _, s := range []string{"X-Amz-Signature", "X-Amz-Credential", "AKIDSIMULATOR"} {
		assert.NotContains(t, log.String(), s)
	}
}
