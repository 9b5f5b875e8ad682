// The web UI's Inputs page in Debian's chromium (headless, through playwright-core): an admin adds
// an SQS-based-S3 input with the form, sees it polling, disables it, and removes it. Run by
// tests/collect/serve_inputs_test.cc with:
//   CAIRN_UI_URL, CAIRN_USER, CAIRN_PASSWORD, CAIRN_QUEUE (a queue URL the server can poll),
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
  await page.click('#new-input button[type=submit]');
  await page.waitForSelector(row('browser-input'));
  check(true, 'input added through the form');
  // The server starts it at once: the page shows it polling after a reload or two.
  let state = '';
  for (let i = 0; i < 60 && state !== 'polling'; i++) {
    await page.reload();
    await page.waitForSelector(row('browser-input'));
    state = (await page.textContent(row('browser-input') + ' .input-state')).trim();
    if (state !== 'polling') await page.waitForTimeout(250);
  }
  check(state === 'polling', 'the new input polls (state ' + state + ')');
  await page.screenshot({ path: env.CAIRN_SHOTS + '/inputs.png', fullPage: false });

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
