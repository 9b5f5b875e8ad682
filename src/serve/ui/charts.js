// The web UI's charts, drawn by Apache ECharts (docs/ui.md): the search page's timeline of
// matching events (drag across it, or click a bucket, to narrow the search's time range), the
// Visualization tab's line, bar, column and pie charts and its single value, and the AWS
// overview's panels. Only the parts of ECharts used here are imported, so esbuild leaves the rest
// out of the bundle; the SVG renderer draws them.
//
// The pages' Content-Security-Policy allows no inline style (style-src 'self' and a nonce): ECharts
// sets its elements' styles through the CSSOM (element.style), which the policy allows, and the
// tooltips are drawn as rich text inside the SVG (renderMode 'richText'), not as HTML with style
// attributes that the policy would refuse. Names and values from the server reach ECharts only as
// data and plain-text labels, never as HTML.

import * as echarts from 'echarts/core';
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import {
  BrushComponent, GridComponent, LegendComponent, ToolboxComponent, TooltipComponent,
} from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';

// The brush (the timeline's drag) works through the toolbox, which stays hidden.
echarts.use([BarChart, LineChart, PieChart, BrushComponent, GridComponent, LegendComponent,
  ToolboxComponent, TooltipComponent, SVGRenderer]);

// The series' colours, in order (tests/serve/ui_browser.mjs finds the drawn series by them).
const COLORS = ['#1a73c9', '#5cc05c', '#f0a030', '#c0392b', '#8e44ad', '#16a085', '#d35400',
  '#2c3e50', '#e84393', '#7f8c8d', '#27ae60'];
const MUTED = '#6b7785';
const FONT = { fontFamily: 'system-ui, sans-serif', fontSize: 11, color: MUTED };
const TOOLTIP = { renderMode: 'richText', confine: true, textStyle: { fontSize: 12 } };

const cell = (row, f) => {
  const v = row[f];
  if (v === undefined || v === null) return '';
  return Array.isArray(v) ? v.join('\n') : String(v);
};
const isNum = (s) => s !== '' && !isNaN(Number(s));
const fmtInt = (n) => Number(n).toLocaleString('en-US');
function fmtTime(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  return d.toISOString().replace('T', ' ').replace(/\.000Z$|Z$/, '');
}
// Labels of a time axis: without the parts every bucket shares (00:00:00, seconds).
function timeLabels(x, values) {
  if (x !== '_time') return values;
  const t = values.map(fmtTime);
  if (t.every((v) => v.endsWith(' 00:00:00'))) return t.map((v) => v.slice(0, 10));
  if (t.every((v) => v.endsWith(':00'))) return t.map((v) => v.slice(0, 16));
  return t;
}

// A chart in a fresh element of `container` (class `cls` gives its height in app.css). Charts
// whose element has left the page are disposed of first, and every chart follows the window's size.
const live = new Set();
function newChart(container, cls) {
  for (const c of live) {
    if (!c.getDom().isConnected) { c.dispose(); live.delete(c); }
  }
  const dom = document.createElement('div');
  dom.className = 'echart ' + cls;
  container.append(dom);
  const chart = echarts.init(dom, null, { renderer: 'svg' });
  live.add(chart);
  return chart;
}
window.addEventListener('resize', () => { for (const c of live) c.resize(); });

// rows: objects; the first field is the category or time (x), the numeric others the series.
// type: auto, line, bar (horizontal), column, pie or single.
export function drawChart(container, fields, rows, type) {
  container.replaceChildren();
  const x = fields[0];
  const series = fields.slice(1).filter((f) => !f.startsWith('_') &&
    rows.some((r) => isNum(cell(r, f))));
  const note = (text) => {
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = text;
    container.append(p);
  };
  if (!x || series.length === 0 || rows.length === 0) {
    note('Nothing to chart: the results have no numeric column.');
    return;
  }
  if (type === 'single' || (rows.length === 1 && series.length === 1 && type === 'auto')) {
    const d = document.createElement('div');
    d.className = 'single chart-single';
    d.textContent = fmtInt(cell(rows[0], series[0]));
    container.append(d);
    return;
  }
  if (type === 'auto') type = x === '_time' ? 'line' : 'column';
  const small = container.classList.contains('panel-body');
  const chart = newChart(container, small ? 'echart-panel' : 'echart-main');
  chart.getDom().dataset.type = type;
  if (type === 'pie') { chart.setOption(pieOption(x, series[0], rows)); return; }

  const labels = timeLabels(x, rows.map((r) => cell(r, x)));
  const horizontal = type === 'bar';
  const category = { type: 'category', data: labels, axisLabel: { ...FONT, hideOverlap: true },
    axisTick: { alignWithLabel: true }, inverse: horizontal };
  const value = { type: 'value', axisLabel: FONT, splitLine: { lineStyle: { color: '#e3e7ea' } },
    minInterval: 1 };
  chart.setOption({
    color: COLORS,
    animation: false,
    // The axes' labels inside the grid's box (outerBoundsMode 'same').
    grid: { left: 8, right: 16, top: series.length > 1 ? 30 : 12, bottom: 8,
      outerBoundsMode: 'same' },
    legend: series.length > 1 ? { type: 'scroll', top: 0, textStyle: FONT, icon: 'rect' }
      : undefined,
    tooltip: { ...TOOLTIP, trigger: 'axis' },
    xAxis: horizontal ? value : category,
    yAxis: horizontal ? category : value,
    series: series.map((f) => ({
      name: f,
      type: type === 'line' ? 'line' : 'bar',
      data: rows.map((r) => Number(cell(r, f)) || 0),
      showSymbol: rows.length <= 40,
      barMaxWidth: 48,
    })),
  });
}

