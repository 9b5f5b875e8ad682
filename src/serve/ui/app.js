// cairn's web UI: the search page, saved searches and the AWS overview. Plain DOM code, no
// framework; the search box is the SPL editor of editor.js (CodeMirror 6), and esbuild bundles
// both into the file cairn embeds (docs/ui.md); charts.js draws the timeline and charts
// (ECharts), inputs.js the admins' inputs page. Every value from the server is put into the page
// as text (textContent, attribute setters), never as HTML, so an event holding markup shows as
// that markup's text.

import { createSplEditor } from './editor.js';
import { drawChart, drawTimeline } from './charts.js';
import { inputsPage } from './inputs.js';

const TIME_PRESETS = [
  ['Last 15 minutes', '-15m', ''], ['Last 60 minutes', '-60m', ''], ['Last 4 hours', '-4h', ''],
  ['Last 24 hours', '-24h', ''], ['Last 7 days', '-7d', ''], ['Last 30 days', '-30d', ''],
  ['Today', '@d', ''], ['All time', '', ''],
];
const PAGE_SIZE = 20;
let csrf = '';

// ---- DOM helpers ---------------------------------------------------------------------------
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
const fmtInt = (n) => Number(n).toLocaleString('en-US');

// ---- API -----------------------------------------------------------------------------------
async function api(path, form) {
  const opts = { credentials: 'same-origin', headers: {} };
  if (form) {
    opts.method = 'POST';
    opts.headers['X-CSRF-Token'] = csrf;
    opts.body = new URLSearchParams(form);
  }
  const r = await fetch(path, opts);
  if (r.status === 401) { location.href = '/login'; throw new Error('Login required'); }
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || ('HTTP ' + r.status));
  return body;
}

// Runs a search to completion; onStatus sees each polled status. Returns the final status.
async function runJob(search, earliest, latest, onStatus, job) {
  const { sid } = await api('/api/jobs', { search, earliest_time: earliest, latest_time: latest });
  if (job) job.sid = sid;
  for (let wait = 100; ; wait = Math.min(wait * 1.5, 1000)) {
    const s = await api('/api/jobs/' + encodeURIComponent(sid));
    if (onStatus) onStatus(s);
    if (s.isDone) return s;
    await new Promise((ok) => setTimeout(ok, wait));
  }
}
const results = (sid, offset, count) =>
  api(`/api/jobs/${encodeURIComponent(sid)}/results?offset=${offset}&count=${count}`);

function cell(row, f) {
  const v = row[f];
  if (v === undefined || v === null) return '';
  return Array.isArray(v) ? v.join('\n') : String(v);
}
const isNum = (s) => s !== '' && !isNaN(Number(s));
function fmtTime(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  return d.toISOString().replace('T', ' ').replace(/\.000Z$|Z$/, '');
}
// A field="value" term for the search, quoted as SPL wants.
function fieldTerm(field, value) {
  const q = (s) => '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
  const f = /^[A-Za-z0-9_.{}@-]+$/.test(field) ? field : "'" + field + "'";
  return f + '=' + q(value);
}

// ---- time picker ---------------------------------------------------------------------------
function timePicker(earliest, latest, onChange) {
  const sel = el('select', { id: 'time-preset' });
  for (const [label, e, l] of TIME_PRESETS) sel.append(el('option', { value: e + '|' + l }, label));
  sel.append(el('option', { value: 'custom' }, 'Custom'));
  const ein = el('input', { id: 'earliest', placeholder: 'earliest (e.g. -24h, @d, 2024-01-01T00:00:00)' });
  const lin = el('input', { id: 'latest', placeholder: 'latest (now)' });
  const set = (e, l) => {
    ein.value = e; lin.value = l;
    const match = TIME_PRESETS.find(([, pe, pl]) => pe === e && pl === l);
    sel.value = match ? e + '|' + l : 'custom';
  };
  sel.addEventListener('change', () => {
    if (sel.value !== 'custom') {
      const [e, l] = sel.value.split('|');
      ein.value = e; lin.value = l;
      if (onChange) onChange();
    }
  });
  for (const i of [ein, lin]) i.addEventListener('input', () => { sel.value = 'custom'; });
  set(earliest, latest);
  const node = el('div', { class: 'timebar' }, sel, el('label', {}, 'Earliest', ein),
    el('label', {}, 'Latest', lin));
  return { node, get: () => [ein.value.trim(), lin.value.trim()], set };
}

