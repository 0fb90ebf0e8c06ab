package store

import (
	"strconv"
	"strings"
)

// dialect holds what differs between SQLite and PostgreSQL.
type dialect struct {
	name string
	// forUpdate is appended to SELECTs that lock a row inside a transaction.
	forUpdate string
}

var (
	sqliteDialect   = dialect{name: "sqlite"}
	postgresDialect = dialect{name: "postgres", forUpdate: " FOR UPDATE"}
)

// rebind turns ? placeholders into $1, $2 … for PostgreSQL. Queries in this
// package never contain a literal question mark.
func (d dialect) rebind(q string) string {
	if d.name != "postgres" {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
