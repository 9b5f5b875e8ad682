// SQS's query protocol in front of fauxqs, which implements only SQS's JSON protocol. AWS SQS
// accepts both; older SDKs and CLIs speak the query protocol — among them the AWS CLI Debian 12
// packages (awscli 2.9.19): a form-encoded POST of Action=SendMessage&QueueUrl=... to the
// endpoint (or to the queue's URL), answered in XML. Without this, fauxqs hands such a request to
// its SNS router, which answers "Unknown action: SendMessage".
//
// installSqsQueryProtocol(app) adds a preHandler hook: a form-encoded request whose Action is an
// SQS action is turned into the JSON request (parameters from their query form: Attribute.N.Name,
// MessageAttribute.N.Value.StringValue, ...BatchRequestEntry.N...), sent to fauxqs over loopback
// on its own port, and the JSON answer (or error) is written back as the query protocol's XML.
// Not app.inject: its light-my-request loads the ESM-only `cookie` with require(), which Debian
// 12's Node.js 18 cannot do (every such request answered 500 ERR_REQUIRE_ESM).

import { randomUUID } from 'node:crypto';
import http from 'node:http';

// POSTs `body` to the emulator itself on 127.0.0.1; resolves to { statusCode, headers, body }.
function postToSelf(app, headers, body) {
  const { port } = app.addresses().find((a) => a.address === '127.0.0.1') ?? app.addresses()[0];
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers,
      timeout: 30000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ statusCode: res.statusCode, headers: res.headers,
        body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer from the emulator in 30 s')));
    req.on('error', reject);
    req.end(body);
  });
}

const SQS_ACTIONS = new Set([
  'CreateQueue', 'DeleteQueue', 'GetQueueUrl', 'ListQueues', 'GetQueueAttributes',
  'SetQueueAttributes', 'PurgeQueue', 'SendMessage', 'ReceiveMessage', 'DeleteMessage',
  'SendMessageBatch', 'DeleteMessageBatch', 'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch', 'TagQueue', 'UntagQueue', 'ListQueueTags',
]);
const INTEGERS = new Set(['DelaySeconds', 'MaxNumberOfMessages', 'VisibilityTimeout',
  'WaitTimeSeconds', 'MaxResults']);
// Query lists of names -> JSON arrays.
const LISTS = { AttributeName: 'AttributeNames', MessageAttributeName: 'MessageAttributeNames',
  MessageSystemAttributeName: 'MessageSystemAttributeNames', TagKey: 'TagKeys' };
const ENTRIES = ['SendMessageBatchRequestEntry', 'DeleteMessageBatchRequestEntry',
  'ChangeMessageVisibilityBatchRequestEntry'];

// "A.1.B" = v -> { A: { 1: { B: v } } } (numbered members stay keyed by their number).
function nest(form) {
  const root = {};
  for (const [key, value] of Object.entries(form)) {
    const parts = key.split('.');
    let at = root;
    for (let i = 0; i < parts.length - 1; i++) at = at[parts[i]] ??= {};
    at[parts[parts.length - 1]] = value;
  }
  return root;
}
const members = (o) => Object.keys(o ?? {}).sort((a, b) => a - b).map((k) => o[k]);

// A nested query structure -> the JSON protocol's parameters.
function toJson(q) {
  const out = {};
  for (const [key, value] of Object.entries(q)) {
    if (key === 'Action' || key === 'Version') continue;
    if (key === 'Attribute') {
      out.Attributes = Object.fromEntries(members(value).map((a) => [a.Name, a.Value]));
    } else if (key === 'Tag') {
      out[q.Action === 'CreateQueue' ? 'tags' : 'Tags'] =
        Object.fromEntries(members(value).map((t) => [t.Key, t.Value]));
    } else if (key === 'MessageAttribute' || key === 'MessageSystemAttribute') {
      out[`${key}s`] = Object.fromEntries(members(value).map((a) => [a.Name, a.Value]));
    } else if (LISTS[key]) {
      out[LISTS[key]] = members(value);
    } else if (ENTRIES.includes(key)) {
      out.Entries = members(value).map(toJson);
    } else {
      out[key] = INTEGERS.has(key) ? Number(value) : value;
    }
  }
  return out;
}

const escape = (s) => String(s).replace(/[<>&'"]/g,
  (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]);

// A JSON answer's value -> the query protocol's (flattened) XML elements.
function toXml(name, value, action) {
  if (value === null || value === undefined) return '';
  if (name === 'Attributes' || name === 'Tags') {
    const [el, k, v] = name === 'Tags' ? ['Tag', 'Key', 'Value'] : ['Attribute', 'Name', 'Value'];
    return Object.entries(value).map(([n, x]) =>
      `<${el}><${k}>${escape(n)}</${k}><${v}>${escape(x)}</${v}></${el}>`).join('');
  }
  if (name === 'MessageAttributes') {
    return Object.entries(value).map(([n, x]) =>
      `<MessageAttribute><Name>${escape(n)}</Name><Value>${
        Object.entries(x).map(([k, v]) => toXml(k, v, action)).join('')}</Value></MessageAttribute>`)
      .join('');
  }
  if (Array.isArray(value)) {
    const el = { Messages: 'Message', QueueUrls: 'QueueUrl', Failed: 'BatchResultErrorEntry',
      Successful: `${action}ResultEntry` }[name] ?? name;
    return value.map((x) => toXml(el, x, action)).join('');
  }
  if (typeof value === 'object') {
    return `<${name}>${Object.entries(value).map(([k, v]) => toXml(k, v, action)).join('')}</${name}>`;
  }
  return `<${name}>${escape(value)}</${name}>`;
}

export function installSqsQueryProtocol(app) {
  app.addHook('preHandler', async (request, reply) => {
    const type = request.headers['content-type'] ?? '';
    const form = request.body;
    if (request.method !== 'POST' || !type.includes('x-www-form-urlencoded') || !form ||
        !SQS_ACTIONS.has(form.Action)) {
      return;
    }
    const params = toJson(nest(form));
    // Sent to the queue's own URL, the request names its queue by its path.
    if (!params.QueueUrl && request.url !== '/' && form.Action !== 'CreateQueue' &&
        form.Action !== 'ListQueues' && form.Action !== 'GetQueueUrl') {
      params.QueueUrl = `http://${request.headers.host}${request.url.split('?')[0]}`;
    }
    const payload = JSON.stringify(params);
    const res = await postToSelf(app, { 'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `AmazonSQS.${form.Action}`, host: request.headers.host ?? 'localhost',
      'content-length': Buffer.byteLength(payload) }, payload);
    const requestId = randomUUID();
    const answer = res.body ? JSON.parse(res.body) : {};
    reply.code(res.statusCode).header('content-type', 'text/xml');
    if (res.statusCode >= 400) {
      const [code, fault] = (res.headers['x-amzn-query-error'] ??
        `${String(answer.__type ?? 'InternalError').replace(/^.*#/, '')};Sender`).split(';');
      return reply.send(`<?xml version="1.0"?><ErrorResponse><Error><Type>${escape(fault)}</Type>` +
        `<Code>${escape(code)}</Code><Message>${escape(answer.message ?? '')}</Message>` +
        `<Detail/></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
    }
    const result = Object.entries(answer).map(([k, v]) => toXml(k, v, form.Action)).join('');
    return reply.send(`<?xml version="1.0"?><${form.Action}Response ` +
      `xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><${form.Action}Result>${result}` +
      `</${form.Action}Result><ResponseMetadata><RequestId>${requestId}</RequestId>` +
      `</ResponseMetadata></${form.Action}Response>`);
  });
}
