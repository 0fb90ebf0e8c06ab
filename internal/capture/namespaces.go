package capture

import (
	"encoding/hex"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/snapshot"
)

// task is one namespace to capture.
type task struct {
	db string
	// md carries name, type, UUID and options; indexes are listed when
	// the namespace is read.
	md snapshot.Metadata
	// source is the collection the documents are read from: the
	// collection itself, "system.buckets.<name>" for a timeseries
	// collection, "" for a view.
	source string
	// rawData asks for the bucket documents of a timeseries collection
	// that has no system.buckets namespace (servers where timeseries
	// collections are not views over buckets).
	rawData bool
}

// parseCollection turns one listCollections entry of db into a task. It
// returns a non-empty skip reason for namespaces that are not captured:
// system collections (except system.js), the per-node collections of a
// config server's config database, and kinds it does not know. names holds
// every name listCollections returned for db.
func parseCollection(db string, info bson.Raw, names map[string]bool, configServer bool) (task, string, error) {
	name, ok := info.Lookup("name").StringValueOK()
	if !ok {
		return task{}, "", fmt.Errorf("listCollections: entry without a name: %s", info)
	}
	if reason := skipCollection(db, name, configServer); reason != "" {
		return task{}, name + ": " + reason, nil
	}
	typ := snapshot.TypeCollection
	if v, err := info.LookupErr("type"); err == nil {
		s, ok := v.StringValueOK()
		if !ok {
			return task{}, "", fmt.Errorf("listCollections: %s: type is a %s", name, v.Type)
		}
		typ = snapshot.CollectionType(s)
	}
	t := task{db: db, md: snapshot.Metadata{CollectionName: name, Type: typ}}
	switch typ {
	case snapshot.TypeCollection:
		t.source = name
	case snapshot.TypeView:
	case snapshot.TypeTimeseries:
		if buckets := "system.buckets." + name; names[buckets] {
			t.source = buckets
		} else {
			t.source, t.rawData = name, true
		}
	default:
		return task{}, fmt.Sprintf("%s: unknown namespace type %q", name, typ), nil
	}
	if v, err := info.LookupErr("options"); err == nil {
		doc, ok := v.DocumentOK()
		if !ok {
			return task{}, "", fmt.Errorf("listCollections: %s: options is a %s", name, v.Type)
		}
		if len(doc) > 5 {
			t.md.Options = append(bson.Raw(nil), doc...)
		}
	}
	if v, err := info.LookupErr("info", "uuid"); err == nil {
		sub, data, ok := v.BinaryOK()
		if !ok || sub != bson.TypeBinaryUUID || len(data) != 16 {
			return task{}, "", fmt.Errorf("listCollections: %s: info.uuid is not a UUID", name)
		}
		t.md.UUID = hex.EncodeToString(data)
	}
	return t, "", nil
}

// configPerNode are collections of a config server's config database that
// hold per-node or transient state rather than the cluster's metadata.
var configPerNode = map[string]bool{
	"transactions":     true,
	"image_collection": true,
}

// skipCollection returns why db.name is not captured, or "".
func skipCollection(db, name string, configServer bool) string {
	if !atlas.ExportedCollectionName(name) {
		return "system collection"
	}
	if db == "config" && configServer && (configPerNode[name] || strings.HasPrefix(name, "cache.")) {
		return "per-node state of the config server"
	}
	return ""
}
