// Package cli is the workflow command line of snapex: `snapex backups …`,
// shaped like the Atlas CLI's backup commands (the same command names and
// flag names) and, like it, a client of the Atlas Admin API through the
// official Atlas Go SDK, so the same commands work against snapex and
// against Atlas. Connection settings come from named profiles in a TOML
// file, overridden by the Atlas CLI's MONGODB_ATLAS_* environment
// variables and then by flags.
package cli