function statsTable(fields, rows) {
  const shown = fields.filter((f) => f !== '_raw' || fields.length === 1);
  const t = el('table', { class: 'stats' });
  t.append(el('thead', {}, el('tr', {}, ...shown.map((f) => el('th', {}, f)))));
  const body = el('tbody');
  for (const r of rows) {
    body.append(el('tr', {}, ...shown.map((f) => {
      const v = f === '_time' ? fmtTime(cell(r, f)) : cell(r, f);
      return el('td', { class: isNum(v) ? 'num' : '' }, v);
    })));
  }
  t.append(body);
  return t;
}

// ---- the search page ----------------------------------------------------------------------
// The last 20 searches run in this browser (localStorage; never sent anywhere).
function loadHistory() {
  try { return JSON.parse(localStorage.getItem('cairn.history') || '[]').filter((h) => typeof h === 'string'); } catch { return []; }
}
function saveHistory(q) {
  const list = [q, ...loadHistory().filter((h) => h !== q)].slice(0, 20);
  try { localStorage.setItem('cairn.history', JSON.stringify(list)); } catch { /* private mode */ }
}
function searchTerms(q) {
  const out = [];
  for (const m of q.split('|')[0].matchAll(/(?:[\w.{}]+=)?"((?:[^"\\]|\\.)*)"|(?:[\w.{}]+=)?([^\s=()"]+)/g)) {
    const t = (m[1] !== undefined ? m[1] : m[2] || '').replace(/\*/g, '');
    if (t.length >= 3 && !/^(search|AND|OR|NOT|index|sourcetype)$/i.test(t)) out.push(t);
  }
  return out;
}
function highlighted(text, terms) {
  const pre = el('pre');
  if (!terms.length) { pre.textContent = text; return pre; }
  const re = new RegExp(terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gi');
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m[0] === '') break;
    pre.append(document.createTextNode(text.slice(last, m.index)), el('mark', {}, m[0]));
    last = m.index + m[0].length;
  }
  pre.append(document.createTextNode(text.slice(last)));
  return pre;
}
function prettyRaw(raw) {
  try { return JSON.stringify(JSON.parse(raw), null, 2); } catch { return raw; }
}

