package config

import (
	"sort"

	"github.com/snapex/snapex/internal/atlas"
)

// AllClusters lists every configured cluster of every project, ordered by
// project id and cluster name (the scheduler visits them all).
func (cat *Catalog) AllClusters() []atlas.Cluster {
	ids := make([]string, 0, len(cat.clusters))
	for id := range cat.clusters {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []atlas.Cluster
	for _, id := range ids {
		cs := append([]atlas.Cluster(nil), cat.clusters[id]...)
		sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
		out = append(out, cs...)
	}
	return out
}
