package atlas

import "strings"

// ExportedDatabase reports whether Atlas exports collections of db: the
// admin, config and local databases hold server state, not user data, and
// are never exported.
func ExportedDatabase(db string) bool {
	return db != "admin" && db != "config" && db != "local"
}

// ExportedCollectionName reports whether Atlas exports a collection so
// named: no system collection except system.js (a time series collection's
// system.buckets.<name> is exported as the collection <name>, not under
// its own name).
func ExportedCollectionName(name string) bool {
	return name == "system.js" || !strings.HasPrefix(name, "system.")
}

// ExportsCollection reports whether Atlas exports collection name of db:
// user collections and time series of user databases, never views.
func ExportsCollection(db, name string, view bool) bool {
	return !view && ExportedDatabase(db) && ExportedCollectionName(name)
}