function searchPage(view) {
  const params = new URLSearchParams(location.search);
  // The SPL editor (editor.js): `spl.value` reads and sets the search like a textarea's; Enter runs.
  const spl = createSplEditor({ value: params.get('q') || '', onRun: () => run(),
    placeholder: 'Enter a search, e.g. eventName=ConsoleLogin | stats count by awsRegion' });
  const picker = timePicker(params.has('earliest') ? params.get('earliest') : '-24h',
    params.get('latest') || '');
  const runBtn = el('button', { class: 'primary', id: 'run', type: 'submit' }, 'Search');
  const cancelBtn = el('button', { id: 'cancel', type: 'button', disabled: true }, 'Cancel');
  const historySel = el('select', { id: 'history', title: 'Searches run in this browser' });
  const fillHistory = () => {
    historySel.replaceChildren(el('option', { value: '' }, 'History…'));
    for (const h of loadHistory()) historySel.append(el('option', { value: h }, h.length > 80 ? h.slice(0, 79) + '…' : h));
  };
  fillHistory();
  historySel.addEventListener('change', () => { if (historySel.value) { spl.value = historySel.value; historySel.value = ''; spl.focus(); } });
  picker.node.append(historySel);
  const form = el('form', { id: 'search-form' }, el('div', { class: 'searchbar' }, spl.dom, runBtn, cancelBtn), picker.node);
  const bar = el('div', { class: 'progress' }, el('div'));
  const statusText = el('span', { id: 'job-status' });
  const saveBtn = el('button', { id: 'save', type: 'button', disabled: true }, 'Save as…');
  const exportCsv = el('a', { id: 'export-csv', class: 'hidden' }, 'Export CSV');
  const exportJson = el('a', { id: 'export-json', class: 'hidden' }, 'JSON');
  const status = el('div', { class: 'status' }, bar, statusText, el('span', { class: 'spacer' }), saveBtn, exportCsv, exportJson);
  const saveName = el('input', { id: 'save-name', placeholder: 'Name' });
  const saveDesc = el('input', { id: 'save-description', placeholder: 'Description (optional)' });
  const saveForm = el('form', { class: 'save-form hidden', id: 'save-form' }, saveName, saveDesc,
    el('button', { class: 'primary', type: 'submit', id: 'save-submit' }, 'Save'), el('span', { id: 'save-result', class: 'muted' }));
  const messages = el('div', { id: 'messages' });
  const tabs = {};
  const tabBar = el('div', { class: 'tabs' });
  const panes = {};
  for (const [key, label] of [['events', 'Events'], ['stats', 'Statistics'], ['viz', 'Visualization']]) {
    tabs[key] = el('button', { type: 'button', id: 'tab-' + key, onclick: () => show(key) }, label);
    panes[key] = el('div', { id: 'pane-' + key, class: 'hidden' });
    tabBar.append(tabs[key]);
  }
  const show = (key) => {
    for (const k of Object.keys(tabs)) {
      tabs[k].classList.toggle('active', k === key);
      panes[k].classList.toggle('hidden', k !== key);
    }
    if (key === 'viz' && panes.viz.redraw) panes.viz.redraw();
  };
  view.replaceChildren(form, status, saveForm, messages, tabBar, panes.events, panes.stats, panes.viz);
  show('events');

  let current = null; // {sid, search, status}
  let generation = 0;

  async function run() {
    const q = spl.value.trim();
    if (!q) return;
    const [earliest, latest] = picker.get();
    const next = new URLSearchParams({ q, earliest, latest });
    history.replaceState(null, '', '/search?' + next.toString());
    const gen = ++generation;
    saveHistory(q);
    fillHistory();
    const job = { sid: null };
    current = null;
    messages.replaceChildren();
    for (const p of Object.values(panes)) p.replaceChildren();
    panes.viz.redraw = null;
    panes.viz.kind = null;
    statusText.textContent = 'Starting…';
    statusText.removeAttribute('data-done');
    bar.firstChild.style.width = '0';
    runBtn.disabled = true; cancelBtn.disabled = false; saveBtn.disabled = true;
    cancelBtn.onclick = async () => {
      if (job.sid) await api(`/api/jobs/${encodeURIComponent(job.sid)}/cancel`, {}).catch(() => {});
      generation++;
      statusText.textContent = 'Cancelled';
      runBtn.disabled = false; cancelBtn.disabled = true;
    };
    let s;
    try {
      s = await runJob(q, earliest, latest, (st) => {
        if (gen !== generation) return;
        bar.firstChild.style.width = Math.round(st.doneProgress * 100) + '%';
        statusText.textContent = `${st.dispatchState} ${Math.round(st.doneProgress * 100)}% — ${fmtInt(st.eventCount)} events, ${fmtInt(st.scanCount)} scanned`;
      }, job);
    } catch (err) {
      if (gen === generation) {
        messages.append(el('div', { class: 'msg' }, err.message));
        statusText.textContent = 'Failed';
        runBtn.disabled = false; cancelBtn.disabled = true;
      }
      return;
    }
    if (gen !== generation) return;
    runBtn.disabled = false; cancelBtn.disabled = true; saveBtn.disabled = false;
    for (const m of s.messages) messages.append(el('div', { class: m.type === 'ERROR' || m.type === 'FATAL' ? 'msg' : 'msg info' }, m.text));
    if (s.isFailed) { statusText.textContent = 'Failed'; return; }
    current = { sid: s.sid, search: q, status: s };
    const count = s.eventsSearch ? s.eventCount : s.resultCount;
    statusText.textContent = s.eventsSearch
      ? `${fmtInt(s.eventCount)} ${s.eventCount === 1 ? 'event' : 'events'} (${fmtInt(s.scanCount)} scanned) in ${s.runDuration.toFixed(2)} s`
      : `${fmtInt(s.resultCount)} results from ${fmtInt(s.eventCount)} events in ${s.runDuration.toFixed(2)} s`;
    statusText.dataset.count = String(count);
    statusText.dataset.q = q;
    statusText.dataset.done = '1';
    const base = `/api/jobs/${encodeURIComponent(s.sid)}/export?output_mode=`;
    exportCsv.href = base + 'csv'; exportJson.href = base + 'json';
    exportCsv.classList.remove('hidden'); exportJson.classList.remove('hidden');
    if (s.eventsSearch) {
      show('events');
      await renderEvents(s, q, gen);
    } else {
      panes.events.replaceChildren(el('p', { class: 'muted' },
        'This search transforms its events: see Statistics and Visualization.'));
      show(/\b(timechart|chart)\b/.test(q) ? 'viz' : 'stats');
      await renderStats(s, gen);
      if (!panes.viz.classList.contains('hidden') && panes.viz.redraw) panes.viz.redraw();
    }
  }

  async function renderEvents(s, q, gen) {
    const fieldsBox = el('aside', { class: 'fields panel', id: 'fields' }, el('h3', {}, 'Fields'));
    const timeline = el('div', { class: 'panel', id: 'timeline' });
    const list = el('div', { id: 'events' });
    const pager = el('div', { class: 'pager' });
    panes.events.replaceChildren(el('div', { class: 'events-layout' }, fieldsBox,
      el('div', {}, timeline, el('div', { class: 'panel', style: null }, list, pager))));
    const terms = searchTerms(q);
    const page = async (offset) => {
      const r = await results(s.sid, offset, PAGE_SIZE);
      if (gen !== generation) return;
      list.replaceChildren();
      for (const row of r.results || []) {
        const raw = cell(row, '_raw');
        list.append(el('div', { class: 'event' }, el('div', { class: 'time' }, fmtTime(cell(row, '_time'))),
          highlighted(prettyRaw(raw), terms)));
      }
      if (!(r.results || []).length) list.append(el('p', { class: 'muted' }, 'No events match.'));
      pager.replaceChildren(
        el('button', { type: 'button', id: 'prev', disabled: offset === 0, onclick: () => page(offset - PAGE_SIZE) }, '‹ Prev'),
        el('span', { class: 'muted' }, s.resultCount ? `${fmtInt(offset + 1)}–${fmtInt(Math.min(offset + PAGE_SIZE, s.resultCount))} of ${fmtInt(s.resultCount)}` : ''),
        el('button', { type: 'button', id: 'next', disabled: offset + PAGE_SIZE >= s.resultCount, onclick: () => page(offset + PAGE_SIZE) }, 'Next ›'));
    };
    await page(0);
    api(`/api/jobs/${encodeURIComponent(s.sid)}/summary`).then((sum) => {
      if (gen !== generation) return;
      fieldsBox.append(el('p', { class: 'muted' }, `from the first ${fmtInt(sum.events)} events`));
      spl.addFields(sum.fields.map((f) => f.name));
      const ordered = [...sum.fields.filter((f) => !f.name.startsWith('date_')),
        ...sum.fields.filter((f) => f.name.startsWith('date_'))];
      for (const f of ordered.slice(0, 100)) {
        const pct = sum.events ? Math.round((100 * f.count) / sum.events) : 0;
        const values = el('ul', { class: 'values hidden' });
        for (const t of f.top) {
          values.append(el('li', {}, el('a', { class: 'value', 'data-field': f.name, 'data-value': t.value, title: t.value,
            onclick: () => { spl.value = spl.value.trim() + ' ' + fieldTerm(f.name, t.value); run(); } }, t.value),
          el('span', { class: 'muted' }, fmtInt(t.count))));
        }
        fieldsBox.append(el('div', { class: 'field' },
          el('a', { class: 'field-name', 'data-field': f.name, onclick: () => values.classList.toggle('hidden') }, f.name),
          el('span', { class: 'cov' }, `${pct}% · ${f.distinct}${f.distinct >= 10 ? '+' : ''}`), values));
      }
    }).catch(() => {});
    if (q.startsWith('|')) return;
    const [earliest, latest] = picker.get();
    try {
      const ts = await runJob(q + ' | timechart count', earliest, latest);
      if (gen !== generation || ts.isFailed) return;
      const r = await results(ts.sid, 0, 10000);
      if (gen !== generation) return;
      drawTimeline(timeline, r.results || [], (e, l) => {
        picker.set(String(e), String(l)); run();
      });
    } catch { /* the timeline is optional */ }
  }

  async function renderStats(s, gen) {
    const r = await results(s.sid, 0, 10000);
    if (gen !== generation) return;
    const fields = (r.fields || []).map((f) => (typeof f === 'string' ? f : f.name));
    const rows = r.results || [];
    panes.stats.replaceChildren(statsTable(fields, rows));
    const typeSel = el('select', { id: 'chart-type' }, ...['auto', 'line', 'bar', 'column', 'pie', 'single'].map((t) => el('option', { value: t }, t)));
    const chartBox = el('div', { id: 'chart' });
    panes.viz.redraw = () => drawChart(chartBox, fields, rows, typeSel.value);
    // What a saved search records as its visualization (a dashboard panel draws it so): the
    // chart shown, as drawChart resolves 'auto'; none for a single value.
    panes.viz.kind = () => (typeSel.value === 'auto' ? (fields[0] === '_time' ? 'line' : 'column')
      : typeSel.value === 'single' ? '' : typeSel.value);
    typeSel.addEventListener('change', panes.viz.redraw);
    panes.viz.replaceChildren(el('div', { class: 'toolbar' }, el('label', {}, 'Chart ', typeSel)), el('div', { class: 'panel' }, chartBox));
  }

  form.addEventListener('submit', (e) => { e.preventDefault(); run(); });
  saveBtn.addEventListener('click', () => { saveForm.classList.toggle('hidden'); saveName.focus(); });
  saveForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const [earliest, latest] = picker.get();
    const out = saveForm.querySelector('#save-result');
    try {
      // Saved from the Visualization tab, it keeps the chart (an overview panel draws it).
      const visualization = !panes.viz.classList.contains('hidden') && panes.viz.kind ? panes.viz.kind() : '';
      await api('/api/saved', { name: saveName.value.trim(), search: spl.value.trim(),
        earliest_time: earliest, latest_time: latest, description: saveDesc.value.trim(), visualization });
      out.textContent = 'Saved.';
    } catch (err) { out.textContent = err.message; }
  });
  if (spl.value) run();
}

