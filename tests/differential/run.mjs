// Differential search test: every case in a cases file is asked twice, once of cairn (the real
// binary: `cairn ingest`, then `cairn search --format json`) and once of DuckDB (SQL over the same
// files, loaded with read_json), and the two result sets must agree.
//
// Usage: node run.mjs --cairn BIN --cases FILE --name NAME --files GLOB [--files GLOB]...
//                     [--generate EVENTS:SEED[:PROFILE]] [--keep]
//   --files      CloudTrail files ({"Records": [...]}, .json or .json.gz; DuckDB glob syntax);
//   --generate   first run `cairn generate --events EVENTS --seed SEED [--profile PROFILE]` into a
//                temporary folder and use its AWSLogs/**/*.json.gz as the files (PROFILE: default,
//                or wide: a new access key and request id per event, thousands of principals);
//   --keep       leave the temporary folder (data folder, generated logs) for inspection.
// Exit status: 0 all cases agree, 1 some case failed or the run broke, 77 skipped (no DuckDB
// module: run `npm ci` at the repository root; under CI=true that is a failure instead).
//
// Cases file: see tests/differential/README.md.

import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = { files: [] };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const next = () => process.argv[++i];
  if (a === '--cairn') args.cairn = next();
  else if (a === '--cases') args.cases = next();
  else if (a === '--name') args.name = next();
  else if (a === '--files') args.files.push(next());
  else if (a === '--generate') args.generate = next();
  else if (a === '--keep') args.keep = true;
  else { console.error(`unknown argument ${a}`); process.exit(1); }
}
if (!args.cairn || !args.cases || !args.name || (args.files.length === 0 && !args.generate)) {
  console.error('usage: node run.mjs --cairn BIN --cases FILE --name NAME (--files GLOB... | --generate N:SEED[:PROFILE])');
  process.exit(1);
}

let duckdb;
try {
  duckdb = await import('@duckdb/node-api');
} catch (e) {
  const msg = `@duckdb/node-api not installed (run \`npm ci\` at the repository root): ${e.message}`;
  if (process.env.CI === 'true') { console.error(`FAIL: ${msg} (required under CI=true)`); process.exit(1); }
  console.log(`SKIPPED: ${msg}`);
  process.exit(77);
}

// ---------------------------------------------------------------------------------------------
// Cases file

function parseCases(text) {
  const lets = [];
  const cases = [];
  let cur = null;
  let lineNo = 0;
  const flush = () => { if (cur) { cases.push(cur); cur = null; } };
  for (const line of text.split('\n')) {
    lineNo++;
    if (line.trim() === '') { flush(); continue; }
    if (line.startsWith('#')) continue;
    const m = /^([a-z]+)(?: ([A-Za-z_][A-Za-z0-9_]*))?:\s?(.*)$/.exec(line);
    if (!m) throw new Error(`${args.cases}:${lineNo}: expected 'key: value', got: ${line}`);
    const [, key, name, value] = m;
    if (key === 'let') { flush(); lets.push({ name, sql: value, line: lineNo }); continue; }
    if (!cur) cur = { line: lineNo, mode: 'set', tol: 1e-9, only: null, empty: false };
    if (key === 'spl' || key === 'sql') cur[key] = cur[key] ? `${cur[key]} ${value}` : value;
    else if (key === 'mode') cur.mode = value.trim();
    else if (key === 'tol') cur.tol = Number(value);
    else if (key === 'only') cur.only = value.trim().split(/[\s,]+/);
    else if (key === 'empty') cur.empty = value.trim() === 'ok';
    else throw new Error(`${args.cases}:${lineNo}: unknown key '${key}'`);
  }
  flush();
  for (const c of cases) {
    if (!c.spl || !c.sql) throw new Error(`${args.cases}:${c.line}: a case needs spl: and sql:`);
    if (!['set', 'ordered', 'timechart', 'chart'].includes(c.mode))
      throw new Error(`${args.cases}:${c.line}: unknown mode '${c.mode}'`);
  }
  return { lets, cases };
}

