// The auditors' workbench at /ui/decisions: one self-contained HTML document (no build step, no external assets)
// over GET /v1/decisions. The page itself holds no data and is served to anyone; every request it makes for
// data carries the admin bearer token, so the API's authentication is the only gate. A browser signs in by
// pasting an admin token: it is kept in sessionStorage (gone when the tab closes) and sent as the Authorization
// header, never as a cookie, so there is nothing for another site to ride on (no CSRF). Behind an auth proxy
// that adds the header the page works without signing in. A strict Content-Security-Policy (the page's own
// script and style, by hash; no framing) keeps injected markup inert even if a value escaped textContent.
// Filters live in the URL (bookmarkable, shareable) with the API's parameter names.
import { createHash } from 'node:crypto';
import { Router } from 'express';

const style = `
  body { font: 14px system-ui, sans-serif; margin: 1rem 2rem; color: #222; }
  header { display: flex; align-items: baseline; gap: 1rem; }
  header h1 { margin: 0 0 .5rem; }
  #whoami { font-size: 12px; color: #555; }
  form.filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: .75rem; }
  label { display: flex; flex-direction: column; font-size: 12px; color: #555; }
  input, select, button, textarea { font: inherit; padding: .25rem .4rem; }
  .split { display: grid; grid-template-columns: minmax(0, 1fr) minmax(18rem, 32%); gap: 1rem; align-items: start; }
  .split:has(> #detail[hidden]) { grid-template-columns: minmax(0, 1fr); }
  #results { overflow-x: auto; }
  #results th:nth-child(1) { width: 16em; } #results th:nth-child(2) { width: 6em; }
  table { border-collapse: collapse; width: 100%; table-layout: fixed; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #ddd; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 18rem; }
  tbody tr { cursor: pointer; }
  tbody tr:hover, tbody tr:focus { background: #eef3fa; outline: 2px solid #6b8fd6; outline-offset: -2px; }
  tbody tr[aria-selected="true"] { background: #dde8f7; }
  .allow { color: #17752f; } .deny { color: #b3261e; } .error { color: #8a5a00; }
  #detail { position: sticky; top: 1rem; max-height: calc(100vh - 2rem); overflow: auto; background: #f7f7f7; padding: .75rem; border: 1px solid #ddd; }
  #detail h2 { font-size: 15px; margin: 0 0 .5rem; display: flex; justify-content: space-between; }
  #detail dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .75rem; font-size: 12px; margin: 0 0 .5rem; }
  #detail dt { color: #555; } #detail dd { margin: 0; word-break: break-all; }
  #detail-json { white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 12px; margin: 0; }
  #pager { margin: .75rem 0; display: flex; gap: .5rem; align-items: center; }
  #message { color: #b3261e; min-height: 1.2em; }
  #signin { max-width: 36rem; }
  #signin textarea { width: 100%; min-height: 6rem; font-family: ui-monospace, monospace; font-size: 12px; }
  svg text { font-size: 10px; fill: #444; }
  #impact { margin-top: 1.5rem; border-top: 1px solid #ddd; padding-top: .5rem; }
  #impact summary { font-weight: 600; cursor: pointer; }
  #impact table { margin: .5rem 0; width: auto; table-layout: auto; }
  #impact-summary { margin: .5rem 0; }
  svg line.axis { stroke: #888; }
`;