// ---- saved searches -----------------------------------------------------------------------
async function savedPage(view) {
  const box = el('div', { class: 'panel', id: 'saved' });
  view.replaceChildren(el('h2', {}, 'Saved searches'), box);
  const render = (list) => {
    if (!list.length) { box.replaceChildren(el('p', { class: 'muted' }, 'No saved searches yet: save one from the search page.')); return; }
    const t = el('table', { class: 'stats', id: 'saved-table' }, el('thead', {}, el('tr', {},
      el('th', {}, 'Name'), el('th', {}, 'Search'), el('th', {}, 'Time range'), el('th', {}, 'Description'), el('th', {}, ''))));
    const tb = el('tbody');
    for (const s of list) {
      const href = '/search?' + new URLSearchParams({ q: s.search, earliest: s.earliest_time, latest: s.latest_time });
      tb.append(el('tr', { 'data-name': s.name },
        el('td', {}, el('a', { href, class: 'saved-run' }, s.name), s.builtin ? el('span', { class: 'muted builtin' }, ' (built in)') : null),
        el('td', {}, el('code', {}, s.search)),
        el('td', {}, (s.earliest_time || 'all time') + (s.latest_time ? ' → ' + s.latest_time : '')),
        el('td', {}, s.description),
        // A built-in one is replaced by saving a search under its name, not deleted.
        el('td', {}, s.builtin ? '' : el('button', { type: 'button', onclick: async () => {
          if (!confirm('Delete saved search ' + s.name + '?')) return;
          render((await api('/api/saved/delete', { name: s.name })).saved);
        } }, 'Delete'))));
    }
    t.append(tb);
    box.replaceChildren(t);
  };
  render((await api('/api/saved')).saved);
}

