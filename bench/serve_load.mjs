// REST load for bench/serve.sh: Splunk's search API on `cairn serve`, as a script or a browser
// would use it. Plain fetch (keep-alive), session key from /services/auth/login.
//   node bench/serve_load.mjs needle   — each search REPEATS times, one at a time, two ways:
//     oneshot: one POST (exec_mode=oneshot, count=PAGE) returning the first page;
//     job:     POST a normal job, poll its status every POLL_MS until done, GET the first page.
//   node bench/serve_load.mjs users    — USERS concurrent users for SECONDS, each running the
//     searches in turn (starting at a different one) as normal jobs polled to completion.
// Environment: CAIRN_URL, CAIRN_USER, CAIRN_PASSWORD, SEARCHES (JSON: [{name, search, earliest,
// latest}]), REPEATS (20), PAGE (20), POLL_MS (5), USERS (20), SECONDS (60).
// Prints one JSON object: per search name {n, p50, p99, max, rows} in milliseconds, and for
// users the overall latency and the searches completed.

const env = process.env;
const base = env.CAIRN_URL;
const searches = JSON.parse(env.SEARCHES);
const page = Number(env.PAGE || 20);
const pollMs = Number(env.POLL_MS || 5);

async function call(key, method, path, form) {
  const headers = {};
  if (key) headers.Authorization = "Splunk " + key;
  let body;
  if (form) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(form).toString();
  }
  const r = await fetch(base + path, { method, headers, body });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: HTTP ${r.status}: ${text.slice(0, 300)}`);
  return text;
}

async function login() {
  const text = await call(null, "POST", "/services/auth/login", {
    username: env.CAIRN_USER, password: env.CAIRN_PASSWORD, output_mode: "json",
  });
  return JSON.parse(text).sessionKey;
}

function jobForm(s, extra) {
  const f = { search: s.search, output_mode: "json", ...extra };
  if (s.earliest) f.earliest_time = s.earliest;
  if (s.latest) f.latest_time = s.latest;
  return f;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Returns the first page's row count.
async function oneshot(key, s) {
  const text = await call(key, "POST", "/services/search/jobs",
                          jobForm(s, { exec_mode: "oneshot", count: String(page) }));
  return JSON.parse(text).results.length;
}

async function job(key, s) {
  const sid = JSON.parse(await call(key, "POST", "/services/search/jobs",
                                    jobForm(s, { exec_mode: "normal" }))).sid;
  for (let i = 0; ; i++) {
    const st = JSON.parse(await call(key, "GET", `/services/search/jobs/${sid}?output_mode=json`));
    const c = st.entry[0].content;
    if (c.dispatchState === "FAILED") throw new Error(`${s.name} failed: ${JSON.stringify(c.messages)}`);
    if (c.isDone) break;
    if (i > 200000) throw new Error(`${s.name}: not done`);
    await sleep(pollMs);
  }
  const res = JSON.parse(await call(key, "GET",
                                    `/services/search/jobs/${sid}/results?output_mode=json&count=${page}`));
  await call(key, "DELETE", `/services/search/jobs/${sid}`);
  return res.results.length;
}

function summary(samples) {
  const v = [...samples].sort((a, b) => a - b);
  const q = (p) => v[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)];
  const r = (x) => Math.round(x * 10) / 10;
  return { n: v.length, p50: r(q(0.5)), p99: r(q(0.99)), max: r(v[v.length - 1]) };
}

async function needle() {
  const key = await login();
  const repeats = Number(env.REPEATS || 20);
  const out = {};
  for (const s of searches) {
    for (const [way, fn] of [["oneshot", oneshot], ["job", job]]) {
      let rows = await fn(key, s);  // warm-up: the first run opens what the search reads
      const t = [];
      for (let i = 0; i < repeats; i++) {
        const t0 = performance.now();
        rows = await fn(key, s);
        t.push(performance.now() - t0);
      }
      out[`${s.name} ${way}`] = { ...summary(t), rows };
    }
  }
  return out;
}

async function users() {
  const n = Number(env.USERS || 20);
  const until = performance.now() + Number(env.SECONDS || 60) * 1000;
  const per = Object.fromEntries(searches.map((s) => [s.name, []]));
  const all = [];
  let errors = 0;
  const user = async (u) => {
    const key = await login();
    for (let i = u; performance.now() < until; i++) {
      const s = searches[i % searches.length];
      const t0 = performance.now();
      try {
        await job(key, s);
      } catch (e) {
        errors++;
        if (errors <= 3) console.error(String(e));
        continue;
      }
      const ms = performance.now() - t0;
      per[s.name].push(ms);
      all.push(ms);
    }
  };
  await Promise.all(Array.from({ length: n }, (_, u) => user(u)));
  const out = { all: summary(all), errors };
  for (const [name, t] of Object.entries(per)) if (t.length) out[name] = summary(t);
  return out;
}

const mode = process.argv[2];
const result = mode === "needle" ? await needle() : mode === "users" ? await users() : null;
if (!result) {
  console.error("usage: serve_load.mjs needle|users");
  process.exit(2);
}
console.log(JSON.stringify(result));
