package awsclient

import (
	"context"
	"io"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const requestBodyGuardID = "rdsencrypt.RequestBodyGuard"

// GuardRequestBody works around a race between smithy-go and net/http that fails a call
// whose response had already arrived (and so makes the SDK retry a mutating call that AWS
// has applied: the retry then meets AlreadyExists or NotFound).
//
// smithy-go's ClientHandler closes the request body as soon as http.Client.Do returns. But
// net/http may still be in its write loop at that point: after sending Content-Length bytes
// it copies the rest of the body to io.Discard to check for extra bytes, and a server that
// has read the whole body may answer before that. The body smithy-go builds from a bytes
// stream exposes WriteTo, which returns io.EOF once closed instead of (0, nil); io.Copy
// passes that on, net/http takes it for a failed request write and closes the connection,
// and the response body still being read fails with "use of closed network connection".
//
// Hiding WriteTo makes that copy go through Read, which returns a clean io.EOF once closed.
// The stream stays seekable, so its length and the rewinds before retries are unchanged.
// Every Client applies it; add it to the APIOptions of other SDK clients (the simulator
// harness does).
func GuardRequestBody(stack *middleware.Stack) error {
	mw := middleware.DeserializeMiddlewareFunc(requestBodyGuardID, func(
		ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler,
	) (middleware.DeserializeOutput, middleware.Metadata, error) {
		if req, ok := in.Request.(*smithyhttp.Request); ok && req.IsStreamSeekable() {
			if rs, ok := req.GetStream().(io.ReadSeeker); ok {
				if _, hasWriteTo := rs.(io.WriterTo); hasWriteTo {
					if err := req.RewindStream(); err != nil {
						return middleware.DeserializeOutput{}, middleware.Metadata{}, err
					}
					guarded, err := req.SetStream(readSeekerOnly{rs})
					if err != nil {
						return middleware.DeserializeOutput{}, middleware.Metadata{}, err
					}
					in.Request = guarded
				}
			}
		}
		return next.HandleDeserialize(ctx, in)
	})
	return stack.Deserialize.Add(mw, middleware.After)
}

// readSeekerOnly hides every method of the stream but Read and Seek.
type readSeekerOnly struct{ io.ReadSeeker }