// ---- AWS overview -------------------------------------------------------------------------
// Its panels are saved searches (/api/overview): built into cairn, each replaced by a saved search
// of the same name, plus any saved search named "AWS overview: ...".
async function awsPage(view) {
  const params = new URLSearchParams(location.search);
  const grid = el('div', { class: 'grid', id: 'aws-panels' });
  const picker = timePicker(params.has('earliest') ? params.get('earliest') : '-7d', params.get('latest') || '', () => load());
  view.replaceChildren(el('h2', {}, 'AWS activity'), el('div', { class: 'toolbar' }, picker.node), grid);
  let gen = 0;
  async function load() {
    const g = ++gen;
    const [earliest, latest] = picker.get();
    grid.replaceChildren();
    const panels = (await api('/api/overview')).panels;
    if (g !== gen) return;
    const boxes = panels.map((p) => {
      const body = el('div', { class: 'panel-body' }, el('p', { class: 'muted' }, 'Running…'));
      const href = '/search?' + new URLSearchParams({ q: p.search, earliest, latest });
      grid.append(el('section', { class: 'panel', 'data-name': p.name, title: p.description || '' },
        el('h3', {}, p.name.replace(/^AWS overview: /, ''), ' ', el('a', { href }, '↗ open')), body));
      return body;
    });
    for (let i = 0; i < panels.length; i++) {
      const { search, visualization: type } = panels[i];
      try {
        const s = await runJob(search, earliest, latest);
        if (g !== gen) return;
        const r = await results(s.sid, 0, 1000);
        const fields = (r.fields || []).map((f) => (typeof f === 'string' ? f : f.name));
        const rows = r.results || [];
        boxes[i].replaceChildren();
        if (!rows.length) boxes[i].append(el('p', { class: 'muted' }, 'No results.'));
        else if (!type) boxes[i].append(statsTable(fields, rows.slice(0, 20)));
        else drawChart(boxes[i], fields.filter((f) => f !== 'percent'), rows, type);
      } catch (err) {
        boxes[i].replaceChildren(el('div', { class: 'msg' }, err.message));
      }
    }
  }
  picker.node.append(el('button', { type: 'button', class: 'primary', onclick: () => load() }, 'Refresh'));
  load();
}