// One slice per row of the first numeric column (the 9 largest, the rest as "other"), each
// labelled with its name and count.
function pieOption(x, f, rows) {
  const items = rows.map((r) => ({ name: cell(r, x), value: Number(cell(r, f)) || 0 }))
    .filter((d) => d.value > 0).sort((a, b) => b.value - a.value);
  if (items.length > 10) {
    const rest = items.slice(9).reduce((a, d) => a + d.value, 0);
    items.splice(9, items.length, { name: 'other', value: rest });
  }
  return {
    color: COLORS,
    animation: false,
    tooltip: { ...TOOLTIP, trigger: 'item',
      formatter: (p) => `${p.name}: ${fmtInt(p.value)} (${p.percent}%)` },
    series: [{
      type: 'pie', name: f, radius: '62%', center: ['50%', '50%'], data: items,
      itemStyle: { borderColor: '#fff', borderWidth: 1 },
      label: { ...FONT, color: '#333', formatter: (p) => `${p.name} (${fmtInt(p.value)})`,
        overflow: 'truncate', width: 220 },
    }],
  };
}

// Event counts over time (rows of `timechart count`), one bar per bucket. Dragging across buckets
// (ECharts' brush along x) or clicking one calls onZoom(earliest, latest) with their time range in
// epoch seconds.
export function drawTimeline(box, rows, onZoom) {
  box.replaceChildren();
  if (!rows.length) return;
  const chart = newChart(box, 'echart-timeline');
  chart.getDom().id = 'timeline-chart';
  const counts = rows.map((r) => Number(cell(r, 'count')) || 0);
  const starts = rows.map((r) => Date.parse(cell(r, '_time')) / 1000);
  const span = rows.length > 1 ? starts[1] - starts[0] : 1;
  const ends = starts.map((t, i) => (i + 1 < starts.length ? starts[i + 1] : t + span));
  chart.setOption({
    color: [COLORS[0]],
    animation: false,
    grid: { left: 8, right: 12, top: 10, bottom: 4, outerBoundsMode: 'same' },
    toolbox: { show: false }, // the brush's buttons, not shown: the drag starts the brush
    tooltip: { ...TOOLTIP, trigger: 'axis', axisPointer: { type: 'shadow' },
      formatter: (ps) =>
        `${fmtTime(cell(rows[ps[0].dataIndex], '_time'))}: ${fmtInt(ps[0].value)} events` },
    xAxis: { type: 'category', data: timeLabels('_time', rows.map((r) => cell(r, '_time'))),
      axisLabel: { ...FONT, hideOverlap: true }, axisTick: { alignWithLabel: true } },
    yAxis: { type: 'value', minInterval: 1, splitNumber: 2, axisLabel: FONT,
      splitLine: { lineStyle: { color: '#eef1f3' } } },
    brush: { xAxisIndex: 0, brushType: 'lineX', brushMode: 'single', transformable: false,
      removeOnClick: true,
      brushStyle: { color: 'rgba(26,115,201,0.18)', borderColor: 'rgba(26,115,201,0.5)' } },
    series: [{ type: 'bar', name: 'events', data: counts, barMaxWidth: 48, barCategoryGap: '10%' }],
  });
  // Dragging draws the brush at once (no toolbox button to press first).
  chart.dispatchAction({ type: 'takeGlobalCursor', key: 'brush',
    brushOption: { brushType: 'lineX', brushMode: 'single' } });
  let zoomed = false;
  const zoom = (i0, i1) => {
    if (zoomed) return;
    const lo = Math.max(0, Math.min(i0, i1)), hi = Math.min(rows.length - 1, Math.max(i0, i1));
    if (lo > hi) return;
    zoomed = true;
    onZoom(Math.floor(starts[lo]), Math.ceil(ends[hi]));
  };
  chart.on('brushEnd', (e) => {
    const area = e.areas && e.areas[0];
    // Along a category axis, the range is of bucket indexes.
    if (area && area.coordRange) {
      zoom(Math.round(area.coordRange[0]), Math.round(area.coordRange[1]));
    }
  });
  // A click (a press and release in one place, which the brush ignores) narrows to the bucket
  // under the pointer.
  let down = null;
  const zr = chart.getZr();
  zr.on('mousedown', (e) => { down = [e.offsetX, e.offsetY]; });
  zr.on('mouseup', (e) => {
    const at = [e.offsetX, e.offsetY];
    const click = down && Math.abs(at[0] - down[0]) < 3 && Math.abs(at[1] - down[1]) < 3;
    down = null;
    if (!click || !chart.containPixel({ gridIndex: 0 }, at)) return;
    const k = chart.convertFromPixel({ gridIndex: 0 }, at)[0];
    if (Number.isFinite(k)) zoom(Math.round(k), Math.round(k));
  });
}
