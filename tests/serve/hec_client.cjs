// Sends events to `cairn serve`'s HTTP Event Collector with Splunk's own HEC client for
// JavaScript (npm splunk-logging, unmodified), batched 100 to a request, then a bad token and a
// disallowed index, and prints "all ok" when every answer was the expected one.
// Environment: CAIRN_HEC_URL (http://127.0.0.1:PORT), CAIRN_HEC_TOKEN, CAIRN_HEC_BAD_TOKEN,
// CAIRN_HEC_EVENTS (how many), CAIRN_HEC_RUN (a marker put in every event).
"use strict";
const SplunkLogger = require("splunk-logging").Logger;

const url = process.env.CAIRN_HEC_URL;
const events = Number(process.env.CAIRN_HEC_EVENTS || "1000");
const run = process.env.CAIRN_HEC_RUN;
let failures = 0;

function check(ok, what) {
  console.log((ok ? "ok " : "FAIL ") + what);
  if (!ok) failures++;
}

function logger(token, batch) {
  const l = new SplunkLogger({ token, url, maxBatchCount: batch, maxRetries: 0 });
  l.errors = [];
  l.error = (err) => l.errors.push(err);
  return l;
}

function send(l, payload) {
  return new Promise((resolve) => l.send(payload, (err, resp, body) => resolve({ err, resp, body })));
}

function flush(l) {
  return new Promise((resolve) => l.flush((err, resp, body) => resolve({ err, resp, body })));
}

async function main() {
  const good = logger(process.env.CAIRN_HEC_TOKEN, 100);
  const answers = [];
  const t0 = Date.now();
  for (let i = 0; i < events; i++) {
    const payload = {
      message: { run, seq: i, text: "event " + i + " from splunk-logging" },
      severity: i % 10 === 0 ? "error" : "info",
      metadata: {
        index: "apps",
        sourcetype: "app:json",
        source: "hec-e2e",
        host: "app-" + (i % 4),
        time: 1700000000 + i + 0.5,
      },
    };
    // Every 100th send completes a batch of 100 and posts it; wait for those answers.
    const p = send(good, payload);
    if ((i + 1) % 100 === 0) answers.push(await p);
  }
  // The rest (a flush with nothing queued would post an empty body: "No data", as from Splunk).
  if (events % 100 !== 0) answers.push(await flush(good));
  const ms = Date.now() - t0;
  const posted = answers.filter((a) => a.resp);
  check(good.errors.length === 0, "no errors from the client: " + good.errors.map(String).join("; "));
  check(
    posted.every((a) => a.resp.statusCode === 200 && a.body && a.body.code === 0),
    "every batch answered 200 Success (" + posted.length + " requests)"
  );
  console.log(`sent ${events} events in ${ms} ms`);

  const bad = logger(process.env.CAIRN_HEC_BAD_TOKEN, 1);
  const b = await send(bad, { message: { run, bad: true } });
  check(b.resp && b.resp.statusCode === 403 && b.body.code === 4, "a wrong token: 403 code 4");
  check(bad.errors.length === 1 && bad.errors[0].code === 4, "the client reports Invalid token");

  const idx = logger(process.env.CAIRN_HEC_TOKEN, 1);
  const r = await send(idx, { message: { run, refused: true }, metadata: { index: "main" } });
  check(r.resp && r.resp.statusCode === 400 && r.body.code === 7, "a disallowed index: 400 code 7");

  console.log(failures === 0 ? "all ok" : failures + " failures");
  process.exit(failures === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
