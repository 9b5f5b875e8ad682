// Differential test of the Detailed Billing Report input: `cairn generate --billing --dbr` writes
// three versions of a month's DBR object (and each version's CSV unzipped), `cairn billing load
// --dbr` loads the bucket as each version left it in turn, and cost by service, account, payer,
// tag and day as `cairn search` computes it must equal DuckDB's answer over the last version's CSV
// (its LineItem and Rounding rows); cairn's total must equal the report's own StatementTotal row,
// and the web UI's coalesce form of cost by service must give the same answer. DuckDB over every
// version's CSV must differ (or the check proves nothing about replacement).
//
// Usage: node billing_dbr_differential.mjs --cairn BIN [--rows N] [--keep]
// Exit status: 0 agree, 1 disagree or broken, 77 skipped (no DuckDB module; a failure under CI=true).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = { rows: '8000' };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--cairn') args.cairn = process.argv[++i];
  else if (a === '--rows') args.rows = process.argv[++i];
  else if (a === '--keep') args.keep = true;
  else { console.error(`unknown argument ${a}`); process.exit(1); }
}
let duckdb;
try {
  duckdb = await import('@duckdb/node-api');
} catch (e) {
  const msg = `@duckdb/node-api not installed (run \`npm ci\` at the repository root): ${e.message}`;
  if (process.env.CI === 'true') { console.error(`FAIL: ${msg}`); process.exit(1); }
  console.log(`SKIPPED: ${msg}`);
  process.exit(77);
}

const tmp = mkdtempSync(join(tmpdir(), 'cairn-dbr-diff-'));
const bucket = join(tmp, 'bucket');
const data = join(tmp, 'data');
const cairn = (...a) => execFileSync(args.cairn, ['--log-level', 'warn', '--data', data, ...a],
                                     { encoding: 'utf8', maxBuffer: 256 << 20 });
let failures = 0;
let checked = 0;
try {
  cairn('generate', '--billing', '--dbr', '--out', bucket, '--rows', args.rows, '--seed', '11', '--final');
  for (const root of [join(bucket, 'v1'), join(bucket, 'v2'), bucket]) cairn('billing', 'load', root, '--dbr');

  const db = await duckdb.DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const csv = (f) => `read_csv('${f}', header = true, all_varchar = true)`;
  await conn.run(`CREATE TABLE raw AS SELECT * FROM ${csv(join(bucket, 'csv', 'v3.csv'))}`);
  await conn.run(`CREATE TABLE dbr AS SELECT * FROM raw WHERE RecordType IN ('LineItem', 'Rounding')`);
  await conn.run(`CREATE TABLE every AS SELECT * FROM ${csv(join(bucket, 'csv', 'v*.csv'))} WHERE RecordType = 'LineItem'`);
  const q = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJS();
  const sum = `sum(CAST(UnBlendedCost AS DECIMAL(38,9)))::DOUBLE AS cost, count(*) AS n`;
  const base = 'index=aws-billing sourcetype=aws:billing:dbr';

  const cases = [
    { name: 'by service', spl: `${base} | stats sum(UnBlendedCost) as cost count by ProductName`,
      key: 'ProductName', sql: `SELECT ProductName AS k, ${sum} FROM dbr WHERE ProductName IS NOT NULL GROUP BY 1` },
    { name: 'by linked account', spl: `${base} | stats sum(UnBlendedCost) as cost count by LinkedAccountId`,
      key: 'LinkedAccountId', sql: `SELECT LinkedAccountId AS k, ${sum} FROM dbr WHERE LinkedAccountId IS NOT NULL GROUP BY 1` },
    { name: 'by payer', spl: `${base} | stats sum(UnBlendedCost) as cost count by PayerAccountId`,
      key: 'PayerAccountId', sql: `SELECT PayerAccountId AS k, ${sum} FROM dbr GROUP BY 1` },
    { name: 'by tag', spl: `${base} user:team=* | stats sum(UnBlendedCost) as cost count by user:team`,
      key: 'user:team', sql: `SELECT "user:team" AS k, ${sum} FROM dbr WHERE "user:team" IS NOT NULL GROUP BY 1` },
    { name: 'by day', spl: `${base} | bin _time span=1d | eval day=strftime(_time, "%Y-%m-%d") | stats sum(UnBlendedCost) as cost count by day`,
      key: 'day', sql: `SELECT coalesce(substr(UsageStartDate, 1, 10), '2026-11-01') AS k, ${sum} FROM dbr GROUP BY 1` },
    { name: 'total', spl: `${base} | stats sum(UnBlendedCost) as cost count | eval k="all"`,
      key: 'k', sql: `SELECT 'all' AS k, ${sum} FROM dbr` },
    { name: 'the report\'s StatementTotal', spl: `${base} | stats sum(UnBlendedCost) as cost count | eval k="all"`,
      key: 'k', sql: `SELECT 'all' AS k, CAST(UnBlendedCost AS DOUBLE) AS cost, (SELECT count(*) FROM dbr) AS n FROM raw WHERE RecordType = 'StatementTotal'` },
    { name: 'web UI panel: cost by service (coalesce)',
      spl: `index=aws-billing | eval cost=coalesce('lineItem/UnblendedCost', UnBlendedCost), service=coalesce('product/ProductName', ProductName) | stats sum(cost) as cost count by service`,
      key: 'service', sql: `SELECT ProductName AS k, ${sum} FROM dbr WHERE ProductName IS NOT NULL GROUP BY 1` },
  ];
  for (const c of cases) {
    const out = cairn('search', '--format', 'json', c.spl).trim().split('\n').filter((l) => l);
    const got = new Map(out.map((l) => JSON.parse(l)).map((r) => [r[c.key] ?? '', { cost: Number(r.cost), n: Number(r.count) }]));
    const want = new Map((await q(c.sql)).map((r) => [r.k ?? '', { cost: Number(r.cost), n: Number(r.n) }]));
    const problems = [];
    if (got.size !== want.size) problems.push(`groups: cairn ${got.size}, duckdb ${want.size}`);
    if (want.size === 0) problems.push('duckdb found no rows');
    for (const [k, w] of want) {
      const g = got.get(k);
      if (!g) { problems.push(`group ${k} missing in cairn`); continue; }
      if (g.n !== w.n) problems.push(`group ${k}: count cairn ${g.n}, duckdb ${w.n}`);
      if (Math.abs(g.cost - w.cost) > 1e-6 * Math.max(1, Math.abs(w.cost))) problems.push(`group ${k}: cost cairn ${g.cost}, duckdb ${w.cost}`);
    }
    checked++;
    if (problems.length) { failures++; console.log(`FAIL ${c.name}: ${c.spl}\n  ${problems.slice(0, 5).join('\n  ')}`); }
    else console.log(`ok   ${c.name} (${want.size} groups)`);
  }
  const [last] = await q(`SELECT count(*) AS n FROM dbr WHERE RecordType = 'LineItem'`);
  const [every] = await q(`SELECT count(*) AS n FROM every`);
  if (Number(every.n) <= Number(last.n)) { failures++; console.log(`FAIL: all versions (${every.n} rows) not more than the last (${last.n})`); }
  console.log(`${failures === 0 ? 'dbr differential cases agree' : 'dbr differential cases DISAGREE'}: ${checked - failures} of ${checked} (${last.n} LineItem rows of the last version, ${every.n} in all three)`);
} catch (e) {
  console.error(`FAIL: ${e.stack || e}`);
  failures++;
} finally {
  if (!args.keep) rmSync(tmp, { recursive: true, force: true });
  else console.log(`kept ${tmp}`);
}
process.exit(failures === 0 ? 0 : 1);
