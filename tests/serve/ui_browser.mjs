// Drives cairn serve's web UI in Debian's chromium (headless, through playwright-core) and checks
// it against `cairn search` run beside the server. Run by tests/serve/ui_e2e_test.cc with:
//   CAIRN_UI_URL, CAIRN_API_URL (the management port), CAIRN_USER, CAIRN_PASSWORD, CAIRN_BIN, CAIRN_DATA, CAIRN_SHOTS (screenshots),
//   CHROMIUM (default /usr/bin/chromium).
// Prints "ok ..." per check and "all ok" at the end; exits 1 at the first failure.
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';

const env = process.env;
const url = env.CAIRN_UI_URL;
const shots = env.CAIRN_SHOTS;
function fail(msg) { console.error('FAIL: ' + msg); process.exitCode = 1; throw new Error(msg); }
function check(cond, msg) { if (!cond) fail(msg); console.log('ok ' + msg); }

// The event count `cairn search` finds for an event search.
function expectedCount(search, earliest, latest) {
  const range = [];
  if (earliest) range.push('--earliest', earliest);
  if (latest) range.push('--latest', latest);
  const out = execFileSync(env.CAIRN_BIN, ['search', '--data', env.CAIRN_DATA, '--format', 'json',
    ...range, search + ' | stats count'], { encoding: 'utf8' });
  return Number(JSON.parse(out.trim().split('\n')[0]).count);
}

// The rows `cairn search` gives for a transforming search (one JSON object a line).
function expectedRows(search, earliest, latest) {
  const range = [];
  if (earliest) range.push('--earliest', earliest);
  if (latest) range.push('--latest', latest);
  const out = execFileSync(env.CAIRN_BIN, ['search', '--data', env.CAIRN_DATA, '--format', 'json',
    ...range, search], { encoding: 'utf8' });
  return out.trim().split('\n').filter((l) => l).map((l) => JSON.parse(l));
}

// ECharts (src/serve/ui/charts.js) draws into an SVG: a series' bars, slices and lines are its
// <path>s in the series' colour (the first of the palette is the timeline's and a single series').
const PALETTE = ['#1a73c9', '#5cc05c', '#f0a030', '#c0392b', '#8e44ad', '#16a085', '#d35400',
  '#2c3e50', '#e84393', '#7f8c8d', '#27ae60'];
// What is drawn in the chart under `sel`: filled shapes (bars, slices; with their size), lines
// (stroked, unfilled paths) and texts, each shape with its colour.
const drawn = (sel) => page.$eval(sel, (box, palette) => {
  const svg = box.querySelector('svg');
  const paths = [...svg.querySelectorAll('path')];
  const size = (p) => {
    const b = p.getBBox(), r = p.getBoundingClientRect();
    return { w: b.width, h: b.height, x: r.x + r.width / 2, y: r.y + r.height / 2 };
  };
  return {
    shapes: paths.filter((p) => palette.includes(p.getAttribute('fill')))
      .map((p) => ({ fill: p.getAttribute('fill'), stroke: p.getAttribute('stroke'), ...size(p) })),
    lines: paths.filter((p) => p.getAttribute('fill') === 'none' && palette.includes(p.getAttribute('stroke')))
      .map((p) => p.getAttribute('stroke')),
    texts: [...svg.querySelectorAll('text')].map((t) => t.textContent),
  };
}, PALETTE);

const browser = await chromium.launch({ executablePath: env.CHROMIUM || '/usr/bin/chromium',
  headless: true, args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
// Console errors, but for the load of a resource the server refused: those are checked below
// by response, so that the one expected refusal (the wrong password) is told apart.
page.on('console', (m) => {
  if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
    const at = m.location();
    errors.push(`${m.text()} (${at.url}:${at.lineNumber}:${at.columnNumber})`);
    console.log('console error: ' + errors[errors.length - 1]);
  }
});
const expectedRefusals = new Set([`401 ${url}/login`]);  // the wrong password
page.on('response', (r) => {
  const what = `${r.status()} ${r.url()}`;
  if (r.status() >= 400 && !expectedRefusals.has(what)) errors.push(what);
});
page.setDefaultTimeout(60000);
// Every refusal by the pages' Content-Security-Policy (an inline style ECharts or CodeMirror might
// write, say), kept per page for the checks after the charts.
await page.addInitScript(() => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) =>
    window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
});
const cspViolations = () => page.evaluate(() => window.__csp);

