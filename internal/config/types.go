package config

// Config is the whole configuration file.
type Config struct {
	// Listen is the address the API serves on (default 127.0.0.1:8080).
	Listen string `yaml:"listen"`
	// Database is a SQLite file path (optionally "sqlite:PATH") or a
	// postgres:// URL; it may be an env:/file: reference.
	Database Secret `yaml:"database"`
	// ExternalURL is the base URL used in pagination links; empty means
	// derive it from each request.
	ExternalURL string `yaml:"externalURL"`
	// DataDir holds snapshot storage and other local state; relative paths in
	// the file are resolved against the config file's directory.
	DataDir string `yaml:"dataDir"`
	// SnapshotStorage is where snapshots are kept (default: the directory
	// <dataDir>/snapshots).
	SnapshotStorage SnapshotStorage `yaml:"snapshotStorage"`
	// RateLimit bounds requests per API key or service account.
	RateLimit RateLimit `yaml:"rateLimit"`
	// StatusPage configures the HTML status page at /ui.
	StatusPage StatusPage `yaml:"statusPage"`
	// MemoryLimitMiB is the process's soft memory limit for the Go
	// runtime (0: GOMEMLIMIT from the environment if set, else 160).
	MemoryLimitMiB int `yaml:"memoryLimitMiB"`
	// Snapshots tunes how snapshots are taken from clusters.
	Snapshots SnapshotSettings `yaml:"snapshots"`
	// Exports tunes the export engine.
	Exports ExportSettings `yaml:"exports"`
	// Organizations lists the organizations with their projects.
	Organizations []*Organization `yaml:"organizations"`
	// APIKeys are the programmatic API keys (HTTP Digest).
	APIKeys []*APIKey `yaml:"apiKeys"`
	// ServiceAccounts are OAuth 2 client-credentials accounts.
	ServiceAccounts []*ServiceAccount `yaml:"serviceAccounts"`

	path string
}

// Path is the file the config was loaded from.
func (c *Config) Path() string { return c.path }

// Organization is an Atlas organization and its projects.
type Organization struct {
	ID       string     `yaml:"id"`
	Name     string     `yaml:"name"`
	Projects []*Project `yaml:"projects"`
}

// Project is an Atlas project ("group").
type Project struct {
	ID          string        `yaml:"id"`
	Name        string        `yaml:"name"`
	Clusters    []*Cluster    `yaml:"clusters"`
	AccessRoles []*AccessRole `yaml:"accessRoles"`
}

// Cluster is a self-managed MongoDB deployment.
type Cluster struct {
	Name string `yaml:"name"`
	// Type is REPLICASET (default) or SHARDED.
	Type string `yaml:"type"`
	// ReplicaSets has one entry per replica set: one for a replica set
	// cluster; every shard plus the config server for a sharded one.
	ReplicaSets []*ReplicaSet `yaml:"replicaSets"`
	// Labels are copied into each export's .complete object.
	Labels []Label `yaml:"labels"`
	// MongoDBVersion is reported until a snapshot reads the real one.
	MongoDBVersion string `yaml:"mongoDBVersion"`
}

// Label is a key/value pair.
type Label struct {
	Key   string `yaml:"key"`
	Value string `yaml:"value"`
}

// ReplicaSet is one replica set and how to reach it.
type ReplicaSet struct {
	Name string `yaml:"name"`
	// URI is the MongoDB connection string; a literal is accepted only when
	// it carries no password, otherwise use env: or file:.
	URI Secret `yaml:"uri"`
	// ConfigServer marks the config server replica set of a sharded cluster.
	ConfigServer bool `yaml:"configServer"`
}

// AccessRole maps an Atlas cloud-provider access role id (iamRoleId for
// AWS, roleId for Azure and GCP) to real credentials.
type AccessRole struct {
	ID       string `yaml:"id"`
	Provider string `yaml:"provider"`
	// Exactly one of the following matches Provider, or Local for any
	// provider during development.
	AWS   *AWSAccess   `yaml:"aws"`
	Azure *AzureAccess `yaml:"azure"`
	GCP   *GCPAccess   `yaml:"gcp"`
	Local *LocalAccess `yaml:"local"`
}

// AWSAccess holds S3 credentials; empty keys mean the default AWS chain.
type AWSAccess struct {
	AccessKeyID     Secret `yaml:"accessKeyId"`
	SecretAccessKey Secret `yaml:"secretAccessKey"`
	SessionToken    Secret `yaml:"sessionToken"`
	Region          string `yaml:"region"`
	// Endpoint overrides the S3 endpoint (S3-compatible stores).
	Endpoint     string `yaml:"endpoint"`
	UsePathStyle bool   `yaml:"usePathStyle"`
	// SSE is "", "AES256" or "aws:kms"; KMSKeyID goes with aws:kms.
	SSE      string `yaml:"sse"`
	KMSKeyID string `yaml:"kmsKeyId"`
}

// AzureAccess holds Azure Blob credentials: shared key, SAS, or the
// default Azure credential when both are empty.
type AzureAccess struct {
	AccountName string `yaml:"accountName"`
	AccountKey  Secret `yaml:"accountKey"`
	SASToken    Secret `yaml:"sasToken"`
	// TenantID is the Azure tenant reported on buckets (Atlas returns one).
	TenantID string `yaml:"tenantId"`
	// Endpoint replaces the scheme and host of a bucket's serviceUrl
	// (e.g. Azurite's http://127.0.0.1:10000/devstoreaccount1).
	Endpoint string `yaml:"endpoint"`
}

// GCPAccess holds GCS credentials; empty JSON means application default
// credentials.
type GCPAccess struct {
	CredentialsJSON Secret `yaml:"credentialsJson"`
	// Endpoint points at an emulator such as fake-gcs-server.
	Endpoint string `yaml:"endpoint"`
}

// LocalAccess stores "buckets" as directories under Directory, for
// development without a cloud account.
type LocalAccess struct {
	Directory string `yaml:"directory"`
}

// RoleGrant grants an Atlas role in an organization (ORG_* roles) or a
// project (GROUP_* roles).
type RoleGrant struct {
	Role    string `yaml:"role"`
	OrgID   string `yaml:"orgId"`
	GroupID string `yaml:"groupId"`
}

// APIKey is a programmatic API key used with HTTP Digest.
type APIKey struct {
	PublicKey   string       `yaml:"publicKey"`
	PrivateKey  Secret       `yaml:"privateKey"`
	Description string       `yaml:"description"`
	Roles       []*RoleGrant `yaml:"roles"`
	// AccessList optionally restricts client addresses (CIDR or IP).
	AccessList []string `yaml:"accessList"`
}

// ServiceAccount is an OAuth 2 client-credentials account.
type ServiceAccount struct {
	ClientID     string       `yaml:"clientId"`
	ClientSecret Secret       `yaml:"clientSecret"`
	Name         string       `yaml:"name"`
	Roles        []*RoleGrant `yaml:"roles"`
	AccessList   []string     `yaml:"accessList"`
	// TokenLifetimeSeconds defaults to 3600, as Atlas.
	TokenLifetimeSeconds int `yaml:"tokenLifetimeSeconds"`
}

// SnapshotStorage selects where snapshots live: a local directory, or a
// bucket reached with the same credential blocks access roles use.
type SnapshotStorage struct {
	Directory string       `yaml:"directory"`
	Bucket    string       `yaml:"bucket"`
	Prefix    string       `yaml:"prefix"`
	AWS       *AWSAccess   `yaml:"aws"`
	Azure     *AzureAccess `yaml:"azure"`
	GCP       *GCPAccess   `yaml:"gcp"`
	// ServiceURL is the Azure account URL when Azure is used.
	ServiceURL string `yaml:"serviceUrl"`
}

// ExportSettings tune the export engine and the job runner; zero values
// take the defaults, filled in when the config is loaded (defaults.go).
type ExportSettings struct {
	// ChunkMiB is the BSON input per data file (default 64).
	ChunkMiB int `yaml:"chunkMiB"`
	// Parallelism is how many collections of one job export at once (default 2).
	Parallelism int `yaml:"parallelism"`
	// GzipLevel is the compression level, 1 (default) to 9.
	GzipLevel int `yaml:"gzipLevel"`
	// Concurrency is how many jobs one snapex process works at once (default 2).
	Concurrency int `yaml:"concurrency"`
	// LeaseSeconds bounds how long a dead worker's job waits for a
	// successor (default 15).
	LeaseSeconds int `yaml:"leaseSeconds"`
	// PartMiB overrides the object stores' upload part size (default: the drivers').
	PartMiB int `yaml:"partMiB"`
	// RequestTimeoutSeconds bounds how long a store may take to start
	// answering an upload request before it is retried (default 120).
	RequestTimeoutSeconds int `yaml:"requestTimeoutSeconds"`
	// MaxAttempts is how many attempts an export or snapshot job gets
	// before a transient failure ends it (default 5).
	MaxAttempts int `yaml:"maxAttempts"`
	// RetryBackoffMillis is the wait after a job's first failed attempt;
	// it doubles after each further one, up to one minute or this value
	// if larger (default 5000).
	RetryBackoffMillis int `yaml:"retryBackoffMillis"`
}

// RateLimit configures per-caller request limits.
type RateLimit struct {
	// RequestsPerMinute per API key or service account (default 1200, as
	// Atlas reports in RateLimit-Limit).
	RequestsPerMinute int `yaml:"requestsPerMinute"`
	// Disabled turns rate limiting off.
	Disabled bool `yaml:"disabled"`
}

// SnapshotSettings tune snapshot capture; zero values take the defaults,
// filled in when the config is loaded (defaults.go).
type SnapshotSettings struct {
	// Parallelism is how many collections are read at once (default 2).
	Parallelism int `yaml:"parallelism"`
	// ConnectTimeoutSeconds bounds connecting to a replica set (default 10).
	ConnectTimeoutSeconds int `yaml:"connectTimeoutSeconds"`
	// ServerSelectionTimeoutSeconds bounds finding a usable server (default 30).
	ServerSelectionTimeoutSeconds int `yaml:"serverSelectionTimeoutSeconds"`
	// OperationTimeoutSeconds bounds each command and batch (default 300).
	OperationTimeoutSeconds int `yaml:"operationTimeoutSeconds"`
	// GzipLevel compresses snapshot files, 1 (default) to 9.
	GzipLevel int `yaml:"gzipLevel"`
	// Uncompressed stores snapshot data as plain .bson: about three times
	// the disk, but exports skip decompression (faster by ~20–40 %).
	Uncompressed bool `yaml:"uncompressed"`
	// ExpiryCheckSeconds is how often expired snapshots are deleted (default 60).
	ExpiryCheckSeconds int `yaml:"expiryCheckSeconds"`
	// ScheduleCheckSeconds is how often the elected process runs a
	// scheduling pass over every backup schedule (default 30).
	ScheduleCheckSeconds int `yaml:"scheduleCheckSeconds"`
	// SchedulingDisabled turns scheduling passes off: backup schedules
	// can still be read and changed, but no scheduled snapshot (and so no
	// automatic export) is taken.
	SchedulingDisabled bool `yaml:"schedulingDisabled"`
}

// StatusPage configures the status page at /ui, served behind the API's
// authentication.
type StatusPage struct {
	// Disabled turns the page off (/ui answers 404).
	Disabled bool `yaml:"disabled"`
}
