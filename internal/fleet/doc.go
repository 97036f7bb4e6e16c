// Package fleet works on many databases at once: Scan reports the encryption and security
// facts of every DB instance and Aurora cluster of some regions, and a Batch selects the
// unencrypted ones, plans each and runs the migrations concurrently under one API budget.
//
// Each migration of a batch is an ordinary one, run by a copy of a workflow.Engine with its
// own journal and lock; fleet adds the selection, the cutover policy, the outcomes and the
// progress events. It makes no terminal output: internal/output renders what it returns.
package fleet
