// Benchmark peers for bench/store.sh and bench/search.sh: DuckDB (@duckdb/node-api) and embedded
// ClickHouse (chdb), each loading the same CloudTrail files into its native table and answering the
// search benchmark's questions in SQL.
//
//   node peers.mjs load duckdb|chdb DB_PATH LOGS_DIR   -> JSON {engine, seconds, rows}
//   node peers.mjs query duckdb|chdb DB_PATH NAME PARAMS_JSON [REPEATS]
//        -> JSON {engine, name, cold_ms, warm_ms (median of REPEATS, default 5), rows}
//        cold = open the database + first run in a fresh process (node's own start excluded);
//        warm = the same query again in the same open database.
// The table: typed columns for the fields the searches use, plus the original record (raw),
// sorted by time. DuckDB: one database file. chdb: a MergeTree table in a session folder.

import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

const [, , cmd, engine, dbPath, ...rest] = process.argv;

// Field -> column. Paths are JSON paths inside one CloudTrail record.
const kColumns = [
  ['eventName', 'eventName'], ['eventSource', 'eventSource'], ['awsRegion', 'awsRegion'],
  ['sourceIPAddress', 'sourceIPAddress'], ['userAgent', 'userAgent'], ['errorCode', 'errorCode'],
  ['readOnly', 'readOnly'], ['eventType', 'eventType'], ['recipientAccountId', 'recipientAccountId'],
  ['eventID', 'eventID'], ['userIdentity.type', 'user_type'], ['userIdentity.arn', 'user_arn'],
  ['userIdentity.accessKeyId', 'access_key_id'], ['userIdentity.userName', 'user_name'],
  ['requestID', 'requestID'], ['requestParameters.bucketName', 'bucket_name'],
];

function filesGlob(logs) { return `${logs}/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz`; }

async function duckdbOpen(path) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const inst = await DuckDBInstance.create(path);
  const conn = await inst.connect();
  return {
    run: async (sql) => (await conn.runAndReadAll(sql)).getRowsJson(),
    close: () => { conn.closeSync?.(); inst.closeSync?.(); },
  };
}

async function chdbOpen(path) {
  const { Session } = await import('chdb');
  const s = new Session(path);
  return {
    run: async (sql) => {
      const out = s.query(sql, 'JSONCompact');
      return out ? JSON.parse(out).data : [];
    },
    close: () => s.close(),
  };
}

const open = engine === 'duckdb' ? duckdbOpen : chdbOpen;

function loadSql(logs) {
  const glob = filesGlob(logs);
  if (engine === 'duckdb') {
    const paths = kColumns.map(([p]) => `'$.${p}'`).join(', ');
    const cols = kColumns.map(([, c], i) => `v[${i + 1}] AS ${c}`).join(', ');
    const select = (g) => `
      SELECT CAST(json_extract_string(raw, '$.eventTime') AS TIMESTAMP) AS eventTime, ${cols},
             raw::VARCHAR AS raw
      FROM (SELECT raw, json_extract_string(raw, [${paths}]) AS v
            FROM (SELECT unnest(Records) AS raw
                  FROM read_json('${g}', columns = {Records: 'JSON[]'}, format = 'auto',
                                 maximum_object_size = 1073741824)))`;
    if (!process.env.PEER_CHUNKED) {
      return [`CREATE TABLE events AS ${select(glob)} ORDER BY eventTime`, 'CHECKPOINT'];
    }
    // PEER_CHUNKED=1: one account/region folder at a time, then one sort. Loading 10M events in
    // one statement runs out of memory on a 24 GB machine.
    const dirs = [];
    for (const acct of fs.readdirSync(`${logs}/AWSLogs`)) {
      for (const region of fs.readdirSync(`${logs}/AWSLogs/${acct}/CloudTrail`)) {
        dirs.push(`${logs}/AWSLogs/${acct}/CloudTrail/${region}`);
      }
    }
    const chunk = (d) => `${d}/*/*/*/*.json.gz`;
    return [`CREATE TABLE staging AS ${select(chunk(dirs[0]))}`,
            ...dirs.slice(1).map((d) => `INSERT INTO staging ${select(chunk(d))}`),
            'CREATE TABLE events AS SELECT * FROM staging ORDER BY eventTime', 'DROP TABLE staging',
            'CHECKPOINT'];
  }
  const lc = new Set(['eventName', 'eventSource', 'awsRegion', 'errorCode', 'readOnly', 'eventType',
                      'recipientAccountId', 'user_type']);
  const defs = kColumns.map(([, c]) => `${c} ${lc.has(c) ? 'LowCardinality(String)' : 'String'}`);
  const extract = kColumns.map(([p]) => {
    const keys = p.split('.').map((k) => `'${k}'`).join(', ');
    return `JSONExtractString(raw, ${keys})`;
  });
  return [
    'CREATE DATABASE IF NOT EXISTS bench',
    `CREATE TABLE bench.events (eventTime DateTime64(3, 'UTC'), ${defs.join(', ')}, raw String)
       ENGINE = MergeTree ORDER BY eventTime`,
    `INSERT INTO bench.events
       SELECT parseDateTime64BestEffort(JSONExtractString(raw, 'eventTime'), 3, 'UTC'), ${extract.join(', ')}, raw
       FROM (SELECT arrayJoin(JSONExtractArrayRaw(json, 'Records')) AS raw
             FROM file('${glob}', 'JSONAsString'))
       SETTINGS max_insert_threads = 2`,
    'OPTIMIZE TABLE bench.events FINAL',
  ];
}

