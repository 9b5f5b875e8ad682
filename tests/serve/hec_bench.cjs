// HEC ingest benchmark: CAIRN_HEC_CONNS keep-alive connections, each its own channel, post
// batches of 100 events to /services/collector/event with a useACK token, then poll
// /services/collector/ack until every ackId is true (durable). Prints events/s from the first
// request to the last ack. CAIRN_HEC_KIND=json (small JSON log events) or cloudtrail
// (CloudTrail records in EventBridge envelopes, as Firehose delivers them). The request bodies
// are built before the clock starts, so the client's time goes to sending, not to JSON.stringify
// (a sender is usually another machine; here it shares the server's cores). Prints the client's
// own CPU seconds too.
// Usage: CAIRN_HEC_URL=http://127.0.0.1:8088 CAIRN_HEC_TOKEN=... node tests/serve/hec_bench.cjs
"use strict";
const http = require("http");
const crypto = require("crypto");

const base = new URL(process.env.CAIRN_HEC_URL);
const token = process.env.CAIRN_HEC_TOKEN;
const total = Number(process.env.CAIRN_HEC_EVENTS || "200000");
const conns = Number(process.env.CAIRN_HEC_CONNS || "4");
const kind = process.env.CAIRN_HEC_KIND || "json";
const batch = 100;
const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
const run = crypto.randomUUID();

function post(path, channel, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: base.hostname, port: base.port, path, method: "POST", agent,
        headers: { Authorization: "Splunk " + token, "X-Splunk-Request-Channel": channel,
                   "Content-Length": Buffer.byteLength(body) } },
      (res) => {
        let data = "";
        res.on("data", (c) => (data += c));
        res.on("end", () => resolve({ status: res.statusCode, body: data }));
      });
    req.on("error", reject);
    req.end(body);
  });
}

function event(i) {
  if (kind === "cloudtrail") {
    const id = run + "-" + i;
    return JSON.stringify({ event: { version: "0", id: "e" + id, "detail-type": "AWS API Call via CloudTrail",
      source: "aws.s3", account: "111122223333", time: "2024-05-01T12:00:00Z", region: "us-east-1", resources: [],
      detail: { eventVersion: "1.09", userIdentity: { type: "AssumedRole", accountId: "111122223333",
        arn: "arn:aws:sts::111122223333:assumed-role/app/i-0abc" }, eventTime: "2024-05-01T12:" +
        String(Math.floor(i / 60000) % 60).padStart(2, "0") + ":" + String(i % 60).padStart(2, "0") + "Z",
        eventSource: "s3.amazonaws.com", eventName: "GetObject", awsRegion: "us-east-1",
        sourceIPAddress: "10.0.0." + (i % 250), userAgent: "aws-sdk-java/2.20", requestParameters:
        { bucketName: "logs", key: "k/" + i }, eventID: id, readOnly: true, eventType: "AwsApiCall",
        recipientAccountId: "111122223333" } } });
  }
  return JSON.stringify({ time: 1714564800 + i / 1000, sourcetype: "bench:json",
    event: { run, seq: i, level: i % 10 ? "info" : "error", msg: "request served", path: "/api/v1/items/" + (i % 997),
      status: 200, ms: i % 300 } });
}

function bodies(w, quota) {
  const out = [];
  for (let sent = 0; sent < quota; sent += batch) {
    let body = "";
    for (let j = 0; j < batch && sent + j < quota; j++) body += event(w * quota + sent + j);
    out.push(Buffer.from(body));
  }
  return out;
}

async function worker(quota, prepared) {
  const channel = crypto.randomUUID();
  const acks = [];
  for (const body of prepared) {
    for (;;) {
      const r = await post("/services/collector/event", channel, body);
      if (r.status === 200) { acks.push(JSON.parse(r.body).ackId); break; }
      if (r.status !== 503) throw new Error("HTTP " + r.status + " " + r.body);
      await new Promise((s) => setTimeout(s, 20));  // server busy: back off and resend
    }
  }
  let pending = acks;
  while (pending.length > 0) {
    const r = await post("/services/collector/ack", channel, JSON.stringify({ acks: pending }));
    const got = JSON.parse(r.body).acks;
    pending = pending.filter((id) => !got[id]);
    if (pending.length > 0) await new Promise((s) => setTimeout(s, 5));
  }
}

(async () => {
  const quota = Math.ceil(total / conns / batch) * batch;
  const prepared = [...Array(conns).keys()].map((w) => bodies(w, quota));
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(prepared.map((p) => worker(quota, p)));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const n = quota * conns;
  console.log(JSON.stringify({ kind, events: n, conns, batch, seconds: +s.toFixed(2), events_per_s: Math.round(n / s),
    client_cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(2) }));
  agent.destroy();
})().catch((e) => { console.error(e); process.exit(1); });
