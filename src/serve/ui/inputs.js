// The Inputs page (admins): the collector inputs of this server, with their state and lag, and a
// form to add an SQS-based-S3 input (with static keys or without); managed inputs can be disabled,
// enabled and removed, and their static keys set, replaced or cleared (write-only: the secret is
// never shown back); the configured ones (cairn.toml / --config) are shown read-only. The server applies a change at once
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
  // The static keys are write-only: the secret goes to the server and is never shown back (the
  // listing says only whether an input has static keys). Both empty: the default credentials.
  const keyFields = (idKey, idSecret) => [
    el('input', { id: idKey, class: 'key-id', placeholder: 'access key ID (optional)', size: 22, autocomplete: 'off', spellcheck: 'false' }),
    el('input', { id: idSecret, class: 'secret-key', type: 'password', placeholder: 'secret access key', size: 22, autocomplete: 'new-password' })];
  const name = field('new-input-name', 'name');
  const queue = field('new-input-queue', 'SQS queue URL or name', 48);
  const region = field('new-input-region', 'region (e.g. us-east-1)');
  const index = field('new-input-index', 'index (aws-cloudtrail)');
  const interval = field('new-input-interval', 'interval (30s)', 10);
  const [keyId, secret] = keyFields('new-input-key-id', 'new-input-secret');
  const add = el('form', { class: 'toolbar', id: 'new-input', onsubmit: (e) => {
    e.preventDefault();
    const n = name.value;
    change('/api/inputs', { name: n, sqs_queue_url: queue.value, sqs_queue_region: region.value, index: index.value, interval: interval.value,
      key_id: keyId.value, secret_key: secret.value },
      `Input ${n} added; it starts polling now.`)
      .then(() => { if (!msg.querySelector('.msg:not(.info)')) for (const f of [name, queue, region, index, interval, keyId, secret]) f.value = ''; });
    secret.value = '';  // never kept in the page, whatever the answer
  } }, name, queue, region, index, interval, keyId, secret, el('button', { type: 'submit', class: 'primary' }, 'Add input'));

  // A managed input's keys: set or replace both, or clear them (then the default credentials).
  function keysRow(i, path, columns) {
    const [rowKeyId, rowSecret] = keyFields(undefined, undefined);
    const form = el('form', { class: 'toolbar keys-form', onsubmit: (e) => {
      e.preventDefault();
      const settings = { key_id: rowKeyId.value, secret_key: rowSecret.value };
      rowSecret.value = '';
      if (!settings.key_id && !settings.secret_key) {
        msg.replaceChildren(el('div', { class: 'msg' }, 'Give the access key ID and the secret access key (or clear the keys).'));
        return;
      }
      change(path, settings, `Static keys of ${i.name} saved.`);
    } }, el('span', { class: 'muted' }, i.static_keys ? 'Replace the static keys:' : 'Set static keys:'), rowKeyId, rowSecret,
    el('button', { type: 'submit', class: 'save-keys' }, 'Save keys'));
    if (i.static_keys) {
      form.append(' ', el('button', { type: 'button', class: 'clear-keys', onclick: () => {
        if (confirm('Remove the static keys of ' + i.name + '? It then uses the server\'s default AWS credentials.')) change(path, { clear_keys: '1' }, `Static keys of ${i.name} removed.`);
      } }, 'Clear keys'));
    }
    const cell = el('td', { colspan: String(columns) }, form);
    return el('tr', { class: 'keys-row', 'data-keys-for': i.name, hidden: '' }, cell);
  }
  view.replaceChildren(el('h2', {}, 'Inputs'),
    el('p', { class: 'muted' }, 'SQS-based S3 inputs collecting CloudTrail files. Changes apply at once: a new input starts polling, a disabled or removed one stops after finishing the messages it holds. Inputs of the configuration file are shown read-only and win over a managed input of the same name.'),
    msg, add, box, note);

  async function render() {
    const list = await api('/api/inputs');
    note.textContent = `Managed inputs are kept in ${list.file}.`;
    const tb = el('tbody');
    const headings = ['Name', 'Queue', 'Region', 'Index', 'State', 'Events', 'Lag', 'Keys', 'From', 'Problem', ''];
    for (const i of list.inputs) {
      const actions = el('td', {});
      let keys = null;
      if (i.managed) {
        const path = '/api/inputs/' + encodeURIComponent(i.name);
        keys = keysRow(i, path, headings.length);
        actions.append(
          el('button', { type: 'button', class: 'set-keys', onclick: () => { msg.replaceChildren(); keys.hidden = !keys.hidden; } }, 'Keys…'), ' ',
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
        el('td', { class: 'input-keys' }, i.static_keys ? 'static' : 'default'),
        el('td', {}, i.origin),
        el('td', {}, problem || ''),
        actions));
      if (keys) tb.append(keys);
    }
    box.replaceChildren(el('h3', {}, 'Collector inputs'), list.inputs.length
      ? el('table', { class: 'stats', id: 'inputs-table' },
        el('thead', {}, el('tr', {}, ...headings.map((h) => el('th', {}, h)))), tb)
      : el('p', { class: 'muted' }, 'No input yet.'));
  }
  await render();
}