const script = `
const pageSize = 50;
const tokenKey = 'verdict-admin-token';
const outcomes = ['allow', 'deny', 'error', 'undefined', 'other'];
const colours = { allow: '#2e9e4f', deny: '#d3463c', error: '#e0a030', undefined: '#999999', other: '#6b8fd6' };
const ranges = { '15m': 15 * 60e3, '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3 };
const $ = (id) => document.getElementById(id);
let cursors = [undefined];
let page = 0;
let rowsShown = [];

class Unauthorized extends Error {}

// ---- sign-in: the token lives in sessionStorage and travels only as the Authorization header ----
function token() { return sessionStorage.getItem(tokenKey); }

async function api(url) {
  const headers = { Accept: 'application/json' };
  if (token()) headers.Authorization = 'Bearer ' + token();
  const res = await fetch(url, { headers, credentials: 'omit' });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) throw new Unauthorized(body.message || 'sign in');
  if (!res.ok) throw new Error(body.message || ('HTTP ' + res.status));
  return body;
}

function showSignin(message) {
  $('workbench').hidden = true;
  $('signin').hidden = false;
  $('signout').hidden = true;
  $('whoami').textContent = '';
  $('signin-error').textContent = message || '';
  $('token').focus();
}

function showWorkbench() {
  $('signin').hidden = true;
  $('workbench').hidden = false;
  $('signout').hidden = !token();
  $('whoami').textContent = token() ? 'signed in with an admin token (this tab only)' : 'signed in by the proxy';
}

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const value = $('token').value.trim().replace(/^bearer\\s+/i, '');
  if (!value) return;
  sessionStorage.setItem(tokenKey, value);
  $('token').value = '';
  try {
    await api('/v1/decisions?limit=1');
  } catch (err) {
    sessionStorage.removeItem(tokenKey);
    showSignin(err instanceof Unauthorized ? 'The token was refused: ' + err.message : err.message);
    return;
  }
  showWorkbench();
  refresh();
});

$('signout').addEventListener('click', () => {
  sessionStorage.removeItem(tokenKey);
  clearResults();
  showSignin('Signed out.');
});

// ---- filters <-> URL (the API's parameter names; "range" is the page's own) ----
function localToRfc3339(value) { return value ? new Date(value).toISOString() : ''; }
function rfc3339ToLocal(value) {
  const d = new Date(value);
  if (isNaN(d)) return '';
  return new Date(d.getTime() - d.getTimezoneOffset() * 60e3).toISOString().slice(0, 19);
}

function paramsFromForm() {
  const p = new URLSearchParams();
  const set = (k, v) => { if (v && String(v).trim() !== '') p.set(k, String(v).trim()); };
  const mode = $('f-principal-mode').value;
  set(mode === 'exact' ? 'principal' : mode === 'prefix' ? 'principal_prefix' : 'principal_contains', $('f-principal').value);
  set('outcome', $('f-outcome').value);
  set('path', $('f-path').value);
  set('decision_id', $('f-decision-id').value);
  set('trace_id', $('f-trace-id').value);
  set('revision', $('f-revision').value);
  const range = $('f-range').value;
  if (range) set('range', range);
  else {
    set('since', localToRfc3339($('f-since').value));
    set('until', localToRfc3339($('f-until').value));
  }
  const field = $('f-field').value.trim();
  if (field) {
    const eq = field.indexOf('=');
    if (eq < 1 || !field.startsWith('input.')) throw new Error('input field: write it as input.a.b=VALUE, got ' + JSON.stringify(field));
    p.set(field.slice(0, eq), field.slice(eq + 1));
  }
  return p;
}

function formFromParams(p) {
  const principal = p.get('principal') ?? p.get('principal_prefix') ?? p.get('principal_contains') ?? '';
  $('f-principal').value = principal;
  $('f-principal-mode').value = p.has('principal') ? 'exact' : p.has('principal_prefix') ? 'prefix' : 'contains';
  $('f-outcome').value = p.get('outcome') ?? '';
  $('f-path').value = p.get('path') ?? '';
  $('f-decision-id').value = p.get('decision_id') ?? '';
  $('f-trace-id').value = p.get('trace_id') ?? '';
  $('f-revision').value = p.get('revision') ?? '';
  $('f-range').value = ranges[p.get('range')] ? p.get('range') : '';
  $('f-since').value = p.get('since') ? rfc3339ToLocal(p.get('since')) : '';
  $('f-until').value = p.get('until') ? rfc3339ToLocal(p.get('until')) : '';
  const field = [...p.keys()].find((k) => k.startsWith('input.'));
  $('f-field').value = field ? field + '=' + p.get(field) : '';
  syncRange();
}

function syncRange() {
  const relative = $('f-range').value !== '';
  $('f-since').disabled = relative;
  $('f-until').disabled = relative;
}

/** The page's parameters as the API's: a relative range becomes since=now-range. */
function apiParams(p) {
  const q = new URLSearchParams(p);
  const range = q.get('range');
  q.delete('range');
  if (range && ranges[range]) q.set('since', new Date(Date.now() - ranges[range]).toISOString());
  return q;
}

function currentParams() { return new URLSearchParams(location.search); }

// ---- results ----
function clearResults() {
  rowsShown = [];
  $('rows').replaceChildren();
  $('chart').replaceChildren();
  $('page-info').textContent = '';
  $('next').disabled = true;
  $('prev').disabled = true;
  closeDetail();
}

function showError(err) {
  if (err instanceof Unauthorized) { clearResults(); showSignin(err.message); return; }
  clearResults();
  $('message').textContent = err.message;
}

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  td.title = text ?? '';
  if (cls) td.className = cls;
  return td;
}

async function load() {
  const params = apiParams(currentParams());
  params.set('limit', String(pageSize));
  if (cursors[page]) params.set('cursor', cursors[page]);
  $('message').textContent = '';
  let body;
  try {
    body = await api('/v1/decisions?' + params);
  } catch (err) {
    showError(err);
    return;
  }
  showWorkbench();
  rowsShown = body.result;
  const rows = $('rows');
  rows.replaceChildren();
  body.result.forEach((d, i) => {
    const tr = document.createElement('tr');
    tr.dataset.id = d.event.decision_id;
    tr.tabIndex = 0;
    tr.setAttribute('aria-selected', 'false');
    tr.append(cell(d.event.timestamp), cell(d.outcome, d.outcome), cell(d.principal), cell(d.event.path ?? d.event.query), cell(d.event.decision_id));
    tr.addEventListener('click', () => show(i));
    tr.addEventListener('keydown', (e) => rowKey(e, i));
    rows.append(tr);
  });
  cursors[page + 1] = body.next_cursor;
  $('next').disabled = !body.next_cursor;
  $('prev').disabled = page === 0;
  $('page-info').textContent = 'page ' + (page + 1) + ', ' + body.result.length + ' decisions' + (body.scan_limited ? ' (search window reached: Next looks further)' : '');
}

function rowKey(e, i) {
  const rows = $('rows').children;
  if (e.key === 'ArrowDown' && i + 1 < rows.length) { rows[i + 1].focus(); e.preventDefault(); }
  else if (e.key === 'ArrowUp' && i > 0) { rows[i - 1].focus(); e.preventDefault(); }
  else if (e.key === 'Enter' || e.key === ' ') { show(i); e.preventDefault(); }
  else if (e.key === 'Escape') closeDetail();
}

function show(i) {
  const d = rowsShown[i];
  if (!d) return;
  for (const tr of $('rows').children) tr.setAttribute('aria-selected', String(tr.dataset.id === d.event.decision_id));
  const e = d.event;
  const summary = $('detail-summary');
  summary.replaceChildren();
  const revisions = Object.entries(e.bundles ?? {}).map(([name, b]) => name + ': ' + (b.revision ?? '')).join(', ');
  for (const [k, v] of [['decision', e.decision_id], ['time', e.timestamp], ['path', e.path ?? e.query], ['outcome', d.outcome], ['principal', d.principal], ['bundles', revisions], ['trace', e.trace_id], ['requested by', e.requested_by]]) {
    if (v === undefined || v === '') continue;
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    summary.append(dt, dd);
  }
  $('detail-json').textContent = JSON.stringify(e, null, 2);
  $('detail').hidden = false;
}

function closeDetail() {
  $('detail').hidden = true;
  for (const tr of $('rows').children) tr.setAttribute('aria-selected', 'false');
}
$('detail-close').addEventListener('click', closeDetail);

// ---- chart: decisions per minute by outcome, newest 1,000 matches, with axes and a legend ----
async function chart() {
  const params = apiParams(currentParams());
  params.set('limit', '1000');
  const svg = $('chart');
  svg.replaceChildren();
  let decisions;
  try {
    decisions = (await api('/v1/decisions?' + params)).result;
  } catch {
    return;
  }
  const buckets = new Map();
  for (const d of decisions) {
    const minute = d.event.timestamp.slice(0, 16);
    const b = buckets.get(minute) ?? {};
    b[d.outcome] = (b[d.outcome] ?? 0) + 1;
    buckets.set(minute, b);
  }
  const minutes = [...buckets.keys()].sort().slice(-60);
  const max = Math.max(1, ...minutes.map((m) => Object.values(buckets.get(m)).reduce((a, n) => a + n, 0)));
  const ns = 'http://www.w3.org/2000/svg';
  const el = (name, attrs, text) => {
    const node = document.createElementNS(ns, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    svg.append(node);
    return node;
  };
  const left = 40, top = 8, width = 640, height = 110, bottom = top + height;
  const slot = width / Math.max(minutes.length, 1), bar = Math.max(2, Math.min(24, slot - 2));
  el('line', { x1: left, y1: top, x2: left, y2: bottom, class: 'axis' });
  el('line', { x1: left, y1: bottom, x2: left + width, y2: bottom, class: 'axis' });
  for (const v of [0, Math.round(max / 2), max]) {
    const y = bottom - (v / max) * height;
    el('line', { x1: left - 4, y1: y, x2: left, y2: y, class: 'axis' });
    el('text', { x: left - 6, y: y + 3, 'text-anchor': 'end', class: 'y-tick' }, String(v));
  }
  el('text', { x: 10, y: top + height / 2, transform: 'rotate(-90 10 ' + (top + height / 2) + ')', 'text-anchor': 'middle' }, 'decisions');
  minutes.forEach((m, i) => {
    const x = left + i * slot + (slot - bar) / 2;
    let y = bottom;
    for (const outcome of outcomes) {
      const n = buckets.get(m)[outcome] ?? 0;
      if (n === 0) continue;
      const h = (n / max) * height;
      y -= h;
      const rect = el('rect', { x, y, width: bar, height: h, fill: colours[outcome], 'data-minute': m, 'data-outcome': outcome, 'data-count': n });
      const title = document.createElementNS(ns, 'title');
      title.textContent = m + 'Z ' + outcome + ': ' + n;
      rect.append(title);
    }
  });
  if (minutes.length > 0) {
    el('text', { x: left, y: bottom + 14, class: 'x-tick' }, minutes[0].slice(11) + 'Z');
    if (minutes.length > 1) el('text', { x: left + width, y: bottom + 14, 'text-anchor': 'end', class: 'x-tick' }, minutes[minutes.length - 1].slice(11) + 'Z');
  }
  el('text', { x: left + width / 2, y: bottom + 14, 'text-anchor': 'middle' }, 'minute (UTC), newest ' + decisions.length + ' matches');
  outcomes.forEach((outcome, i) => {
    const x = left + i * 90, y = bottom + 26;
    el('rect', { x, y, width: 10, height: 10, fill: colours[outcome], class: 'legend' });
    el('text', { x: x + 14, y: y + 9, class: 'legend' }, outcome);
  });
}

// ---- export: the current filter, every matching decision, as NDJSON or CSV ----
async function exportAs(format) {
  $('message').textContent = '';
  const params = apiParams(currentParams());
  params.set('format', format);
  const headers = token() ? { Authorization: 'Bearer ' + token() } : {};
  const res = await fetch('/v1/decisions/export?' + params, { headers, credentials: 'omit' });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    showError(res.status === 401 ? new Unauthorized(body.message) : new Error(body.message || ('HTTP ' + res.status)));
    return;
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = 'decisions.' + format;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60e3);
}
$('export-ndjson').addEventListener('click', () => exportAs('ndjson'));
$('export-csv').addEventListener('click', () => exportAs('csv'));

// ---- impact: a dry-run upload, its replay report shown here (nothing is activated) ----
function tableRows(tbody, rows) {
  tbody.replaceChildren();
  for (const cells of rows) {
    const tr = document.createElement('tr');
    for (const c of cells) {
      if (!(c instanceof Node)) { tr.append(cell(String(c))); continue; }
      const td = document.createElement('td');
      td.append(c);
      tr.append(td);
    }
    tbody.append(tr);
  }
}

function brief(side) {
  if (side.error) return 'error ' + side.error.code;
  return 'result' in side ? JSON.stringify(side.result) : 'undefined';
}

$('impact-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('impact-message').textContent = '';
  $('impact-report').hidden = true;
  const file = $('i-file').files[0];
  const url = '/v1/bundles/' + encodeURIComponent($('i-name').value.trim()) + '?dry_run=true&last=' + encodeURIComponent($('i-last').value || '1000');
  const headers = { 'Content-Type': 'application/gzip', Accept: 'application/json' };
  if (token()) headers.Authorization = 'Bearer ' + token();
  const res = await fetch(url, { method: 'PUT', headers, body: file, credentials: 'omit' });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) { $('impact-message').textContent = body.message || ('HTTP ' + res.status); return; }
  const r = body.result.report;
  if (!r) { $('impact-message').textContent = body.result.message; return; }
  const reasons = Object.entries(r.not_replayable_by_reason).map(([k, n]) => k + ' ' + n).join(', ');
  $('impact-summary').textContent = 'Revision ' + body.result.revision + ': replayed ' + r.replayed + ' of ' + r.considered + ' decisions, ' + r.changed + ' would change' + (r.not_replayable ? '; ' + r.not_replayable + ' not replayable (' + reasons + ')' : '') + (r.changes_truncated ? '; the first ' + r.changes.length + ' changes are listed' : '') + '.';
  tableRows($('impact-kinds'), Object.entries(r.by_change).map(([k, n]) => [k.replace(/_/g, ' '), n]));
  tableRows($('impact-paths'), Object.entries(r.by_path).map(([p, n]) => [p, n.replayed, n.changed]));
  tableRows($('impact-changes'), r.changes.map((c) => {
    const link = document.createElement('a');
    link.href = '?decision_id=' + encodeURIComponent(c.decision_id);
    link.textContent = c.decision_id;
    link.addEventListener('click', (ev) => { ev.preventDefault(); history.pushState(null, '', link.href); formFromParams(currentParams()); refresh(); });
    return [link, c.path, c.old.outcome + '→' + c.new.outcome, brief(c.old), brief(c.new)];
  }));
  $('impact-report').hidden = false;
});

// ---- wiring ----
function refresh() {
  cursors = [undefined];
  page = 0;
  closeDetail();
  load();
  chart();
}

$('filters').addEventListener('submit', (e) => {
  e.preventDefault();
  let params;
  try {
    params = paramsFromForm();
  } catch (err) {
    showError(err);
    return;
  }
  history.pushState(null, '', '?' + params);
  refresh();
});
$('reset').addEventListener('click', () => {
  history.pushState(null, '', location.pathname);
  formFromParams(currentParams());
  refresh();
});
$('f-range').addEventListener('change', syncRange);
window.addEventListener('popstate', () => { formFromParams(currentParams()); refresh(); });
$('next').addEventListener('click', () => { page++; load(); });
$('prev').addEventListener('click', () => { page = Math.max(0, page - 1); load(); });

formFromParams(currentParams());
refresh();
`;

