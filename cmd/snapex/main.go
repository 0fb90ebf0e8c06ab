// Command snapex serves the Atlas Admin API v2 backup-export surface for
// self-managed MongoDB deployments, and is its command-line client:
//
//	snapex serve [--config FILE]       run the service (a starter setup under ./snapex-data without --config)
//	snapex init [--dir DIR]            write a starter config, API key and CLI profile
//	snapex config check [--config F]   validate a config file without starting
//	snapex snapshot import …           register a mongodump directory as a snapshot
//	snapex export cancel JOB_ID        cancel an export
//	snapex restore --uri URI SOURCE    load an export (a bucket URL or a directory) into MongoDB
//	snapex backups …                   the Atlas CLI's backup commands, through the API
//	snapex version                     print the version
package main

import (
	"fmt"
	"os"
)

func main() {
	if version == "" {
		version = buildVersion(readBuildInfo())
	}
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "snapex:", err)
		os.Exit(1)
	}
}