// ---- status -----------------------------------------------------------------------------------
function fmtBytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  for (; n >= 1024 && i < units.length - 1; i++) n /= 1024;
  return (i ? n.toFixed(1) : String(n)) + ' ' + units[i];
}
async function statusPage(view) {
  const st = await api('/api/status');
  const fmtMs = (ms) => (ms ? fmtTime(new Date(ms).toISOString()) : '');
  const fmtLag = (s) => {
    if (s === null || s === undefined) return '';
    if (s < 120) return `${Math.round(s)} s`;
    if (s < 7200) return `${Math.round(s / 60)} min`;
    return `${(s / 3600).toFixed(1)} h`;
  };
  const rows = st.indexes.map((i) => ({ index: i.name, events: String(i.events), segments: String(i.segments),
    size: fmtBytes(i.bytes), earliest: fmtMs(i.min_time_ms), latest: fmtMs(i.max_time_ms), 'broken segments': String(i.broken_segments) }));
  const collectors = (st.collectors || []).map((c) => ({ input: c.name, queue: c.queue, region: c.region, index: c.index,
    state: c.state, 'messages done / received': `${c.messages_done} / ${c.messages_received}`, events: String(c.events_collected),
    'last poll': fmtMs(c.last_poll_ms),
    lag: c.lag_seconds === null ? '' : fmtLag(c.lag_seconds) + (c.lag_basis === 'oldest_message' ? ' (oldest message)' : ''),
    'last error': c.last_error ? `${fmtMs(c.last_error_ms)} ${c.last_error}` : '' }));
  const errors = (st.recent_errors || []).map((e) => ({ time: fmtMs(e.time_ms), level: e.level, message: e.message }));
  const audit = st.audit ? `Audit (index _audit): ${st.audit.stored} records stored, ${st.audit.dropped} dropped.` : '';
  view.replaceChildren(el('h2', {}, 'Status'),
    el('p', {}, `Searches running: ${st.jobs_running}, waiting: ${st.jobs_queued}. ${audit}`),
    el('div', { class: 'panel', id: 'status-indexes' }, el('h3', {}, 'Indexes'),
      rows.length ? statsTable(['index', 'events', 'segments', 'size', 'earliest', 'latest', 'broken segments'], rows)
        : el('p', { class: 'muted' }, 'No index yet.')),
    el('div', { class: 'panel', id: 'status-collectors' }, el('h3', {}, 'Collectors'),
      collectors.length ? statsTable(['input', 'queue', 'region', 'index', 'state', 'messages done / received', 'events', 'last poll', 'lag', 'last error'], collectors)
        : el('p', { class: 'muted' }, 'No collector runs in this server.')),
    el('div', { class: 'panel', id: 'status-errors' }, el('h3', {}, 'Recent warnings and errors'),
      errors.length ? statsTable(['time', 'level', 'message'], errors)
        : el('p', { class: 'muted' }, st.recent_errors ? 'None since the server started.' : 'Shown to admins.')));
}

