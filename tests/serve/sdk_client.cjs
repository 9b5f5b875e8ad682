// Drives `cairn serve` with Splunk's official JavaScript SDK (npm splunk-sdk), unmodified.
// Environment: CAIRN_URL (scheme://127.0.0.1:port), CAIRN_USER, CAIRN_PASSWORD,
// CAIRN_EXPECT_V2 ("1" when the server reports >= 9.0.2), CAIRN_EVENTS_SEARCH and
// CAIRN_EVENTS_IDS (the eventIDs `cairn search` found for it, comma-separated),
// CAIRN_STATS_SEARCH and CAIRN_STATS_ROWS (JSON lines from `cairn search`), CAIRN_CA (a CA file:
// one request verifies the server certificate with it).
// Prints "ok <check>" per check; exits 1 at the first failed one.

const splunkjs = require("splunk-sdk");
const fs = require("fs");
const https = require("https");

const env = process.env;
const url = new URL(env.CAIRN_URL);
const scheme = url.protocol.replace(":", "");

function fail(what, detail) {
  console.log(`FAIL ${what}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
  process.exit(1);
}
function ok(what) { console.log(`ok ${what}`); }
function check(cond, what, detail) { if (!cond) fail(what, detail); ok(what); }

function service(password) {
  return new splunkjs.Service({ scheme, host: url.hostname, port: url.port, username: env.CAIRN_USER, password });
}

function track(job) {
  return new Promise((resolve, reject) => {
    job.track({ period: 50 }, { done: resolve, failed: (j) => reject(new Error("job failed: " + JSON.stringify(j.properties().messages))), error: reject });
  });
}

// Raw request with the session key (export, which the SDK does not wrap; hostile parameters).
function raw(svc, method, path, body) {
  const headers = { Authorization: "Splunk " + svc.sessionKey };
  if (body) headers["Content-Type"] = "application/x-www-form-urlencoded";
  const opts = { method, headers };
  if (scheme === "https") opts.dispatcher = undefined;
  return fetch(`${env.CAIRN_URL}${path}`, { method, headers, body }).then(async (r) => ({ status: r.status, text: await r.text(), type: r.headers.get("content-type") }));
}

async function main() {
  if (scheme === "https") {
    // Node's fetch does not take a CA; the SDK skips verification. Verify the certificate once.
    await new Promise((resolve, reject) => {
      const req = https.get(`${env.CAIRN_URL}/health`, { ca: fs.readFileSync(env.CAIRN_CA) }, (res) => {
        res.resume();
        res.statusCode === 200 ? resolve() : reject(new Error("health " + res.statusCode));
      });
      req.on("error", reject);
    });
    ok("tls certificate verified");
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";  // for fetch below only
  }

  // Wrong password: the SDK's login fails with 401.
  try {
    await service("wrong-password").login();
    fail("wrong password", "login succeeded");
  } catch (e) {
    check(e.status === 401, "wrong password rejected", e.status);
  }

  const svc = service(env.CAIRN_PASSWORD);
  await svc.login();
  check(!!svc.sessionKey, "login", "no session key");
  check(svc.disableV2SearchApi() === (env.CAIRN_EXPECT_V2 !== "1"), `search api ${env.CAIRN_EXPECT_V2 === "1" ? "v2" : "v1"} chosen`, svc.version);

  // A normal job polled to completion, then its results paged in json_rows.
  const wantIds = env.CAIRN_EVENTS_IDS.split(",").filter((x) => x).sort();
  let job = await svc.jobs().create(env.CAIRN_EVENTS_SEARCH, {});
  await track(job);
  await job.fetch();
  const p = job.properties();
  check(p.isDone === true && p.dispatchState === "DONE" && p.doneProgress === 1, "normal job done", p);
  check(p.resultCount === wantIds.length, `resultCount ${wantIds.length}`, p.resultCount);
  check(typeof p.runDuration === "number" && p.scanCount >= wantIds.length && p.eventCount === wantIds.length, "job counters", p);
  const got = [];
  const pageSize = 7;
  for (let offset = 0; ; offset += pageSize) {
    const [res] = await job.results({ count: pageSize, offset });
    const col = res.fields.indexOf("eventID");
    if (col < 0 && res.rows.length) fail("eventID field", res.fields);
    for (const row of res.rows) got.push(row[col]);
    if (res.rows.length < pageSize) break;
  }
  got.sort();
  check(JSON.stringify(got) === JSON.stringify(wantIds), "paged results equal cairn search", { got: got.length, want: wantIds.length });
  const [ev] = await job.events({ count: 3 });
  check(ev.rows.length === Math.min(3, wantIds.length) && ev.fields.includes("_raw"), "events endpoint", ev.fields);

  // A blocking job: done when create returns.
  const wantStats = env.CAIRN_STATS_ROWS.split("\n").filter((l) => l).map((l) => JSON.parse(l));
  const statsKey = (o) => Object.keys(o).sort().map((k) => `${k}=${o[k]}`).join("|");
  const wantStatsKeys = wantStats.map(statsKey).sort();
  job = await svc.jobs().create(env.CAIRN_STATS_SEARCH, { exec_mode: "blocking" });
  await job.fetch();
  check(job.properties().isDone === true, "blocking job done on return", job.properties().dispatchState);
  const [stats] = await job.results({ count: 0 });
  const statsKeys = stats.rows.map((r) => statsKey(Object.fromEntries(r.map((v, i) => [stats.fields[i], v])))).sort();
  check(JSON.stringify(statsKeys) === JSON.stringify(wantStatsKeys), "blocking stats equal cairn search", { statsKeys, wantStatsKeys });

  // Oneshot.
  const one = await svc.jobs().oneshotSearch(env.CAIRN_STATS_SEARCH, { count: 0 });
  const oneKeys = one.rows.map((r) => statsKey(Object.fromEntries(r.map((v, i) => [one.fields[i], v])))).sort();
  check(JSON.stringify(oneKeys) === JSON.stringify(wantStatsKeys), "oneshot equals cairn search", oneKeys);

  // Export (streamed JSON lines).
  const exp = await raw(svc, "POST", "/services/search/jobs/export", new URLSearchParams({ search: env.CAIRN_EVENTS_SEARCH, output_mode: "json" }).toString());
  const lines = exp.text.split("\n").filter((l) => l).map((l) => JSON.parse(l));
  const expIds = lines.map((l) => l.result.eventID).sort();
  check(exp.status === 200 && JSON.stringify(expIds) === JSON.stringify(wantIds), "export equals cairn search", { status: exp.status, n: expIds.length });
  check(wantIds.length === 0 || lines[lines.length - 1].lastrow === true, "export marks the last row", lines[lines.length - 1]);

  // Cancel: the job goes away.
  job = await svc.jobs().create("search * | stats count by eventName, awsRegion, userIdentity.arn", {});
  await job.cancel();
  try {
    await job.fetch();
    fail("cancelled job", "still there");
  } catch (e) {
    check(e.status === 404, "cancelled job is gone (404)", e.status);
  }

  // Finalize: the job ends done (with what it had found, isFinalized when it was still running).
  job = await svc.jobs().create("search * | eval a=replace(_raw, \"[aeiou]\", \"x\") | stats dc(a)", {});
  await job.finalize();
  await track(job);
  await job.fetch();
  check(job.properties().dispatchState === "DONE" && typeof job.properties().isFinalized === "boolean", "finalized job done", job.properties());

  // The job list and a job under /servicesNS/<user>/<app>/.
  job = await svc.jobs().create("| makeresults count=3", { exec_mode: "blocking" });
  const ns = await raw(svc, "GET", `/servicesNS/${env.CAIRN_USER}/search/search/jobs/${encodeURIComponent(job.sid)}?output_mode=json`);
  check(ns.status === 200 && JSON.parse(ns.text).entry[0].content.sid === job.sid, "job under servicesNS", ns.status);
  const all = svc.jobs();
  await all.fetch();
  check(all.list().some((j) => j.sid === job.sid), "job listed", all.list().map((j) => j.sid));
  await job.remove();

  // Bad requests answer clear errors.
  let r = await raw(svc, "POST", "/services/search/jobs?output_mode=json", "search=" + encodeURIComponent("search * | nosuchcommand"));
  check(r.status === 400 && JSON.parse(r.text).messages[0].type === "ERROR", "bad search is 400", r);
  r = await raw(svc, "GET", "/services/search/jobs/no-such-sid/results?output_mode=json");
  check(r.status === 404 && /Unknown sid/.test(r.text), "unknown sid is 404", r);
  r = await raw(svc, "POST", "/services/search/jobs", "search=x&count=abc&exec_mode=oneshot");
  check(r.status === 400, "non-numeric count is 400", r);
  r = await raw(svc, "POST", "/services/search/jobs", "search=search+*&exec_mode=sometimes");
  check(r.status === 400, "bad exec_mode is 400", r);
  r = await raw(svc, "POST", "/services/search/jobs", "search=search+*&earliest_time=yesterday-ish");
  check(r.status === 400 && /earliest_time/.test(r.text), "bad earliest_time is 400", r);
  console.log("all ok");
}

main().catch((e) => fail("exception", e && (e.stack || e.message || JSON.stringify(e))));
