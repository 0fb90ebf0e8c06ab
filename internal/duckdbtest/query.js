// Runs the JSON array of SQL statements on stdin in one in-memory DuckDB
// and prints a JSON array with each statement's rows. argv[2] is the
// node_modules directory holding @duckdb/node-api.
const { DuckDBInstance } = require(process.argv[2] + '/@duckdb/node-api');
(async () => {
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  const statements = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const out = [];
  for (const s of statements) {
    const r = await conn.runAndReadAll(s);
    out.push(r.getRowObjectsJson());
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e.message); process.exit(1); });