// ---- users and API tokens (admins) ------------------------------------------------------------
async function usersPage(view, me) {
  if (me.role !== 'admin') {
    view.replaceChildren(el('h2', {}, 'Users'), el('p', { class: 'muted' }, 'Only admins manage users and tokens.'));
    return;
  }
  const msg = el('div', { id: 'users-msg' });
  const usersBox = el('div', { class: 'panel', id: 'users' });
  const tokensBox = el('div', { class: 'panel', id: 'tokens' });
  const shown = el('div', { id: 'token-shown' });
  // Runs a change, shows its error or `done`, and draws the lists again.
  const change = async (path, form, done) => {
    msg.replaceChildren();
    try {
      const r = await api(path, form);
      if (done) msg.replaceChildren(el('div', { class: 'msg info' }, done(r)));
    } catch (err) {
      msg.replaceChildren(el('div', { class: 'msg' }, err.message));
    }
    await render();
  };
  const name = el('input', { id: 'new-user-name', placeholder: 'name', autocomplete: 'off' });
  const pass = el('input', { id: 'new-user-password', type: 'password', placeholder: 'password (8+ characters)', autocomplete: 'new-password' });
  const role = el('select', { id: 'new-user-role' }, el('option', { value: 'user' }, 'user'), el('option', { value: 'admin' }, 'admin'));
  const add = el('form', { class: 'toolbar', id: 'new-user', onsubmit: (e) => {
    e.preventDefault();
    change('/api/users', { name: name.value, role: role.value, password: pass.value }, () => `User ${name.value} created.`)
      .then(() => { name.value = ''; pass.value = ''; });
  } }, name, pass, role, el('button', { type: 'submit', class: 'primary' }, 'Add user'));
  view.replaceChildren(el('h2', {}, 'Users and API tokens'), msg, add, usersBox, shown, tokensBox);

  async function render() {
    const list = await api('/api/users');
    const tb = el('tbody');
    for (const u of list.users) {
      const newPass = el('input', { type: 'password', placeholder: 'new password', class: 'user-password', autocomplete: 'new-password' });
      const other = u.role === 'admin' ? 'user' : 'admin';
      tb.append(el('tr', { 'data-name': u.name },
        el('td', {}, u.name), el('td', { class: 'user-role' }, u.role), el('td', {}, String(u.tokens)),
        el('td', {},
          el('button', { type: 'button', class: 'make-role', onclick: () => change('/api/users/' + encodeURIComponent(u.name), { role: other }, () => `${u.name} is now ${other}.`) }, 'Make ' + other), ' ',
          newPass, el('button', { type: 'button', onclick: () => change('/api/users/' + encodeURIComponent(u.name), { password: newPass.value }, () => `Password of ${u.name} changed.`) }, 'Set password'), ' ',
          el('button', { type: 'button', class: 'new-token', onclick: () => change('/api/tokens', { owner: u.name }, (r) => {
            // Shown once: only its hash is kept.
            shown.replaceChildren(el('div', { class: 'panel' }, el('p', {}, `New API token for ${u.name} (copy it now; it is not shown again):`),
              el('code', { id: 'new-token' }, r.token)));
            return `Token ${r.id} created.`;
          }) }, 'New API token'), ' ',
          el('button', { type: 'button', class: 'delete-user', onclick: () => {
            if (confirm('Remove user ' + u.name + ' and their API tokens?')) change('/api/users/' + encodeURIComponent(u.name) + '/delete', {}, () => `User ${u.name} removed.`);
          } }, 'Remove'))));
    }
    usersBox.replaceChildren(el('h3', {}, 'Users'), el('table', { class: 'stats', id: 'users-table' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Name'), el('th', {}, 'Role'), el('th', {}, 'API tokens'), el('th', {}, ''))), tb));
    const tt = el('tbody');
    for (const t of list.tokens) {
      tt.append(el('tr', { 'data-id': t.id }, el('td', {}, el('code', {}, t.id)), el('td', {}, t.owner),
        el('td', {}, el('button', { type: 'button', class: 'revoke', onclick: () => change('/api/tokens/' + encodeURIComponent(t.id) + '/delete', {}, () => `Token ${t.id} revoked.`) }, 'Revoke'))));
    }
    tokensBox.replaceChildren(el('h3', {}, 'API tokens'), list.tokens.length
      ? el('table', { class: 'stats', id: 'tokens-table' }, el('thead', {}, el('tr', {}, el('th', {}, 'Id'), el('th', {}, 'User'), el('th', {}, ''))), tt)
      : el('p', { class: 'muted' }, 'No API tokens.'));
  }
  await render();
}

// ---- start ----------------------------------------------------------------------------------
async function main() {
  const me = await api('/api/me');
  csrf = me.csrf;
  document.getElementById('logout-csrf').value = csrf;
  document.getElementById('user').textContent = me.user;
  const view = document.getElementById('view');
  const path = location.pathname;
  document.getElementById('nav-users').hidden = me.role !== 'admin';
  document.getElementById('nav-inputs').hidden = me.role !== 'admin';
  for (const [p, id] of [['/search', 'nav-search'], ['/saved', 'nav-saved'], ['/aws', 'nav-aws'], ['/status', 'nav-status'], ['/users', 'nav-users'], ['/inputs', 'nav-inputs']]) {
    document.getElementById(id).classList.toggle('active', path === p);
  }
  if (path === '/saved') await savedPage(view);
  else if (path === '/aws') await awsPage(view);
  else if (path === '/status') await statusPage(view);
  else if (path === '/users') await usersPage(view, me);
  else if (path === '/inputs') await inputsPage(view, me, { el, api });
  else searchPage(view);
}
main().catch((err) => {
  document.getElementById('view').replaceChildren(el('div', { class: 'msg' }, err.message));
});