// ---------------------------------------------------------------------------------------------
// Result normalisation and comparison

const kIso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const kNumber = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function scalar(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const s = String(v);
  if (kIso.test(s)) return Date.parse(s) / 1000;
  if (kNumber.test(s) && s.length < 20) return Number(s);
  return s;
}

// null, missing and the empty multivalue are all "no value"; a one-value list is that value.
function value(v) {
  if (Array.isArray(v)) {
    const vals = v.map(scalar).filter((x) => x !== null);
    if (vals.length === 0) return null;
    return vals.length === 1 ? vals[0] : vals;
  }
  return scalar(v);
}

function normRow(row) {
  const out = {};
  for (const [k, v] of Object.entries(row)) {
    const n = value(v);
    if (n !== null) out[k] = n;
  }
  return out;
}

// Wide timechart rows (_time, one column per series) to long rows (_time, series, value),
// dropping empty cells and zero counts (timechart fills empty buckets with 0; SQL has no row).
function meltTimechart(rows) {
  const out = [];
  for (const r of rows) {
    for (const [k, v] of Object.entries(r)) {
      if (k === '_time' || k === '_span' || k === '_spandays') continue;
      if (v === 0) continue;
      out.push({ _time: r._time, series: k, value: v });
    }
  }
  return out;
}

// Wide chart rows (the row field first, one column per series) to long rows (row field, series,
// value), dropping empty cells and zero counts, as meltTimechart does.
function meltChart(rows) {
  const out = [];
  for (const r of rows) {
    const [rowField, ...rest] = Object.keys(r);
    for (const k of rest) {
      if (r[k] === 0) continue;
      out.push({ [rowField]: r[rowField], series: k, value: r[k] });
    }
  }
  return out;
}

function sqlLong(rows) { return rows.filter((r) => r.value !== 0 && r.value !== undefined); }

function roundKey(v) {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(7);
  if (Array.isArray(v)) return `[${v.map(roundKey).join('\u0001')}]`;
  return JSON.stringify(v);
}
function rowKey(r) {
  return Object.keys(r).sort().map((k) => `${k}=${roundKey(r[k])}`).join('\u0002');
}

function sameValue(a, b, tol) {
  if (typeof a === 'number' && typeof b === 'number')
    return Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => sameValue(x, b[i], tol));
  return a === b;
}

function sameRow(a, b, tol) {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.join('\u0002') !== kb.join('\u0002')) return false;
  return ka.every((k) => sameValue(a[k], b[k], tol));
}

