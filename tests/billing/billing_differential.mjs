// Differential test of the billing input: `cairn generate --billing` writes a month with three
// assemblies, `cairn billing load` loads them (each assembly in turn, then the period), and cost
// by service, account, tag and day as `cairn search` computes it must equal DuckDB's answer over
// the CSV files of the assembly the period's manifest names. DuckDB over every assembly's files
// must differ (or the check proves nothing about replacement).
//
// Usage: node billing_differential.mjs --cairn BIN [--rows N] [--profile few|many] [--keep]
// Exit status: 0 agree, 1 disagree or broken, 77 skipped (no DuckDB module; a failure under CI=true).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = { rows: '9000', profile: 'few' };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--cairn') args.cairn = process.argv[++i];
  else if (a === '--rows') args.rows = process.argv[++i];
  else if (a === '--profile') args.profile = process.argv[++i];
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

const tmp = mkdtempSync(join(tmpdir(), 'cairn-billing-diff-'));
const bucket = join(tmp, 'bucket');
const data = join(tmp, 'data');
const cairn = (...a) => execFileSync(args.cairn, ['--log-level', 'warn', '--data', data, ...a],
                                     { encoding: 'utf8', maxBuffer: 256 << 20 });
let failures = 0;
let checked = 0;
try {
  cairn('generate', '--billing', '--out', bucket, '--rows', args.rows, '--rows-per-file',
        String(Math.ceil(Number(args.rows) / 2.5)), '--seed', '11', '--profile', args.profile, '--final');
  const period = 'cur/cairn-cur/20261101-20261201';
  const manifest = JSON.parse(readFileSync(join(bucket, period, 'cairn-cur-Manifest.json'), 'utf8'));
  // The assemblies in the order they were written (their folders), oldest first, then the period.
  const gen = cairn('generate', '--billing', '--out', join(tmp, 'again'), '--rows', args.rows,
                    '--rows-per-file', String(Math.ceil(Number(args.rows) / 2.5)), '--seed', '11',
                    '--profile', args.profile, '--final');
  const manifests = [...gen.matchAll(/manifest (\S+Manifest\.json)/g)].map((m) => m[1]);
  if (manifests.length !== 3) throw new Error(`expected 3 assemblies, got:\n${gen}`);
  for (const m of manifests) cairn('billing', 'load', bucket, '--manifest', m);
  cairn('billing', 'load', bucket, '--report', 'cairn-cur', '--prefix', 'cur');

  const db = await duckdb.DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const files = manifest.reportKeys.map((k) => `'${join(bucket, k)}'`).join(', ');
  await conn.run(`CREATE TABLE cur AS SELECT * FROM read_csv([${files}], header = true, all_varchar = true)`);
  const allFiles = `'${bucket}/${period}/*/*.csv.gz'`;
  await conn.run(`CREATE TABLE every AS SELECT * FROM read_csv(${allFiles}, header = true, all_varchar = true)`);
  const q = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJS();

  const cases = [
    { name: 'by service', spl: 'index=aws-billing | stats sum(lineItem/UnblendedCost) as cost count by product/ProductName',
      key: 'product/ProductName', sql: `SELECT "product/ProductName" AS k, sum(CAST("lineItem/UnblendedCost" AS DECIMAL(38,9)))::DOUBLE AS cost, count(*) AS n FROM cur GROUP BY 1` },
    { name: 'by account', spl: 'index=aws-billing | stats sum(lineItem/UnblendedCost) as cost count by lineItem/UsageAccountId',
      key: 'lineItem/UsageAccountId', sql: `SELECT "lineItem/UsageAccountId" AS k, sum(CAST("lineItem/UnblendedCost" AS DECIMAL(38,9)))::DOUBLE AS cost, count(*) AS n FROM cur GROUP BY 1` },
    { name: 'by payer', spl: 'index=aws-billing | stats sum(lineItem/UnblendedCost) as cost count by bill/PayerAccountId',
      key: 'bill/PayerAccountId', sql: `SELECT "bill/PayerAccountId" AS k, sum(CAST("lineItem/UnblendedCost" AS DECIMAL(38,9)))::DOUBLE AS cost, count(*) AS n FROM cur GROUP BY 1` },
    { name: 'by tag', spl: 'index=aws-billing resourceTags/user:team=* | stats sum(lineItem/UnblendedCost) as cost count by resourceTags/user:team',
      key: 'resourceTags/user:team', sql: `SELECT "resourceTags/user:team" AS k, sum(CAST("lineItem/UnblendedCost" AS DECIMAL(38,9)))::DOUBLE AS cost, count(*) AS n FROM cur WHERE "resourceTags/user:team" IS NOT NULL GROUP BY 1` },
    { name: 'by day', spl: 'index=aws-billing | bin _time span=1d | eval day=strftime(_time, "%Y-%m-%d") | stats sum(lineItem/UnblendedCost) as cost count by day',
      key: 'day', sql: `SELECT substr("lineItem/UsageStartDate", 1, 10) AS k, sum(CAST("lineItem/UnblendedCost" AS DECIMAL(38,9)))::DOUBLE AS cost, count(*) AS n FROM cur GROUP BY 1` },
    { name: 'one service filtered', spl: 'index=aws-billing product/ProductName="Amazon Simple Storage Service" lineItem/UsageAccountId=222222222222 | stats sum(lineItem/UnblendedCost) as cost count by resourceTags/user:env',
      key: 'resourceTags/user:env', sql: `SELECT "resourceTags/user:env" AS k, sum(CAST("lineItem/UnblendedCost" AS DECIMAL(38,9)))::DOUBLE AS cost, count(*) AS n FROM cur WHERE "product/ProductName" = 'Amazon Simple Storage Service' AND "lineItem/UsageAccountId" = '222222222222' AND "resourceTags/user:env" IS NOT NULL GROUP BY 1` },
    { name: 'total', spl: 'index=aws-billing | stats sum(lineItem/UnblendedCost) as cost count | eval k="all"',
      key: 'k', sql: `SELECT 'all' AS k, sum(CAST("lineItem/UnblendedCost" AS DECIMAL(38,9)))::DOUBLE AS cost, count(*) AS n FROM cur` },
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
  // Every assembly's files together give another total: the check above would catch both in.
  const [cur] = await q(`SELECT count(*) AS n FROM cur`);
  const [every] = await q(`SELECT count(*) AS n FROM every`);
  if (Number(every.n) <= Number(cur.n)) { failures++; console.log(`FAIL: all assemblies (${every.n} rows) not more than the last (${cur.n})`); }
  console.log(`${failures === 0 ? 'billing differential cases agree' : 'billing differential cases DISAGREE'}: ${checked - failures} of ${checked} (${cur.n} rows of the last assembly, ${every.n} in all three)`);
} catch (e) {
  console.error(`FAIL: ${e.stack || e}`);
  failures++;
} finally {
  if (!args.keep) rmSync(tmp, { recursive: true, force: true });
  else console.log(`kept ${tmp}`);
}
process.exit(failures === 0 ? 0 : 1);
