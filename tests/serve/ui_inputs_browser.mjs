// The web UI's Inputs page in Debian's chromium (headless, through playwright-core): an admin adds
// an SQS-based-S3 input with static keys through the form, sees it polling with static keys and
// the secret nowhere (page nor listing), replaces the keys (one alone is refused), clears them,
// disables the input, and removes it. Run by tests/collect/serve_inputs_test.cc with:
//   CAIRN_UI_URL, CAIRN_USER, CAIRN_PASSWORD, CAIRN_QUEUE (a queue URL the server can poll),
//   CAIRN_SECRETS (two secret keys, comma-separated, that must never be shown back),
//   CAIRN_SHOTS (screenshots), CHROMIUM (default /usr/bin/chromium).
// Prints "ok ..." per check and "all ok" at the end; exits 1 at the first failure.
import { chromium } from 'playwright-core';

const env = process.env;
const url = env.CAIRN_UI_URL;
function fail(msg) { console.error('FAIL: ' + msg); process.exitCode = 1; throw new Error(msg); }
function check(cond, msg) { if (!cond) fail(msg); console.log('ok ' + msg); }

const browser = await chromium.launch({ executablePath: env.CHROMIUM || '/usr/bin/chromium',
  headless: true, args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1400, height: 700 } });
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });
page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });
page.setDefaultTimeout(60000);
const row = (name) => `#inputs-table tr[data-name="${name}"]`;
const keysRow = (name) => `#inputs-table tr[data-keys-for="${name}"]`;
const [secret1, secret2] = (env.CAIRN_SECRETS || 'first-ui-secret,second-ui-secret').split(',');
// The listing of /api/inputs as the page gets it: its text and the input's entry.
async function listing(name) {
  const text = await page.evaluate(async () => (await fetch('/api/inputs')).text());
  return { text, input: JSON.parse(text).inputs.find((i) => i.name === name) };
}

try {
  await page.goto(url + '/login');
  await page.fill('#username', env.CAIRN_USER);
  await page.fill('#password', env.CAIRN_PASSWORD);
  await Promise.all([page.waitForURL(url + '/search'), page.click('button[type=submit]')]);
  check(!(await page.isHidden('#nav-inputs')), 'Inputs link shown to an admin');
  await page.click('#nav-inputs');
  await page.waitForSelector('#new-input');

  // A bad region is refused, naming the key; nothing is added.
  await page.fill('#new-input-name', 'browser-input');
  await page.fill('#new-input-queue', env.CAIRN_QUEUE);
  await page.fill('#new-input-region', 'moon-1');
  errors.length = 0;
  await page.click('#new-input button[type=submit]');
  await page.waitForSelector('#inputs-msg .msg:not(.info)');
  check((await page.textContent('#inputs-msg')).includes('sqs_queue_region'), 'a bad region is refused naming the key');
  check(await page.$(row('browser-input')) === null, 'nothing added');
  errors.length = 0;  // (the 400 above was expected)

  await page.fill('#new-input-region', 'us-west-2');
  await page.fill('#new-input-index', 'browser-trail');
  await page.fill('#new-input-interval', '1');
  check(await page.getAttribute('#new-input-secret', 'type') === 'password', 'the secret key field is a password field');
  await page.fill('#new-input-key-id', 'AKIDBROWSERFIRST');
  await page.fill('#new-input-secret', secret1);
  await page.click('#new-input button[type=submit]');
  await page.waitForSelector(row('browser-input'));
  check(true, 'input added through the form');
  check(await page.inputValue('#new-input-secret') === '', 'the secret field is emptied');
  check((await page.textContent(row('browser-input') + ' .input-keys')).trim() === 'static', 'the listing shows static keys');
  let l = await listing('browser-input');
  check(l.input && l.input.static_keys === true, 'GET /api/inputs says static_keys: true');
  check(!l.text.includes(secret1) && !l.text.includes('secret_key'), 'the secret is not in the listing');
  check(!(await page.content()).includes(secret1), 'the secret is not in the page');
  // The server starts it at once: the page shows it polling after a reload or two.
  let state = '';
  for (let i = 0; i < 60 && state !== 'polling'; i++) {
    await page.reload();
    await page.waitForSelector(row('browser-input'));
    state = (await page.textContent(row('browser-input') + ' .input-state')).trim();
    if (state !== 'polling') await page.waitForTimeout(250);
  }
  check(state === 'polling', 'the new input polls (state ' + state + ')');
  check((await page.textContent(row('browser-input') + ' .input-keys')).trim() === 'static', 'still static keys after a reload');
  await page.screenshot({ path: env.CAIRN_SHOTS + '/inputs.png', fullPage: false });

  // Replacing the keys: the key ID alone is refused naming both; both replace them.
  await page.click(row('browser-input') + ' .set-keys');
  await page.waitForSelector(keysRow('browser-input') + ':not([hidden])');
  check(await page.inputValue(keysRow('browser-input') + ' .key-id') === '' &&
        await page.inputValue(keysRow('browser-input') + ' .secret-key') === '', 'the keys form shows no key');
  await page.fill(keysRow('browser-input') + ' .key-id', 'AKIDALONE');
  await page.click(keysRow('browser-input') + ' .save-keys');
  await page.waitForSelector('#inputs-msg .msg:not(.info)');
  check((await page.textContent('#inputs-msg')).includes('key_id and secret_key'), 'a key ID alone is refused naming both keys');
  errors.length = 0;  // (the 400 above was expected)
  await page.click(row('browser-input') + ' .set-keys');
  await page.fill(keysRow('browser-input') + ' .key-id', 'AKIDBROWSERSECOND');
  await page.fill(keysRow('browser-input') + ' .secret-key', secret2);
  await page.screenshot({ path: env.CAIRN_SHOTS + '/inputs-keys.png', fullPage: false });
  await page.click(keysRow('browser-input') + ' .save-keys');
  await page.waitForFunction(() => (document.querySelector('#inputs-msg .msg.info') || {}).textContent === 'Static keys of browser-input saved.');
  l = await listing('browser-input');
  check(l.input.static_keys === true && !l.text.includes(secret2) && !l.text.includes(secret1), 'keys replaced; neither secret shown');
  check(!(await page.content()).includes(secret2), 'the new secret is not in the page');

  // Cleared: the input falls back to the default credentials.
  await page.click(row('browser-input') + ' .set-keys');
  page.once('dialog', (d) => d.accept());
  await page.click(keysRow('browser-input') + ' .clear-keys');
  await page.waitForFunction((sel) => (document.querySelector(sel) || {}).textContent === 'default', row('browser-input') + ' .input-keys');
  l = await listing('browser-input');
  check(l.input.static_keys === false, 'keys cleared: static_keys false');
  check(await page.$(keysRow('browser-input') + ' .clear-keys') === null, 'no Clear keys button without keys');

  await page.click(row('browser-input') + ' .disable-input');
  await page.waitForSelector(row('browser-input') + ' .enable-input');
  check((await page.textContent(row('browser-input') + ' .input-state')).trim() !== 'polling', 'disabled: no longer polling');
  page.once('dialog', (d) => d.accept());
  await page.click(row('browser-input') + ' .delete-input');
  await page.waitForFunction((sel) => !document.querySelector(sel), row('browser-input'));
  check(true, 'input removed');
  check(errors.length === 0, 'no script errors: ' + errors.join('; '));
  console.log('all ok');
} catch (e) {
  console.error(String(e && e.stack || e));
  await page.screenshot({ path: env.CAIRN_SHOTS + '/inputs-failure.png' }).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}
