// The Inputs page (admins): the collector inputs of this server, with their state and lag, and a
// form to add an SQS-based-S3 input; managed inputs can be disabled, enabled and removed, the
// configured ones (cairn.toml / --config) are shown read-only. The server applies a change at once
// (docs/serve.md, "Managing inputs"). Values from the server go into the page as text only.
//
// app.js passes its DOM and API helpers (el, api) so this page needs nothing else.

function fmtLag(s) {
  if (s === null || s === undefined) return '';
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export async function inputsPage(view, me, { el, api }) {
  if (me.role !== 'admin') {
    view.replaceChildren(el('h2', {}, 'Inputs'), el('p', { class: 'muted' }, 'Only admins manage inputs.'));
    return;
  }
  const msg = el('div', { id: 'inputs-msg' });
  const box = el('div', { class: 'panel', id: 'inputs' });
  const note = el('p', { class: 'muted', id: 'inputs-file' });
  const change = async (path, form, done) => {
    msg.replaceChildren();
    try {
      await api(path, form);
      if (done) msg.replaceChildren(el('div', { class: 'msg info' }, done));
    } catch (err) {
      msg.replaceChildren(el('div', { class: 'msg' }, err.message));
    }
    await render();
  };
  const field = (id, placeholder, size) => el('input', { id, placeholder, size: size || 16, autocomplete: 'off' });
  const name = field('new-input-name', 'name');
  const queue = field('new-input-queue', 'SQS queue URL or name', 48);
  const region = field('new-input-region', 'region (e.g. us-east-1)');
  const index = field('new-input-index', 'index (aws-cloudtrail)');
  const interval = field('new-input-interval', 'interval (30s)', 10);
  const add = el('form', { class: 'toolbar', id: 'new-input', onsubmit: (e) => {
    e.preventDefault();
    const n = name.value;
    change('/api/inputs', { name: n, sqs_queue_url: queue.value, sqs_queue_region: region.value, index: index.value, interval: interval.value },
      `Input ${n} added; it starts polling now.`)
      .then(() => { if (!msg.querySelector('.msg:not(.info)')) for (const f of [name, queue, region, index, interval]) f.value = ''; });
  } }, name, queue, region, index, interval, el('button', { type: 'submit', class: 'primary' }, 'Add input'));
  view.replaceChildren(el('h2', {}, 'Inputs'),
    el('p', { class: 'muted' }, 'SQS-based S3 inputs collecting CloudTrail files. Changes apply at once: a new input starts polling, a disabled or removed one stops after finishing the messages it holds. Inputs of the configuration file are shown read-only and win over a managed input of the same name.'),
    msg, add, box, note);

  async function render() {
    const list = await api('/api/inputs');
    note.textContent = `Managed inputs are kept in ${list.file}.`;
    const tb = el('tbody');
    for (const i of list.inputs) {
      const actions = el('td', {});
      if (i.managed) {
        const path = '/api/inputs/' + encodeURIComponent(i.name);
        actions.append(
          el('button', { type: 'button', class: i.disabled ? 'enable-input' : 'disable-input',
            onclick: () => change(path, { disabled: i.disabled ? '0' : '1' }, `Input ${i.name} ${i.disabled ? 'enabled' : 'disabled'}.`) },
          i.disabled ? 'Enable' : 'Disable'), ' ',
          el('button', { type: 'button', class: 'delete-input', onclick: () => {
            if (confirm('Remove input ' + i.name + '? It stops after finishing the messages it holds.')) change(path + '/delete', {}, `Input ${i.name} removed.`);
          } }, 'Remove'));
      } else {
        actions.append(el('span', { class: 'muted' }, 'configured'));
      }
      const problem = i.error || (i.shadowed ? 'a configured input of this name runs instead' : i.last_error);
      tb.append(el('tr', { 'data-name': i.name },
        el('td', {}, i.name),
        el('td', {}, i.sqs_queue_url), el('td', {}, i.sqs_queue_region), el('td', {}, i.index),
        el('td', { class: 'input-state' }, i.state),
        el('td', {}, String(i.events_collected)),
        el('td', {}, fmtLag(i.lag_seconds)),
        el('td', {}, i.origin),
        el('td', {}, problem || ''),
        actions));
    }
    box.replaceChildren(el('h3', {}, 'Collector inputs'), list.inputs.length
      ? el('table', { class: 'stats', id: 'inputs-table' },
        el('thead', {}, el('tr', {}, ...['Name', 'Queue', 'Region', 'Index', 'State', 'Events', 'Lag', 'From', 'Problem', ''].map((h) => el('th', {}, h)))), tb)
      : el('p', { class: 'muted' }, 'No input yet.'));
  }
  await render();
}
