package main

import (
	"flag"
	"os"
)

func runInit(args []string) error {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	dir := fs.String("dir", "snapex-data", "directory to create the starter setup in")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, err := writeStarter(*dir, os.Stderr)
	return err
}
