// Package config loads snapex's declarative YAML configuration: organizations,
// projects, clusters, cloud-provider access roles, API keys and service
// accounts. Secrets are references (env:NAME or file:PATH) resolved at load;
// every validation error names the file and line.
package config