// Returns null when equal, else a short description of the first difference.
function compare(cairnRows, sqlRows, mode, tol) {
  if (cairnRows.length !== sqlRows.length)
    return `row counts differ: cairn ${cairnRows.length}, duckdb ${sqlRows.length}`;
  let a = cairnRows;
  let b = sqlRows;
  if (mode !== 'ordered') {
    a = [...a].sort((x, y) => (rowKey(x) < rowKey(y) ? -1 : rowKey(x) > rowKey(y) ? 1 : 0));
    b = [...b].sort((x, y) => (rowKey(x) < rowKey(y) ? -1 : rowKey(x) > rowKey(y) ? 1 : 0));
  }
  for (let i = 0; i < a.length; i++) {
    if (!sameRow(a[i], b[i], tol))
      return `row ${i}${mode === 'ordered' ? '' : ' (sorted)'} differs: cairn ${JSON.stringify(a[i])} vs duckdb ${JSON.stringify(b[i])}`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// DuckDB side

// Columns named as Splunk names the fields; values as Splunk's auto-kv extracts them (strings;
// JSON null is no value). errorCode is the Splunk Add-on for AWS's calculated field.
const kFields = [
  'eventName', 'eventSource', 'awsRegion', 'sourceIPAddress', 'userAgent', 'eventType',
  'eventCategory', 'readOnly', 'recipientAccountId', 'eventID', 'eventTime', 'errorMessage',
  'userIdentity.type', 'userIdentity.arn', 'userIdentity.accountId', 'userIdentity.userName',
  'userIdentity.principalId', 'userIdentity.accessKeyId',
  'userIdentity.sessionContext.sessionIssuer.userName',
  'userIdentity.sessionContext.sessionIssuer.arn', 'requestParameters.bucketName',
  'requestParameters.durationSeconds', 'requestParameters.maxResults',
  'responseElements.ConsoleLogin',
];

function loadSql(files) {
  const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
  const cols = kFields.map((f) => `json_extract_string(raw, '$.${f}') AS "${f}"`).join(',\n    ');
  return [
    `CREATE TABLE records AS SELECT unnest(Records) AS raw FROM read_json([${list}],
       columns = {Records: 'JSON[]'}, format = 'auto', maximum_object_size = 1073741824)`,
    `CREATE TABLE ev AS SELECT
    raw::VARCHAR AS _raw,
    epoch_ms(CAST(json_extract_string(raw, '$.eventTime') AS TIMESTAMP)) / 1000.0 AS _time,
    CAST(json_extract_string(raw, '$.eventTime') AS TIMESTAMP) AS ts,
    hour(CAST(json_extract_string(raw, '$.eventTime') AS TIMESTAMP)) AS date_hour,
    ${cols},
    json_extract_string(raw, '$.errorCode') AS raw_errorCode,
    coalesce(json_extract_string(raw, '$.errorCode'),
             CASE WHEN json_extract_string(raw, '$.eventName') = 'ConsoleLogin'
                   AND json_extract_string(raw, '$.responseElements.ConsoleLogin') = 'Failure'
                  THEN 'failure' ELSE 'success' END) AS "errorCode",
    CASE WHEN len(json_extract_string(raw, '$.resources[*].ARN')) > 0 THEN json_extract_string(raw, '$.resources[*].ARN') END
      AS "resources{}.ARN"
  FROM records`,
  ];
}

function jsonSafe(v) {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(jsonSafe);
  return v;
}

async function sqlRows(conn, sql) {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJS().map((r) => {
    const o = {};
    for (const [k, v] of Object.entries(r)) {
      let x = v;
      if (x && typeof x === 'object' && 'items' in x) x = x.items;  // DuckDB LIST value
      o[k] = jsonSafe(x);
    }
    return o;
  });
}

// ---------------------------------------------------------------------------------------------
// cairn side

function cairn(...a) {
  return execFileSync(args.cairn, ['--log-level', 'warn', ...a], {
    encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const execFileAsync = promisify(execFile);

async function search(dataDir, spl) {
  const { stdout } = await execFileAsync(
    args.cairn, ['--log-level', 'warn', '--data', dataDir, 'search', '--format', 'json', spl],
    { encoding: 'utf8', maxBuffer: 1 << 30 });
  return stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
}

// ---------------------------------------------------------------------------------------------

const work = mkdtempSync(join(tmpdir(), `cairn_differential_${args.name}_`));
let failures = 0;
let passed = 0;
let ran = 0;
try {
  const { lets, cases } = parseCases(readFileSync(args.cases, 'utf8'));
  let ingestPaths = [];
  let files = args.files;
  if (args.generate) {
    const [events, seed, profile] = args.generate.split(':');
    const out = join(work, 'logs');
    cairn('generate', '--out', out, '--events', events, '--seed', seed, '--threads', '2',
          ...(profile ? ['--profile', profile] : []));
    files = [join(out, 'AWSLogs/**/*.json.gz')];
    ingestPaths = [join(out, 'AWSLogs')];
  } else {
    // DuckDB globs name the files; cairn ingest takes the same globs.
    ingestPaths = args.files;
  }
  const dataDir = join(work, 'data');
  const t0 = Date.now();
  const summary = JSON.parse(cairn('--data', dataDir, 'ingest', '--no-progress', '--format', 'json',
                                   '--threads', '2', ...ingestPaths));
  const db = await duckdb.DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  for (const s of loadSql(files)) await conn.run(s);
  const [{ n }] = await sqlRows(conn, 'SELECT count(*) AS n FROM ev');
  console.log(`[${args.name}] cairn ingested ${summary.added} events (${summary.duplicates} duplicates), ` +
              `duckdb loaded ${n} records, in ${Date.now() - t0} ms`);
  if (summary.added !== n) {
    console.log(`FAIL: cairn stored ${summary.added} events, DuckDB sees ${n}`);
    failures++;
  }

  const t1 = Date.now();
  const params = {};
  const subst = (s) => s.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, k) => {
    if (!(k in params)) throw new Error(`unknown parameter ${m}`);
    return params[k];
  });

  for (const l of lets) {
    const rows = await sqlRows(conn, subst(l.sql));
    if (rows.length === 0 || Object.keys(rows[0]).length === 0)
      throw new Error(`${args.cases}:${l.line}: let ${l.name} gave no value on ${args.name}`);
    params[l.name] = String(Object.values(rows[0])[0]);
  }
  // cairn searches run two at a time (each is its own process); DuckDB answers in between.
  const todo = cases.filter((c) => !c.only || c.only.includes(args.name));
  const cairnResults = new Array(todo.length);
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const i = next++;
      try {
        cairnResults[i] = { rows: await search(dataDir, subst(todo[i].spl)) };
      } catch (e) {
        cairnResults[i] = { error: `cairn search failed: ${(e.stderr || e.message).toString().trim()}` };
      }
    }
  };
  const workers = Promise.all([worker(), worker()]);
  const sqlResults = [];
  for (const c of todo) {
    try {
      sqlResults.push({ rows: await sqlRows(conn, subst(c.sql)) });
    } catch (e) {
      sqlResults.push({ error: `DuckDB failed: ${e.message}` });
    }
  }
  await workers;

  for (let i = 0; i < todo.length; i++) {
    const c = todo[i];
    ran++;
    const spl = subst(c.spl);
    const sql = subst(c.sql);
    const cairnRaw = cairnResults[i].rows || [];
    const sqlRaw = sqlResults[i].rows || [];
    let why = cairnResults[i].error || sqlResults[i].error || null;
    if (!why) {
      let a = cairnRaw.map(normRow);
      let b = sqlRaw.map(normRow);
      if (c.mode === 'timechart') { a = meltTimechart(a); b = sqlLong(b); }
      if (c.mode === 'chart') { a = meltChart(a); b = sqlLong(b); }
      if (b.length === 0 && !c.empty) why = 'DuckDB returned no rows: the case tests nothing (add `empty: ok` if intended)';
      else why = compare(a, b, c.mode, c.tol);
    }
    if (why) {
      failures++;
      const show = (rows) => rows.slice(0, 20).map((r) => `      ${JSON.stringify(r)}`).join('\n') +
        (rows.length > 20 ? `\n      ... ${rows.length - 20} more` : '');
      console.log(`FAIL [${args.name}] ${args.cases}:${c.line} (${c.mode})\n  ${why}\n` +
                  `  SPL: ${spl}\n  SQL: ${sql}\n  cairn rows (${cairnRaw.length}):\n${show(cairnRaw)}\n` +
                  `  duckdb rows (${sqlRaw.length}):\n${show(sqlRaw)}`);
    } else {
      passed++;
    }
  }
  console.log(`[${args.name}] searches answered in ${Date.now() - t1} ms`);
} catch (e) {
  failures++;
  console.log(`FAIL [${args.name}]: ${e.stack || e.message}${e.stderr ? `\n${e.stderr}` : ''}`);
} finally {
  if (args.keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
console.log(`[${args.name}] ${passed} of ${ran} differential cases agree with DuckDB`);
process.exit(failures === 0 ? 0 : 1);
