// Command snapex serves the Atlas Admin API v2 backup-export surface for
// self-managed MongoDB deployments.
//
//	snapex serve [--config FILE]   run the service (a starter setup under ./snapex-data without --config)
//	snapex init [--dir DIR]        write a starter config with a fresh API key
//	snapex snapshot import …       register a mongodump directory as a snapshot
//	snapex export cancel JOB_ID    cancel an export
//	snapex restore --uri URI DIR   load an export into MongoDB
//	snapex version                 print the version
package main

import (
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = runServe(os.Args[2:])
	case "init":
		err = runInit(os.Args[2:])
	case "snapshot":
		err = runSnapshot(os.Args[2:])
	case "export":
		err = runExport(os.Args[2:])
	case "restore":
		err = runRestore(os.Args[2:])
	case "version", "--version", "-v":
		fmt.Println("snapex", version)
	case "help", "--help", "-h":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "snapex: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "snapex:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  snapex serve [--config FILE] [--listen ADDR]   run the service; without --config, use or create ./snapex-data
  snapex init [--dir DIR]                        write a starter config (organization, project, API key)
  snapex snapshot import --project ID --cluster NAME DIR
                                                 register a mongodump directory as a completed snapshot
  snapex export cancel JOB_ID                    stop an export at its next chunk; it ends Cancelled
  snapex restore --uri URI [flags] SOURCE        load an export (Atlas layout) into MongoDB; resumable
  snapex version                                 print the version
`)
}
