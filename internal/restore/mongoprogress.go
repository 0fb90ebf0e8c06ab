package restore

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// DefaultStateDB is the database of the target cluster where MongoProgress
// keeps restores' progress.
const DefaultStateDB = "snapex_restore"

// stateCollection is the collection under the state database.
const stateCollection = "progress"

// MongoProgress keeps progress in the target cluster itself, in
// <db>.progress: the record of a batch then lives and dies with the data
// it describes (a target that is wiped loses both), a restore can be
// continued from any machine that reaches the cluster, and no local file
// has to survive the crash. Writes use majority write concern with
// journaling so that a recorded batch is as durable as its documents.
type MongoProgress struct {
	coll *mongo.Collection
}

// NewMongoProgress keeps progress in client's database db (DefaultStateDB
// when empty).
func NewMongoProgress(client *mongo.Client, db string) *MongoProgress {
	if db == "" {
		db = DefaultStateDB
	}
	wc := &writeconcern.WriteConcern{W: "majority", Journal: ptr(true)}
	return &MongoProgress{coll: client.Database(db).Collection(stateCollection, options.Collection().SetWriteConcern(wc))}
}

func ptr[T any](v T) *T { return &v }

// DB is the name of the database holding the progress.
func (m *MongoProgress) DB() string { return m.coll.Database().Name() }

type runDoc struct {
	ID        string `bson:"_id"`
	Run       string `bson:"run"`
	Kind      string `bson:"kind"`
	RunRecord `bson:",inline"`
}

type nsDoc struct {
	ID              string `bson:"_id"`
	Run             string `bson:"run"`
	Kind            string `bson:"kind"`
	NamespaceRecord `bson:",inline"`
}

type fileDoc struct {
	ID         string `bson:"_id"`
	Run        string `bson:"run"`
	Kind       string `bson:"kind"`
	FileRecord `bson:",inline"`
}

// Load implements Progress.
func (m *MongoProgress) Load(ctx context.Context, run string) (*State, error) {
	st := &State{Namespaces: map[string]NamespaceRecord{}, Files: map[string]FileRecord{}}
	cur, err := m.coll.Find(ctx, bson.D{{Key: "run", Value: run}})
	if err != nil {
		return nil, fmt.Errorf("read restore progress from %s: %w", m.where(), err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		kind, _ := cur.Current.Lookup("kind").StringValueOK()
		switch kind {
		case "run":
			var d runDoc
			if err := cur.Decode(&d); err != nil {
				return nil, fmt.Errorf("decode restore progress %s: %w", cur.Current, err)
			}
			st.Run = &d.RunRecord
		case "ns":
			var d nsDoc
			if err := cur.Decode(&d); err != nil {
				return nil, fmt.Errorf("decode restore progress %s: %w", cur.Current, err)
			}
			st.Namespaces[d.Source] = d.NamespaceRecord
		case "file":
			var d fileDoc
			if err := cur.Decode(&d); err != nil {
				return nil, fmt.Errorf("decode restore progress %s: %w", cur.Current, err)
			}
			st.Files[d.Key] = d.FileRecord
		}
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read restore progress from %s: %w", m.where(), err)
	}
	return st, nil
}

func (m *MongoProgress) where() string {
	return m.coll.Database().Name() + "." + m.coll.Name()
}

func (m *MongoProgress) put(ctx context.Context, id string, doc any) error {
	_, err := m.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, doc, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("record restore progress in %s: %w", m.where(), err)
	}
	return nil
}

// SaveRun implements Progress.
func (m *MongoProgress) SaveRun(ctx context.Context, run string, r RunRecord) error {
	id := run + "/run"
	return m.put(ctx, id, runDoc{ID: id, Run: run, Kind: "run", RunRecord: r})
}

// SaveNamespace implements Progress.
func (m *MongoProgress) SaveNamespace(ctx context.Context, run string, n NamespaceRecord) error {
	id := run + "/ns/" + n.Source
	return m.put(ctx, id, nsDoc{ID: id, Run: run, Kind: "ns", NamespaceRecord: n})
}

// SaveFile implements Progress.
func (m *MongoProgress) SaveFile(ctx context.Context, run string, f FileRecord) error {
	id := run + "/file/" + f.Key
	return m.put(ctx, id, fileDoc{ID: id, Run: run, Kind: "file", FileRecord: f})
}

// Clear implements Progress.
func (m *MongoProgress) Clear(ctx context.Context, run string) error {
	if _, err := m.coll.DeleteMany(ctx, bson.D{{Key: "run", Value: run}}); err != nil {
		return fmt.Errorf("clear restore progress in %s: %w", m.where(), err)
	}
	return nil
}