const body = `<header><h1>Decisions</h1><span id="whoami"></span><button id="signout" type="button" hidden>Sign out</button></header>
<section id="signin" hidden>
  <h2>Sign in</h2>
  <p>Paste an admin token (a JWT with the <code>decisions:read</code> scope). It is kept in this tab only and sent as the
  Authorization header; closing the tab forgets it.</p>
  <form id="signin-form">
    <label>Admin token <textarea id="token" autocomplete="off" spellcheck="false"></textarea></label>
    <button type="submit" id="signin-submit">Sign in</button>
  </form>
  <p id="signin-error" role="alert"></p>
</section>
<main id="workbench" hidden>
<form id="filters" class="filters">
  <label>Principal <span><select id="f-principal-mode" aria-label="principal match"><option value="contains">contains</option><option value="prefix">starts with</option><option value="exact">is</option></select>
    <input id="f-principal" aria-label="principal"></span></label>
  <label>Outcome <select id="f-outcome"><option value="">any</option><option>allow</option><option>deny</option><option>error</option><option>undefined</option><option>other</option></select></label>
  <label>Path prefix <input id="f-path"></label>
  <label>Range <select id="f-range"><option value="">custom</option><option value="15m">last 15 minutes</option><option value="1h">last hour</option><option value="24h">last 24 hours</option><option value="7d">last 7 days</option></select></label>
  <label>Since <input id="f-since" type="datetime-local" step="1"></label>
  <label>Until <input id="f-until" type="datetime-local" step="1"></label>
  <label>Decision id <input id="f-decision-id"></label>
  <label>Trace id <input id="f-trace-id"></label>
  <label>Input field <input id="f-field" placeholder="input.user=alice"></label>
  <label>Revision <input id="f-revision"></label>
  <button type="submit" id="apply">Apply</button>
  <button type="button" id="reset">Reset</button>
  <button type="button" id="export-ndjson">Export NDJSON</button>
  <button type="button" id="export-csv">Export CSV</button>
</form>
<div id="message" role="alert"></div>
<svg id="chart" width="700" height="160" role="img" aria-label="decisions per minute by outcome"></svg>
<div class="split">
  <div id="results">
    <table>
      <thead><tr><th>Time</th><th>Outcome</th><th>Principal</th><th>Path</th><th>Decision id</th></tr></thead>
      <tbody id="rows"></tbody>
    </table>
    <div id="pager"><button id="prev" disabled>Previous</button><button id="next" disabled>Next</button><span id="page-info"></span></div>
  </div>
  <aside id="detail" hidden aria-label="decision detail">
    <h2>Decision <button type="button" id="detail-close" aria-label="close detail">×</button></h2>
    <dl id="detail-summary"></dl>
    <pre id="detail-json"></pre>
  </aside>
</div>
<details id="impact">
  <summary>Impact of a bundle (dry run)</summary>
  <p>Replays logged decisions against a bundle as if it were uploaded under this name; nothing is activated. Needs a
  token with <code>bundles:write</code> as well.</p>
  <form id="impact-form" class="filters">
    <label>Bundle name <input id="i-name" required></label>
    <label>Bundle (.tar.gz) <input id="i-file" type="file" accept=".gz,.tgz,application/gzip" required></label>
    <label>Newest decisions <input id="i-last" type="number" min="1" value="1000"></label>
    <button type="submit" id="i-run">Dry run</button>
  </form>
  <div id="impact-message" role="alert"></div>
  <div id="impact-report" hidden>
    <p id="impact-summary"></p>
    <table><thead><tr><th>Change</th><th>Decisions</th></tr></thead><tbody id="impact-kinds"></tbody></table>
    <table><thead><tr><th>Path</th><th>Replayed</th><th>Changed</th></tr></thead><tbody id="impact-paths"></tbody></table>
    <table><thead><tr><th>Decision</th><th>Path</th><th>Outcome</th><th>Old</th><th>New</th></tr></thead><tbody id="impact-changes"></tbody></table>
  </div>
</details>
</main>`;

export const decisionsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Verdict decisions</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${style}</style>
</head>
<body>
${body}
<script>${script}</script>
</body>
</html>
`;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** Only this page's own script and style run; data comes from this origin; nobody may frame it. */
const decisionsPageHeaders: Record<string, string> = {
  'Content-Security-Policy': [
    "default-src 'none'",
    `script-src ${hash(script)}`,
    `style-src ${hash(style)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** GET /ui/decisions: the page, open to all (it holds no data), with its security headers. */
export function decisionsPageRouter(): Router {
  const router = Router();
  router.get('/ui/decisions', (_req, res) => {
    res.set(decisionsPageHeaders).type('html').send(decisionsPage);
  });
  return router;
}
