// Package atlas holds snapex's domain: the Atlas resources it serves
// (organizations, projects, clusters, export buckets, snapshots, export jobs),
// their states and allowed transitions, validation rules, pagination, which
// collections an export carries, the operation ids routes and roles key on,
// the conflicts the store reports, and the coded errors every adapter
// renders as an Atlas ApiError. Every errorCode is a Code constant with its
// HTTP status in one table (codes.go); errors are built only by this
// package's constructors. It performs no I/O.
package atlas
