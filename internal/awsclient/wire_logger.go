package awsclient

import (
	"bytes"
	"context"
	"io"
	"log/slog"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const wireLoggerID = "rdsencrypt.WireLogger"

// maxLoggedBody keeps a huge Describe page from flooding the debug log.
const maxLoggedBody = 16 << 10

// addWireLogger logs each attempt's request and response bodies at debug level. Headers
// are not logged (Authorization carries the access key id); request bodies go through
// redactFormBody (presigned URLs of cross-region calls carry a signature), response bodies
// through redactResponseBody (GetSecretValue answers with the master password).
func addWireLogger(logger *slog.Logger) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		mw := middleware.DeserializeMiddlewareFunc(wireLoggerID, func(
			ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler,
		) (middleware.DeserializeOutput, middleware.Metadata, error) {
			if !logger.Enabled(ctx, slog.LevelDebug) {
				return next.HandleDeserialize(ctx, in)
			}
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				logger.DebugContext(ctx, "aws request",
					"action", middleware.GetOperationName(ctx), "url", req.URL.String(),
					"body", redactFormBody(requestBody(req)))
			}
			out, md, err := next.HandleDeserialize(ctx, in)
			if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp != nil {
				logger.DebugContext(ctx, "aws response",
					"action", middleware.GetOperationName(ctx), "status", resp.StatusCode,
					"request_id", requestIDOf(resp), "body", redactResponseBody(responseBody(resp)))
			}
			return out, md, err
		})
		return stack.Deserialize.Add(mw, middleware.After)
	}
}

func requestBody(req *smithyhttp.Request) string {
	if !req.IsStreamSeekable() || req.GetStream() == nil {
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(req.GetStream(), maxLoggedBody))
	if rerr := req.RewindStream(); rerr != nil || err != nil {
		return ""
	}
	return string(b)
}

// responseBody reads the body and puts an identical one back for the deserializer.
func responseBody(resp *smithyhttp.Response) string {
	if resp.Body == nil {
		return ""
	}
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		// Hand the deserializer the same failure, not a silently short body: a transport
		// error is retried, a truncated document would fail as a parse error.
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), failingReader{err}))
		return "(unreadable: " + err.Error() + ")"
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if len(b) > maxLoggedBody {
		b = b[:maxLoggedBody]
	}
	return string(b)
}

// failingReader returns its error on every read.
type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }
