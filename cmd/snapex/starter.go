package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/cli"
)

// starterConfigName is the config file inside a starter directory.
const starterConfigName = "snapex.yaml"

// writeStarter creates dir with a working config: one organization, one
// project with a sample cluster and local-directory access roles for each
// provider, an ORG_OWNER API key and a service account whose secrets are
// files readable only by the owner. It prints the credentials once to out.
func writeStarter(dir string, out io.Writer) (string, error) {
	cfgPath := filepath.Join(dir, starterConfigName)
	if _, err := os.Stat(cfgPath); err == nil {
		return "", fmt.Errorf("%s already exists; refusing to overwrite it", cfgPath)
	}
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		return "", fmt.Errorf("create starter dir: %w", err)
	}
	now := time.Now()
	orgID, groupID := atlas.NewObjectID(now), atlas.NewObjectID(now)
	awsRole, azureRole, gcpRole := atlas.NewObjectID(now), atlas.NewObjectID(now), atlas.NewObjectID(now)
	publicKey, err := randomLetters(8)
	if err != nil {
		return "", err
	}
	privateKey := uuid.NewString()
	clientID := "mdb_sa_id_" + atlas.NewObjectID(now)
	clientSecret := "mdb_sa_sk_" + uuid.NewString()
	if err := writeSecret(filepath.Join(dir, "secrets", publicKey+".key"), privateKey); err != nil {
		return "", err
	}
	if err := writeSecret(filepath.Join(dir, "secrets", "service-account.secret"), clientSecret); err != nil {
		return "", err
	}
	cfg := fmt.Sprintf(starterTemplate, orgID, groupID, awsRole, azureRole, gcpRole,
		publicKey, publicKey, orgID, clientID, orgID)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return "", fmt.Errorf("write starter config: %w", err)
	}
	// The service does not need the CLI profile: a profiles file that
	// cannot be written (or read) is reported, not fatal.
	profileLine := "not written"
	if name, file, err := writeStarterProfile(groupID, orgID, publicKey, privateKey); err != nil {
		fmt.Fprintf(out, "snapex: no CLI profile written: %v\n", err)
	} else {
		profileLine = fmt.Sprintf("%q in %s (snapex backups … --profile %s)", name, file, name)
	}
	fmt.Fprintf(out, `snapex: created a starter setup in %s
  organization     %s
  project (group)  %s
  API key          public %s  private %s  (ORG_OWNER; shown once, kept in %s)
  service account  client id %s  secret in %s
  access roles     AWS %s, AZURE %s, GCP %s (local directories under %s)
  CLI profile      %s
`, dir, orgID, groupID, publicKey, privateKey, filepath.Join(dir, "secrets", publicKey+".key"),
		clientID, filepath.Join(dir, "secrets", "service-account.secret"), awsRole, azureRole, gcpRole, filepath.Join(dir, "buckets"),
		profileLine)
	return cfgPath, nil
}

// starterURL is where the starter config listens.
const starterURL = "http://127.0.0.1:8080"

// writeStarterProfile saves a CLI profile for the starter setup: the
// default profile when there is none yet, otherwise "local", so an existing
// Atlas profile is never overwritten.
func writeStarterProfile(groupID, orgID, publicKey, privateKey string) (name, file string, err error) {
	file, err = cli.ProfilesFile(os.Getenv)
	if err != nil {
		return "", "", err
	}
	name = cli.DefaultProfile
	if exists, err := cli.HasProfile(file, name); err != nil {
		return "", "", err
	} else if exists {
		name = "local"
	}
	p := cli.Profile{Name: name, PublicAPIKey: publicKey, PrivateAPIKey: privateKey, OrgID: orgID, ProjectID: groupID, OpsManagerURL: starterURL}
	if err := cli.SaveProfile(file, p); err != nil {
		return "", "", fmt.Errorf("write CLI profile: %w", err)
	}
	return name, file, nil
}

func writeSecret(path, value string) error {
	if err := os.WriteFile(path, []byte(value+"\n"), 0o600); err != nil {
		return fmt.Errorf("write secret %s: %w", path, err)
	}
	return nil
}

// randomLetters returns n random lowercase letters, the shape of an Atlas
// public API key.
func randomLetters(n int) (string, error) {
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(26))
		if err != nil {
			return "", errors.New("no randomness for an API key")
		}
		b[i] = byte('a' + k.Int64())
	}
	return string(b), nil
}

const starterTemplate = `# snapex starter configuration; see docs/configuration.md for every field.
listen: 127.0.0.1:8080
database: snapex.db
dataDir: .
organizations:
  - id: %s
    name: Starter Organization
    projects:
      - id: %s
        name: Starter Project
        clusters:
          - name: Cluster0
            type: REPLICASET
            replicaSets:
              - name: rs0
                uri: mongodb://127.0.0.1:27017
        accessRoles:
          # Local directories stand in for cloud buckets during development.
          - id: %s
            provider: AWS
            local: {directory: buckets/aws}
          - id: %s
            provider: AZURE
            local: {directory: buckets/azure}
          - id: %s
            provider: GCP
            local: {directory: buckets/gcp}
apiKeys:
  - publicKey: %s
    privateKey: file:secrets/%s.key
    description: starter key
    roles:
      - {role: ORG_OWNER, orgId: %s}
serviceAccounts:
  - clientId: %s
    clientSecret: file:secrets/service-account.secret
    name: starter service account
    roles:
      - {role: ORG_OWNER, orgId: %s}
`
