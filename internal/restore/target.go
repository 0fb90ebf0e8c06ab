package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// DuplicatePolicy says what to do with a document whose _id is already in
// the target collection.
type DuplicatePolicy string

// Duplicate policies.
const (
	// DuplicatesFail stops the restore, naming the file and line.
	DuplicatesFail DuplicatePolicy = "fail"
	// DuplicatesSkip keeps the document already there.
	DuplicatesSkip DuplicatePolicy = "skip"
	// DuplicatesUpsert replaces the document already there.
	DuplicatesUpsert DuplicatePolicy = "upsert"
)

// Server error codes this package branches on.
const (
	codeNamespaceExists = 48
	codeDuplicateKey    = 11000
	codeDuplicateKeyOld = 11001
)

// createCollection creates coll with the exported options (capped, size,
// max, validator, collation, timeseries, clusteredIndex, …), passed
// through as createCollection accepts them. An existing collection is
// kept as it is.
func createCollection(ctx context.Context, db *mongo.Database, coll string, opts bson.Raw) error {
	if strings.HasPrefix(coll, "system.") {
		// system.js and its kind are created by the first insert.
		return nil
	}
	cmd := bson.D{{Key: "create", Value: coll}}
	elems, err := opts.Elements()
	if err != nil {
		return fmt.Errorf("options: %w", err)
	}
	for _, e := range elems {
		cmd = append(cmd, bson.E{Key: e.Key(), Value: e.Value()})
	}
	err = db.RunCommand(ctx, cmd).Err()
	var ce mongo.CommandError
	if errors.As(err, &ce) && ce.Code == codeNamespaceExists {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create collection %s.%s: %w", db.Name(), coll, err)
	}
	return nil
}

// buildIndexes creates every exported index but _id's (created with the
// collection), without the "ns" field older servers put in index
// specifications and current ones refuse, and without the index version
// "v": the server builds its current version (v:1 indexes of old servers
// are upgraded, as an initial sync would).
func buildIndexes(ctx context.Context, db *mongo.Database, coll string, specs []bson.Raw) (int, error) {
	arr := bson.A{}
	for _, spec := range specs {
		if name, _ := spec.Lookup("name").StringValueOK(); name == "_id_" {
			continue
		}
		elems, err := spec.Elements()
		if err != nil {
			return 0, fmt.Errorf("index specification %s: %w", spec, err)
		}
		d := bson.D{}
		for _, e := range elems {
			if e.Key() != "ns" && e.Key() != "v" {
				d = append(d, bson.E{Key: e.Key(), Value: e.Value()})
			}
		}
		arr = append(arr, d)
	}
	if len(arr) == 0 {
		return 0, nil
	}
	err := db.RunCommand(ctx, bson.D{{Key: "createIndexes", Value: coll}, {Key: "indexes", Value: arr}}).Err()
	if err != nil {
		return 0, fmt.Errorf("create %d indexes on %s.%s: %w", len(arr), db.Name(), coll, err)
	}
	return len(arr), nil
}

// insertResult is what inserting a batch did.
type insertResult struct {
	// duplicates counts documents the policy skipped or replaced.
	duplicates int64
	// rewritten counts documents an interrupted run had already written.
	rewritten int
}

// insertBatch writes b with one unordered bulk insert that bypasses
// document validation (validators are the source's, and its documents
// passed them or were let in on purpose). Documents whose _id is already
// in coll are handled by policy; when uncertain, a duplicate whose stored
// copy equals the document is taken as an earlier write of this same
// batch and counts as inserted.
func insertBatch(ctx context.Context, coll *mongo.Collection, key string, b *batch, policy DuplicatePolicy, uncertain bool) (insertResult, error) {
	var res insertResult
	_, err := coll.InsertMany(ctx, b.docs, options.InsertMany().SetOrdered(false).SetBypassDocumentValidation(true))
	if err == nil {
		return res, nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return res, fmt.Errorf("insert %d documents of %s (from line %d) into %s: %w", len(b.docs), key, b.lines[0], nsOf(coll), err)
	}
	var dups []int
	for _, we := range bwe.WriteErrors {
		if we.Index < 0 || we.Index >= len(b.docs) {
			return res, fmt.Errorf("insert into %s: write error for document %d of a batch of %d: %w", nsOf(coll), we.Index, len(b.docs), err)
		}
		if we.Code != codeDuplicateKey && we.Code != codeDuplicateKeyOld {
			return res, &InputError{Key: key, Line: b.lines[we.Index], Err: fmt.Errorf("insert into %s refused: %s (code %d)", nsOf(coll), we.Message, we.Code)}
		}
		dups = append(dups, we.Index)
	}
	if uncertain {
		n := len(dups)
		var err error
		if dups, err = unexplained(ctx, coll, b, dups); err != nil {
			return res, err
		}
		res.rewritten = n - len(dups)
	}
	if len(dups) == 0 {
		return res, nil
	}
	switch policy {
	case DuplicatesSkip:
		res.duplicates = int64(len(dups))
	case DuplicatesUpsert:
		models := make([]mongo.WriteModel, 0, len(dups))
		for _, i := range dups {
			models = append(models, mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: b.docs[i].Lookup("_id")}}).SetReplacement(b.docs[i]).SetUpsert(true))
		}
		if _, err := coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false).SetBypassDocumentValidation(true)); err != nil {
			return res, fmt.Errorf("replace %d documents of %s whose _id was already in %s: %w", len(models), key, nsOf(coll), err)
		}
		res.duplicates = int64(len(dups))
	default:
		i := dups[0]
		return res, &InputError{Key: key, Line: b.lines[i], Err: fmt.Errorf("a document with _id %s is already in %s (%d duplicates in this batch; choose --duplicates=skip or upsert, or --drop)",
			b.docs[i].Lookup("_id"), nsOf(coll), len(dups))}
	}
	return res, nil
}

// unexplained returns the duplicates among dups whose stored document is
// not byte-for-byte the one being restored.
func unexplained(ctx context.Context, coll *mongo.Collection, b *batch, dups []int) ([]int, error) {
	ids := make(bson.A, 0, len(dups))
	for _, i := range dups {
		ids = append(ids, b.docs[i].Lookup("_id"))
	}
	cur, err := coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, fmt.Errorf("read back %d documents of %s: %w", len(ids), nsOf(coll), err)
	}
	defer cur.Close(ctx)
	stored := map[string][]byte{}
	for cur.Next(ctx) {
		stored[idKey(cur.Current.Lookup("_id"))] = append([]byte(nil), cur.Current...)
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read back %d documents of %s: %w", len(ids), nsOf(coll), err)
	}
	var out []int
	for _, i := range dups {
		if !bytes.Equal(stored[idKey(b.docs[i].Lookup("_id"))], b.docs[i]) {
			out = append(out, i)
		}
	}
	return out, nil
}

// idKey identifies an _id value by its type and bytes.
func idKey(v bson.RawValue) string { return string(rune(v.Type)) + string(v.Value) }

func nsOf(c *mongo.Collection) string { return c.Database().Name() + "." + c.Name() }