// The search in the SPL editor (CodeMirror's content element, one line per .cm-line).
const splText = () => page.$$eval('#spl .cm-line', (ls) => ls.map((l) => l.textContent).join('\n'));

// Runs `search` over all time from the search bar and waits for the job to finish.
async function runSearch(search) {
  await page.fill('#spl', search);
  await page.selectOption('#time-preset', { label: 'All time' });
  await page.click('#run');
  return waitDone(search);
}
async function waitDone(search) {
  await page.waitForFunction((q) => {
    const s = document.querySelector('#job-status');
    return s && s.dataset.done === '1' && s.dataset.q === q;
  }, search);
  return Number(await page.getAttribute('#job-status', 'data-count'));
}

try {
  // Login: the app redirects there; a wrong password is refused.
  await page.goto(url + '/search');
  check(page.url().endsWith('/login'), 'no session: /search redirects to /login');
  await page.screenshot({ path: shots + '/login.png' });
  await page.fill('#username', env.CAIRN_USER);
  await page.fill('#password', 'not-the-password');
  await page.click('#login-button');
  check((await page.textContent('.error')).includes('Login failed'), 'wrong password refused');
  await page.fill('#username', env.CAIRN_USER);
  await page.fill('#password', env.CAIRN_PASSWORD);
  await Promise.all([page.waitForURL(url + '/search'), page.click('#login-button')]);
  check((await page.textContent('#user')) === env.CAIRN_USER, 'logged in');

  // A search: its count equals cairn search's; events, timeline and fields show.
  const base = 'eventSource=iam.amazonaws.com';
  const n = await runSearch(base);
  check(n === expectedCount(base) && n > 0, `event count ${n} equals cairn search's`);
  await page.waitForSelector('.event pre');
  check((await page.$$('.event')).length === Math.min(20, n), 'first page of events shown');
  const firstRaw = await page.textContent('.event pre');
  check(firstRaw.startsWith('{\n  "'), 'raw JSON pretty-printed');
  // The timeline: one bar per bucket of `timechart count`, as tall as its count.
  await page.waitForSelector('#timeline-chart svg path', { state: 'attached' });
  const buckets = expectedRows(base + ' | timechart count').map((r) => Number(r.count));
  const bars = (await drawn('#timeline-chart')).shapes;
  check(buckets.length > 1 && bars.length === buckets.length,
    `timeline: ${bars.length} bars for the ${buckets.length} buckets cairn search counts`);
  const peak = buckets.indexOf(Math.max(...buckets));
  check(bars.every((b, i) => Math.abs(b.h / bars[peak].h - buckets[i] / buckets[peak]) < 0.02),
  'timeline: every bar as tall as its bucket\'s count');
  await page.waitForSelector('.field-name[data-field="eventName"]');
  await page.screenshot({ path: shots + '/search.png', fullPage: false });

  // Narrow by a field value from the sidebar.
  await page.click('.field-name[data-field="eventName"]');
  const value = await page.getAttribute('a.value[data-field="eventName"]', 'data-value');
  const topCount = Number(await page.textContent('a.value[data-field="eventName"] + span'));
  await page.click('a.value[data-field="eventName"]');
  const narrowed = base + ' eventName="' + value + '"';
  const m = await waitDone(narrowed);
  check((await splText()) === narrowed, `search became: ${narrowed}`);
  check(m === expectedCount(narrowed) && m < n && m > 0, `narrowed count ${m} equals cairn search's`);
  check(topCount === m, `the sidebar's count ${topCount} for the value equals the narrowed count`);
  await page.waitForSelector('.event pre mark');
  await page.screenshot({ path: shots + '/narrowed.png' });

  // The SPL editor: typing highlights the command, functions, fields and strings; `| sta` offers
  // `stats`, which Enter accepts; Enter (with no completion open) runs the search.
  await page.selectOption('#time-preset', { label: 'All time' });
  await page.click('#spl');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type('eventSource="iam.amazonaws.com" | sta', { delay: 15 });
  const option = page.locator('.cm-tooltip-autocomplete li', { hasText: /^stats/ });
  await option.first().waitFor();
  const offered = await page.$$eval('.cm-tooltip-autocomplete li .cm-completionLabel', (ls) => ls.map((l) => l.textContent));
  check(offered.includes('stats') && offered.every((o) => !o.startsWith('eventS')), `completion offers commands: ${offered.join(', ')}`);
  check(offered[0] === 'stats' || await page.$eval('.cm-tooltip-autocomplete li[aria-selected]', (li) => li.textContent.startsWith('stats')), 'stats selected');
  await page.waitForTimeout(200);  // CodeMirror ignores Enter for 75 ms after the list opens
  await page.keyboard.press('Enter');
  check((await splText()) === 'eventSource="iam.amazonaws.com" | stats', 'Enter accepted the completion: ' + await splText());
  await page.keyboard.type(' dc(eventN', { delay: 15 });
  await page.locator('.cm-tooltip-autocomplete li', { hasText: /^eventName/ }).first().waitFor();
  check(true, 'field names offered inside an aggregation');
  await page.screenshot({ path: shots + '/editor.png', clip: { x: 0, y: 0, width: 1400, height: 300 } });
  await page.keyboard.type('ame) by awsRegion', { delay: 15 });
  await page.keyboard.press('Escape');
  const cls = (c) => page.$$eval('#spl .' + c, (ss) => ss.map((x) => x.textContent));
  check((await cls('spl-command')).join() === 'stats', 'the command highlighted: ' + (await cls('spl-command')));
  check((await cls('spl-function')).join() === 'dc', 'the function highlighted: ' + (await cls('spl-function')));
  check((await cls('spl-field')).includes('eventSource'), 'the field highlighted: ' + (await cls('spl-field')));
  check((await cls('spl-string')).join() === '"iam.amazonaws.com"', 'the string highlighted');
  check((await cls('spl-keyword')).join() === 'by', 'the keyword highlighted');
  check((await cls('spl-pipe')).length === 1, 'the pipe highlighted');
  const typedSearch = 'eventSource="iam.amazonaws.com" | stats dc(eventName) by awsRegion';
  check((await splText()) === typedSearch, 'the typed search: ' + await splText());
  await page.keyboard.press('Enter');
  const dcRows = await waitDone(typedSearch);
  check(dcRows > 0, `Enter ran the typed search: ${dcRows} rows`);
  // An unknown command is marked; a macro and a comment are told apart.
  await page.fill('#spl', '`cloudtrail` ```note``` | nosuchcommand x');
  await page.waitForSelector('#spl .spl-unknown-command');
  check((await cls('spl-macro')).join() === '`cloudtrail`' && (await cls('spl-comment')).join() === '```note```',
    'macro and comment highlighted');
  // History… puts a search run before back into the editor.
  await page.selectOption('#history', typedSearch);
  check((await splText()) === typedSearch, 'History… set the editor to the search run before');

  // A search the engine refuses: its message shows, as text.
  expectedRefusals.add(`400 ${url}/api/jobs`);
  await page.fill('#spl', '| nosuchcommand <b>x</b>');
  await page.click('#run');
  await page.waitForSelector('#messages .msg');
  expectedRefusals.delete(`400 ${url}/api/jobs`);
  const msg = await page.textContent('#messages .msg');
  check(msg.length > 0 && (await page.$$('#messages b')).length === 0, `a bad search shows its error: ${msg}`);

  // The event whose fields hold markup shows it as text and runs nothing.
  const x = await runSearch('eventName=XssProbe');
  check(x === 1, 'the markup event is found');
  await page.waitForSelector('.event pre');
  const xraw = await page.textContent('.event pre');
  check(xraw.includes('<script>window.__xss=1</script>'), 'markup shown as text in the event');
  await page.click('.field-name[data-field="userAgent"]');
  const ua = await page.getAttribute('a.value[data-field="userAgent"]', 'data-value');
  check(ua === '<script>window.__xss=1</script>', 'markup shown as text in the sidebar');
  check(await page.evaluate(() => window.__xss === undefined), 'no injected script ran');
  await page.evaluate(() => window.scrollTo(0, 0));
  check((await page.$$('#view script, #view img')).length === 0, 'no element made from event data');
  await page.screenshot({ path: shots + '/xss.png' });

  // A timechart: statistics and a chart.
  const tc = 'eventSource=iam.amazonaws.com | timechart count by eventName limit=5';
  await runSearch(tc);
  await page.waitForSelector('#chart .echart[data-type="line"] svg path', { state: 'attached' });
  const tcDrawn = await drawn('#chart .echart');
  await page.screenshot({ path: shots + '/timechart.png' });
  await page.click('#tab-stats');
  const rows = (await page.$$('#pane-stats table.stats tbody tr')).length;
  check(rows === Number(await page.getAttribute('#job-status', 'data-count')), `statistics table of ${rows} rows`);
  const tcSeries = (await page.$$eval('#pane-stats table.stats th', (ths) => ths.map((t) => t.textContent)))
    .filter((f) => !f.startsWith('_'));
  check(tcSeries.length >= 2 && new Set(tcDrawn.lines).size === tcSeries.length &&
    tcSeries.every((f) => tcDrawn.texts.includes(f)),
  `timechart drawn as ${tcDrawn.lines.length} lines named in its legend: ${tcSeries.join(', ')}`);
  const st = 'eventSource=iam.amazonaws.com | stats count by eventName | sort - count | head 8';
  await runSearch(st);
  await page.click('#tab-viz');
  await page.waitForSelector('#chart .echart[data-type="column"] svg path', { state: 'attached' });
  const stRows = await page.$$eval('#pane-stats table.stats tbody tr',
    (trs) => trs.map((tr) => [tr.children[0].textContent, Number(tr.children[1].textContent)]));
  const cols = (await drawn('#chart .echart')).shapes;
  check(stRows.length === 8 && cols.length === 8 && cols.every((c, i) =>
    c.h > c.w / 4 && Math.abs(c.h / cols[0].h - stRows[i][1] / stRows[0][1]) < 0.02),
  'stats drawn as 8 columns as tall as their counts');
  await page.screenshot({ path: shots + '/columns.png' });
  await page.selectOption('#chart-type', 'bar');
  await page.waitForSelector('#chart .echart[data-type="bar"] svg path', { state: 'attached' });
  const hbars = (await drawn('#chart .echart')).shapes;
  check(hbars.length === 8 && hbars.every((c, i) =>
    Math.abs(c.w / hbars[0].w - stRows[i][1] / stRows[0][1]) < 0.02),
  'stats drawn as 8 horizontal bars as long as their counts');
  await page.screenshot({ path: shots + '/bar.png' });

  // Export CSV of the last job: a header and one line per result.
  const csvHref = await page.getAttribute('#export-csv', 'href');
  const csv = await (await page.request.get(url + csvHref)).text();
  const csvLines = csv.trim().split('\n');
  check(csvLines.length === 9 && /eventName/.test(csvLines[0]) && /count/.test(csvLines[0]), 'CSV export');
  // ...and JSON: the same rows, its fields after them (the export streams).
  const jsonHref = await page.getAttribute('#export-json', 'href');
  const jsonResp = await page.request.get(url + jsonHref);
  const exported = JSON.parse(await jsonResp.text());
  check(exported.results.length === 8 && exported.fields.map((f) => f.name).join(',') === 'eventName,count' &&
    exported.results.every((r, i) => r.eventName === stRows[i][0] && Number(r.count) === stRows[i][1]) &&
    jsonResp.headers()['transfer-encoding'] === 'chunked', 'JSON export, chunked, equal to the statistics table');

  // A pie of the same results.
  await page.selectOption('#chart-type', 'pie');
  await page.waitForSelector('#chart .echart[data-type="pie"] svg path', { state: 'attached' });
  const pie = await drawn('#chart .echart');
  check(pie.shapes.length === 8 && new Set(pie.shapes.map((p) => p.fill)).size === 8 &&
    stRows.every(([name, c]) => pie.texts.includes(`${name} (${c.toLocaleString('en-US')})`)),
  'stats drawn as a pie of 8 slices, each labelled with its name and count');
  await page.screenshot({ path: shots + '/pie.png' });
  // Hovering a slice shows ECharts' tooltip (rich text in the SVG, not HTML with style attributes).
  const slice = await page.$('#chart .echart svg path[fill="#1a73c9"]');
  await slice.hover();
  await page.waitForFunction(() => [...document.querySelectorAll('#chart .echart svg text')]
    .some((t) => /\(\d+(\.\d+)?%\)$/.test(t.textContent)));
  check((await cspViolations()).length === 0, 'charts and tooltips drawn with no CSP violation: ' +
    (await cspViolations()).join('; '));

  // Drag across the middle of the timeline: the time range narrows to those buckets, and the count
  // equals cairn search's over the same range.
  await runSearch(base);
  await page.waitForSelector('#timeline-chart svg path', { state: 'attached' });
  const box = await (await page.$('#timeline-chart')).boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => document.querySelector('#time-preset').value === 'custom' &&
    document.querySelector('#job-status').dataset.done === '1');
  const zoomE = await page.inputValue('#earliest'), zoomL = await page.inputValue('#latest');
  const z = Number(await page.getAttribute('#job-status', 'data-count'));
  check(/^\d+$/.test(zoomE) && /^\d+$/.test(zoomL) && Number(zoomE) < Number(zoomL), `drag zoomed to ${zoomE}..${zoomL}`);
  check(z === expectedCount(base, zoomE, zoomL) && z < n && z > 0, `zoomed count ${z} equals cairn search's`);
  await page.screenshot({ path: shots + '/zoomed.png' });

  // A click on a bar of the timeline narrows the range to its bucket: the tallest bucket of the
  // zoomed range, whose count the click's count equals.
  await page.waitForSelector('#timeline-chart svg path', { state: 'attached' });
  const zoomBuckets = expectedRows(base + ' | timechart count', zoomE, zoomL);
  const zoomBars = (await drawn('#timeline-chart')).shapes;
  check(zoomBars.length === zoomBuckets.length, `zoomed timeline: ${zoomBars.length} bars for ${zoomBuckets.length} buckets`);
  const top = zoomBuckets.reduce((a, r, i) => (Number(r.count) > Number(zoomBuckets[a].count) ? i : a), 0);
  await page.mouse.click(zoomBars[top].x, zoomBars[top].y);
  await page.waitForFunction((e) => document.querySelector('#earliest').value !== e &&
    document.querySelector('#job-status').dataset.done === '1', zoomE);
  const clickE = Number(await page.inputValue('#earliest')), clickL = Number(await page.inputValue('#latest'));
  const bucketStart = Date.parse(zoomBuckets[top]._time) / 1000;
  const bucketSpan = Date.parse(zoomBuckets[1]._time) / 1000 - Date.parse(zoomBuckets[0]._time) / 1000;
  const clicked = Number(await page.getAttribute('#job-status', 'data-count'));
  check(clickE === bucketStart && clickL === bucketStart + bucketSpan &&
    clicked === Number(zoomBuckets[top].count) && clicked === expectedCount(base, String(clickE), String(clickL)),
  `click narrowed to the bucket ${clickE}..${clickL} of ${clicked} events`);

  // Save a search, find it in the list, run it from there.
  await runSearch(narrowed);
  await page.click('#save');
  await page.fill('#save-name', 'IAM <b>activity</b>');
  await page.fill('#save-description', 'top IAM call');
  await page.click('#save-submit');
  await page.waitForFunction(() => document.querySelector('#save-result').textContent === 'Saved.');
  await page.goto(url + '/saved');
  const row = page.locator('tr[data-name="IAM <b>activity</b>"]');
  await row.waitFor();
  check((await row.locator('code').textContent()) === narrowed, 'saved search listed with its search');
  await page.screenshot({ path: shots + '/saved.png' });
  await row.locator('a.saved-run').click();
  await page.waitForURL(/\/search\?/);
  check((await waitDone(narrowed)) === m, 'saved search reopened and run');

  // The overview's panels are saved searches: the built-in ones are listed (not deletable); one
  // saved under a panel's name replaces that panel, one named "AWS overview: ..." adds a panel;
  // saved from the Visualization tab, it keeps the chart shown there.
  const replaced = 'index=* | top limit=3 eventName';
  for (const [name, q, chart] of [['AWS overview: Top event names', replaced, ''],
    ['AWS overview: IAM callers', 'eventSource=iam.amazonaws.com | stats count by userIdentity.arn', 'pie']]) {
    await page.goto(url + '/search');
    await runSearch(q);
    if (chart) {
      await page.click('#tab-viz');
      await page.selectOption('#chart-type', chart);
    }
    await page.click('#save');
    await page.fill('#save-name', name);
    await page.fill('#save-description', '');
    await page.click('#save-submit');
    await page.waitForFunction(() => document.querySelector('#save-result').textContent === 'Saved.');
  }
  const saved = await (await page.request.get(url + '/api/saved')).json();
  const builtins = saved.saved.filter((s) => s.builtin);
  const callers = saved.saved.find((s) => s.name === 'AWS overview: IAM callers');
  check(callers && callers.visualization === 'pie' &&
    saved.saved.find((s) => s.name === 'AWS overview: Top event names').visualization === '',
    'a search saved from the Visualization tab keeps its chart, one saved from the events does not');
  check(builtins.length >= 10 && builtins.every((s) => s.name.startsWith('AWS overview: ')) &&
    !builtins.some((s) => s.name === 'AWS overview: Top event names'), `${builtins.length} built-in panels listed as saved searches`);
  await page.goto(url + '/saved');
  await page.waitForSelector('tr[data-name="AWS overview: Events per hour"] .builtin');
  check((await page.$$('tr[data-name="AWS overview: Events per hour"] button')).length === 0, 'a built-in saved search has no Delete button');

  // The AWS overview: every panel finishes.
  await page.goto(url + '/aws?earliest=&latest=');
  await page.waitForFunction(() => document.querySelectorAll('#aws-panels .panel').length > 0 &&
    ![...document.querySelectorAll('#aws-panels .panel-body')].some((b) => b.textContent === 'Running…'), null, { timeout: 120000 });
  const broken = await page.$$eval('#aws-panels .msg', (ms) => ms.map((e) => e.textContent));
  check(broken.length === 0, 'AWS overview panels ran: ' + broken.join('; '));
  check((await page.$$('#aws-panels .echart svg path')).length >= 3, 'AWS overview charts drawn');
  const panelNames = await page.$$eval('#aws-panels .panel', (ps) => ps.map((p) => p.dataset.name));
  check(panelNames.length === builtins.length + 2 && panelNames.includes('AWS overview: IAM callers'),
    `overview: ${panelNames.length} panels, the added saved search among them`);
  const topHref = await page.getAttribute('#aws-panels .panel[data-name="AWS overview: Top event names"] h3 a', 'href');
  check(new URLSearchParams(topHref.split('?')[1]).get('q') === replaced, 'a saved search replaced its panel');
  check((await page.$$('#aws-panels .panel[data-name="AWS overview: Top event names"] .echart[data-type="column"] svg')).length === 1,
    'the replaced panel keeps the built-in one\'s chart');
  check((await page.$$('#aws-panels .panel[data-name="AWS overview: IAM callers"] .echart[data-type="pie"] svg')).length === 1,
    'the added panel is drawn as the chart it was saved with');
  check((await cspViolations()).length === 0, 'AWS overview drawn with no CSP violation: ' +
    (await cspViolations()).join('; '));
  await page.screenshot({ path: shots + '/aws.png', fullPage: true });

  // The status page lists the store's index with its event count.
  await page.goto(url + '/status');
  await page.waitForSelector('#status-indexes table.stats tbody tr');
  const idx = await page.$$eval('#status-indexes tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  // Internal indexes (_audit: this session's logins and searches) are not in index=*.
  const total = idx.filter((r) => !r[0].startsWith('_')).reduce((a, r) => a + Number(r[1]), 0);
  check(total === expectedCount('index=*'), `status page: ${idx.length} index(es), ${total} events`);
  check(idx.some((r) => r[0] === '_audit' && Number(r[1]) > 0), 'status page: the _audit index holds records');
  check(await page.$('#status-collectors') !== null, 'status page: a collectors panel');
  check(await page.$('#status-errors') !== null, 'status page: a recent errors panel');
  await page.screenshot({ path: shots + '/status.png' });

  // The CIS report: from the top bar, then over all time; fifteen controls, each counted as
  // `cairn search` counts its search, and no script on the page.
  await Promise.all([page.waitForURL(url + '/reports/cis'), page.click('#nav-cis')]);
  await page.goto(url + '/reports/cis?earliest=0');
  const cis = await page.$$eval('table.sum tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  check(cis.length === 15, `CIS report: ${cis.length} controls`);
  const c45 = cis.find((r) => r[0] === '4.5');
  check(c45 && Number(c45[2]) === expectedCount('`cloudtrail` eventName IN (CreateTrail, UpdateTrail, DeleteTrail, StartLogging, StopLogging)'),
    'CIS 4.5 counts what cairn search counts: ' + (c45 && c45[2]));
  check((await page.$$('script')).length === 0, 'CIS report has no script');
  check((await page.$$('section svg.chart')).length >= 1, 'charts drawn');
  await page.screenshot({ path: shots + '/cis.png', fullPage: false });

  // Users and API tokens (the test's user is an admin): add a user, give it a token (shown once),
  // which authenticates on the management port's search API until it is revoked; remove the user.
  await page.goto(url + '/users');
  check(!(await page.isHidden('#nav-users')), 'Users link shown to an admin');
  await page.waitForSelector('#users-table tbody tr');
  await page.fill('#new-user-name', 'dana');
  await page.fill('#new-user-password', 'dana-password-1');
  await page.selectOption('#new-user-role', 'user');
  await page.click('#new-user button[type=submit]');
  await page.waitForSelector('#users-table tr[data-name="dana"]');
  check((await page.textContent('#users-table tr[data-name="dana"] .user-role')) === 'user', 'user dana added as user');
  await page.click('#users-table tr[data-name="dana"] .new-token');
  await page.waitForSelector('#new-token');
  const token = (await page.textContent('#new-token')).trim();
  check(/^[0-9a-f]{64}$/.test(token), 'a new API token is shown once');
  await page.waitForSelector('#tokens-table tbody tr');
  const tokenId = await page.getAttribute('#tokens-table tbody tr', 'data-id');
  const info = await fetch(env.CAIRN_API_URL + '/services/server/info', { headers: { Authorization: 'Bearer ' + token } });
  check(info.status === 200, 'the token authenticates on the management port');
  await page.screenshot({ path: shots + '/users.png', fullPage: false });
  await page.click(`#tokens-table tr[data-id="${tokenId}"] .revoke`);
  await page.waitForFunction((id) => !document.querySelector(`#tokens-table tr[data-id="${id}"]`), tokenId);
  const revoked = await fetch(env.CAIRN_API_URL + '/services/server/info', { headers: { Authorization: 'Bearer ' + token } });
  check(revoked.status === 401, 'a revoked token is refused');
  page.once('dialog', (d) => d.accept());
  await page.click('#users-table tr[data-name="dana"] .delete-user');
  await page.waitForFunction(() => !document.querySelector('#users-table tr[data-name="dana"]'));
  check(true, 'user dana removed');
  await page.goto(url + '/search');

  // Logout ends the session.
  await Promise.all([page.waitForURL(url + '/login'), page.click('#logout-form button')]);
  const me = await page.request.get(url + '/api/me');
  check(me.status() === 401, 'after logout the cookie is refused');
  check(errors.length === 0, 'no script errors: ' + errors.join('; '));
  console.log('all ok');
} catch (e) {
  console.error(String(e && e.stack || e));
  await page.screenshot({ path: shots + '/failure.png' }).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}
