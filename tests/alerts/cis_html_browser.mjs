// Opens the CIS report's HTML page (CAIRN_REPORT, a file) in Debian's chromium (headless, through
// playwright-core) with every network request refused, checks what it shows and saves a
// full-page screenshot (CAIRN_SHOT). Run by tests/alerts/cis_html_test.cc. Prints "ok ..." per
// check and "all ok" at the end; exits 1 at the first failure.
import { chromium } from 'playwright-core';

const env = process.env;
function fail(msg) { console.error('FAIL: ' + msg); process.exitCode = 1; throw new Error(msg); }
function check(cond, msg) { if (!cond) fail(msg); console.log('ok ' + msg); }

const browser = await chromium.launch({ executablePath: env.CHROMIUM || '/usr/bin/chromium',
  headless: true, args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
const errors = [];
const fetched = [];
page.on('pageerror', (e) => errors.push(String(e)));
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
await page.route('**/*', (route) => {
  const u = route.request().url();
  if (u.startsWith('file:')) return route.continue();
  fetched.push(u);
  return route.abort();
});
try {
  await page.goto('file://' + env.CAIRN_REPORT);
  check(fetched.length === 0, 'nothing fetched beyond the file: ' + fetched.join(' '));
  check(await page.title() === 'CIS AWS Foundations monitoring report', 'title');
  const rows = await page.$$eval('table.sum tbody tr', (trs) => trs.map((tr) =>
    [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  check(rows.length === 15, `15 controls in the summary (${rows.length})`);
  const r45 = rows.find((r) => r[0] === '4.5');
  check(r45 && r45[3] === 'FAIL' && Number(r45[2]) >= 2, `4.5 fails with its events: ${r45}`);
  check(await page.locator('section svg.chart').count() === 15, 'a chart per control');
  const bars = await page.locator('#c4\\.5 svg rect.bar').count();
  check(bars >= 1, `4.5's chart has bars (${bars})`);
  const box = await page.locator('#c4\\.5 svg.chart').boundingBox();
  check(box && box.width > 300 && box.height > 50, 'the chart is drawn at its size');
  check(await page.locator('script').count() === 0, 'no script element');
  check(await page.evaluate(() => window.__xss === undefined), 'the markup in a value did not run');
  const text = await page.locator('#c4\\.5').textContent();
  check(text.includes('<img src=x onerror=window.__xss=2>'), 'the markup is shown as text');
  check(errors.length === 0, 'no page errors: ' + errors.join(' | '));
  await page.screenshot({ path: env.CAIRN_SHOT, fullPage: true });
  console.log('all ok');
} finally {
  await browser.close();
}
