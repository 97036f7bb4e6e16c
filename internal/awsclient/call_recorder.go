package awsclient

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

type targetKey struct{}

// withTarget tells the call recorder which identifier the calls made with ctx are about.
func withTarget(ctx context.Context, target string) context.Context {
	return context.WithValue(ctx, targetKey{}, target)
}

func targetOf(ctx context.Context) string {
	s, _ := ctx.Value(targetKey{}).(string)
	return s
}

// callState is shared between the per-call and per-attempt halves of the recorder.
type callState struct {
	attempts  int
	requestID string
	awsTime   time.Time
}

type callStateKey struct{}

const (
	callRecorderID  = "rdsencrypt.CallRecorder"
	responseProbeID = "rdsencrypt.ResponseProbe"
)

// addCallRecorder adds two middlewares: one around the whole call (Initialize step) that
// reports it, and one around each attempt (Deserialize step) that notes the request id and
// the Date header, which also feeds ServerTime.
func addCallRecorder(region string, clock *serverClock, logger *slog.Logger, onCall func(CallRecord)) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		whole := middleware.InitializeMiddlewareFunc(callRecorderID, func(
			ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler,
		) (middleware.InitializeOutput, middleware.Metadata, error) {
			state := &callState{}
			ctx = context.WithValue(ctx, callStateKey{}, state)
			start := time.Now()
			out, md, err := next.HandleInitialize(ctx, in)
			if err == nil && state.attempts == 0 {
				// Nothing was sent: the SDK presigned a URL by running an operation's stack
				// (PreSignedUrl of a cross-region CreateDBInstanceReadReplica or
				// CopyDBSnapshot). It is part of the outer call, not a call of its own.
				return out, md, err
			}
			rec := CallRecord{
				Action:    middleware.GetOperationName(ctx),
				Region:    region,
				Target:    targetOf(ctx),
				Coalesced: coalescedOf(ctx),
				RequestID: state.requestID,
				AWSTime:   state.awsTime,
				Attempts:  state.attempts,
				Duration:  time.Since(start),
			}
			if err != nil {
				rec.Err = translateError(rec.Action, rec.Target, err)
			}
			logCall(ctx, logger, rec)
			if onCall != nil {
				onCall(rec)
			}
			if observe := CallObserverFrom(ctx); observe != nil {
				observe(rec)
			}
			return out, md, err
		})
		if err := stack.Initialize.Add(whole, middleware.Before); err != nil {
			return err
		}
		perAttempt := middleware.DeserializeMiddlewareFunc(responseProbeID, func(
			ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler,
		) (middleware.DeserializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleDeserialize(ctx, in)
			state, _ := ctx.Value(callStateKey{}).(*callState)
			if state == nil {
				return out, md, err
			}
			state.attempts++
			if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp != nil {
				state.requestID = requestIDOf(resp)
				state.awsTime = clock.observe(resp.Header)
			}
			return out, md, err
		})
		return stack.Deserialize.Add(perAttempt, middleware.After)
	}
}

func requestIDOf(resp *smithyhttp.Response) string {
	if id := resp.Header.Get("X-Amzn-Requestid"); id != "" {
		return id
	}
	return resp.Header.Get("X-Amz-Requestid")
}

func logCall(ctx context.Context, logger *slog.Logger, rec CallRecord) {
	if !logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []any{
		"action", rec.Action, "region", rec.Region, "target", rec.Target,
		"request_id", rec.RequestID, "attempts", rec.Attempts, "duration", rec.Duration,
	}
	if rec.Err != nil {
		attrs = append(attrs, "error", rec.Err)
	}
	logger.DebugContext(ctx, "aws call", attrs...)
}
