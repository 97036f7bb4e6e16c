package awsclient

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWireLoggerAtDebugLogsBodiesButNoCredentials(t *testing.T) {
	f := newFakeAWS(t)
	f.reply("DescribeDBSnapshots", ok("DescribeDBSnapshots", "<DBSnapshots>"+snapshotXML+"</DBSnapshots>"))
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	snap, err := f.client(Config{Logger: logger}).For("").DescribeSnapshot(t.Context(), "enc")
	require.NoError(t, err)
	assert.Equal(t, "enc", snap.ID, "the response body is still decoded after logging")
	out := buf.String()
	assert.Contains(t, out, "Action=DescribeDBSnapshots")
	assert.Contains(t, out, "<DBSnapshotIdentifier>enc</DBSnapshotIdentifier>")
	assert.Contains(t, out, "msg=\"aws call\"")
	assert.NotContains(t, out, "AKIDTEST")
	assert.NotContains(t, out, "Authorization")
}

func TestWireLoggerSilentAboveDebug(t *testing.T) {
	f := newFakeAWS(t)
	f.reply("DescribeDBSnapshots", ok("DescribeDBSnapshots", "<DBSnapshots>"+snapshotXML+"</DBSnapshots>"))
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	_, err := f.client(Config{Logger: logger}).For("").DescribeSnapshot(t.Context(), "enc")
	require.NoError(t, err)
	assert.Empty(t, buf.String())
}
