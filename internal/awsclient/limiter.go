package awsclient

import (
	"context"

	"github.com/aws/smithy-go/middleware"
)

const limiterID = "rdsencrypt.Limiter"

// addLimiter waits on the shared limiter before each attempt (retries spend the budget
// too), except the first attempt of a coalesced call, whose turn was taken while its lookups
// were gathered (coalesce.go). It sits after the SDK's Retry middleware and before signing.
func addLimiter(l Limiter) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		mw := middleware.FinalizeMiddlewareFunc(limiterID, func(
			ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler,
		) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if takePrepaid(ctx) {
				return next.HandleFinalize(ctx, in)
			}
			if err := l.Wait(ctx); err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
			return next.HandleFinalize(ctx, in)
		})
		if _, ok := stack.Finalize.Get("Retry"); ok {
			return stack.Finalize.Insert(mw, "Retry", middleware.After)
		}
		return stack.Finalize.Add(mw, middleware.Before)
	}
}
