// Package atlas holds snapex's domain: the Atlas resources it serves
// (organizations, projects, clusters, export buckets, snapshots, export jobs),
// their states and allowed transitions, validation rules, and the coded
// errors every adapter renders as an Atlas ApiError. It performs no I/O.
package atlas