// The search benchmark's questions (bench/search.sh has the SPL), per engine.
function querySql(name, p) {
  const T = engine === 'duckdb' ? 'events' : 'bench.events';
  const hour = engine === 'duckdb' ? "time_bucket(INTERVAL 1 hour, eventTime)" : 'toStartOfHour(eventTime)';
  const t0 = engine === 'duckdb' ? `to_timestamp(${p.hour})::TIMESTAMP` : `toDateTime64(${p.hour}, 3, 'UTC')`;
  const t1 = engine === 'duckdb' ? `to_timestamp(${p.hour + 3600})::TIMESTAMP` : `toDateTime64(${p.hour + 3600}, 3, 'UTC')`;
  const contains = engine === 'duckdb' ? `contains(raw, '${p.ip}')` : `position(raw, '${p.ip}') > 0`;
  const hourOfDay = engine === 'duckdb' ? "strftime(eventTime, '%H')" : "formatDateTime(eventTime, '%H')";
  const q = {
    needle_count: `SELECT count(*) FROM ${T} WHERE eventName = 'StopLogging'`,
    needle_events: `SELECT raw FROM ${T} WHERE eventName = 'StopLogging' ORDER BY eventTime DESC`,
    count_by_source: `SELECT eventSource, count(*) FROM ${T} GROUP BY 1 ORDER BY 1`,
    access_denied_top: `SELECT user_arn, count(*) AS c FROM ${T} WHERE errorCode = 'AccessDenied' AND user_arn <> '' AND user_arn IS NOT NULL GROUP BY 1 ORDER BY c DESC, 1 LIMIT 10`,
    term_ip: `SELECT count(*) FROM ${T} WHERE ${contains}`,
    timechart: `SELECT ${hour} AS t, eventName, count(*) FROM ${T} GROUP BY 1, 2 ORDER BY 1, 2`,
    dc_access_key: `SELECT count(DISTINCT access_key_id) FROM ${T} WHERE access_key_id <> ''`,
    user_hour: `SELECT raw FROM ${T} WHERE user_arn = '${p.user}' AND eventTime >= ${t0} AND eventTime < ${t1} ORDER BY eventTime DESC LIMIT 100`,
    // Issue 14's searches that must read every event (or every value of a field).
    by_bucket: `SELECT bucket_name, count(*) FROM ${T} WHERE bucket_name <> '' GROUP BY 1 ORDER BY 1`,
    bin_hour_name: `SELECT ${hour} AS t, eventName, count(*) FROM ${T} GROUP BY 1, 2 ORDER BY 1, 2`,
    hour_of_day: `SELECT ${hourOfDay} AS h, count(*) FROM ${T} GROUP BY 1 ORDER BY 1`,
    table_head: `SELECT eventTime, eventName FROM ${T} ORDER BY eventTime DESC LIMIT 5`,
    // dedup keeps the first (newest) event per ARN; `| stats count` counts them: the distinct ARNs.
    dedup_arn: `SELECT count(DISTINCT user_arn) FROM ${T} WHERE user_arn <> ''`,
    top_ip: `SELECT sourceIPAddress, count(*) AS c, 100.0 * count(*) / sum(count(*)) OVER () AS percent
             FROM ${T} WHERE sourceIPAddress <> '' GROUP BY 1 ORDER BY c DESC, 1 LIMIT 5`,
    dc_request: `SELECT count(DISTINCT requestID) FROM ${T} WHERE requestID <> ''`,
    // The events of the rare event names (fewer than 10 events), as a SQL user would write it.
    eventstats_rare: `SELECT raw FROM ${T} WHERE eventName IN
                        (SELECT eventName FROM ${T} GROUP BY 1 HAVING count(*) < 10)`,
    sort_needle: `SELECT raw FROM ${T} WHERE eventName = 'StopLogging' ORDER BY eventTime`,
    sort_many: `SELECT raw FROM ${T} WHERE eventName = '${p.many}' ORDER BY eventTime`,
    // streamstats count over the newest-first stream, then its last row: the oldest event, numbered
    // with the event count. The peers number (eventID, eventTime) only, not the whole record.
    streamstats_tail: `SELECT eventID, eventTime, c FROM
                         (SELECT eventID, eventTime, row_number() OVER (ORDER BY eventTime DESC) AS c
                          FROM ${T}) ORDER BY c DESC LIMIT 1`,
  };
  if (!(name in q)) throw new Error(`unknown query ${name}`);
  return q[name];
}

if (cmd === 'load') {
  const [logs] = rest;
  const t0 = performance.now();
  const db = await open(dbPath);
  for (const s of loadSql(logs)) await db.run(s);
  const seconds = (performance.now() - t0) / 1000;
  const [[rows]] = await db.run(`SELECT count(*) FROM ${engine === 'duckdb' ? 'events' : 'bench.events'}`);
  db.close();
  console.log(JSON.stringify({ engine, seconds, rows: Number(rows) }));
} else if (cmd === 'query') {
  const [name, paramsJson, repeats = '5'] = rest;
  const params = JSON.parse(paramsJson);
  const sql = querySql(name, params);
  const t0 = performance.now();
  const db = await open(dbPath);
  const first = await db.run(sql);
  const cold = performance.now() - t0;
  const warm = [];
  for (let i = 0; i < Number(repeats); i++) {
    const s = performance.now();
    await db.run(sql);
    warm.push(performance.now() - s);
  }
  warm.sort((a, b) => a - b);
  db.close();
  console.log(JSON.stringify({ engine, name, cold_ms: cold, warm_ms: warm[Math.floor(warm.length / 2)],
                               rows: first.length }));
} else {
  console.error('usage: node peers.mjs load|query duckdb|chdb DB_PATH ...');
  process.exit(1);
}
