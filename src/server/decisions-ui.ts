// The auditors' page at /ui/decisions: one self-contained HTML document (no build step, no external
// assets) over GET /v1/decisions. It sits behind the admin bearer-JWT like the API (scope decisions:read), so a
// browser reaches it through something that adds the Authorization header (an auth proxy); its own requests go
// the same way.
// Filters map one to one onto the API's query parameters; the chart buckets the newest 1,000 matches by minute.
export const decisionsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Verdict decisions</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px system-ui, sans-serif; margin: 1rem 2rem; color: #222; }
  form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: 1rem; }
  label { display: flex; flex-direction: column; font-size: 12px; color: #555; }
  input, select, button { font: inherit; padding: .25rem .4rem; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #ddd; white-space: nowrap; }
  tbody tr { cursor: pointer; }
  tbody tr:hover { background: #f3f6fa; }
  .allow { color: #17752f; } .deny { color: #b3261e; } .error { color: #8a5a00; }
  #detail { white-space: pre-wrap; background: #f7f7f7; padding: .75rem; border: 1px solid #ddd; margin-top: 1rem; font-family: ui-monospace, monospace; font-size: 12px; }
  #pager { margin: .75rem 0; display: flex; gap: .5rem; align-items: center; }
  #message { color: #b3261e; }
  svg text { font-size: 10px; fill: #555; }
</style>
</head>
<body>
<h1>Decisions</h1>
<form id="filters">
  <label>Principal <input name="principal" id="f-principal"></label>
  <label>Outcome <select name="outcome" id="f-outcome"><option value="">any</option><option>allow</option><option>deny</option><option>error</option><option>undefined</option><option>other</option></select></label>
  <label>Path prefix <input name="path" id="f-path"></label>
  <label>Since (RFC3339) <input name="since" id="f-since"></label>
  <label>Until (RFC3339) <input name="until" id="f-until"></label>
  <label>Revision <input name="revision" id="f-revision"></label>
  <button type="submit" id="apply">Apply</button>
</form>
<svg id="chart" width="720" height="140" role="img" aria-label="decisions per minute by outcome"></svg>
<div id="message"></div>
<table>
  <thead><tr><th>Time</th><th>Outcome</th><th>Principal</th><th>Path</th><th>Decision id</th></tr></thead>
  <tbody id="rows"></tbody>
</table>
<div id="pager"><button id="prev" disabled>Previous</button><button id="next" disabled>Next</button><span id="page-info"></span></div>
<div id="detail" hidden></div>
<script>
const pageSize = 50;
const colours = { allow: '#2e9e4f', deny: '#d3463c', error: '#e0a030', undefined: '#999', other: '#6b8fd6' };
let cursors = [undefined];
let page = 0;

function filters() {
  const params = new URLSearchParams();
  for (const [k, v] of new FormData(document.getElementById('filters'))) if (String(v).trim() !== '') params.set(k, String(v).trim());
  return params;
}

async function api(url) {
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message || ('HTTP ' + res.status));
  return body;
}

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (cls) td.className = cls;
  return td;
}

async function load() {
  const params = filters();
  params.set('limit', String(pageSize));
  if (cursors[page]) params.set('cursor', cursors[page]);
  document.getElementById('message').textContent = '';
  try {
    const body = await api('/v1/decisions?' + params);
    const rows = document.getElementById('rows');
    rows.replaceChildren();
    for (const d of body.result) {
      const tr = document.createElement('tr');
      tr.dataset.id = d.event.decision_id;
      tr.append(cell(d.event.timestamp), cell(d.outcome, d.outcome), cell(d.principal), cell(d.event.path ?? d.event.query), cell(d.event.decision_id));
      tr.addEventListener('click', () => show(d.event.decision_id));
      rows.append(tr);
    }
    cursors[page + 1] = body.next_cursor;
    document.getElementById('next').disabled = !body.next_cursor;
    document.getElementById('prev').disabled = page === 0;
    document.getElementById('page-info').textContent = 'page ' + (page + 1) + ', ' + body.result.length + ' decisions';
  } catch (err) {
    document.getElementById('message').textContent = String(err.message);
  }
}

async function show(id) {
  const detail = document.getElementById('detail');
  try {
    const { result } = await api('/v1/decisions/' + encodeURIComponent(id));
    detail.textContent = JSON.stringify(result.event, null, 2);
  } catch (err) {
    detail.textContent = String(err.message);
  }
  detail.hidden = false;
}

async function chart() {
  const params = filters();
  params.set('limit', '1000');
  const svg = document.getElementById('chart');
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
  const width = 720, height = 120, bar = Math.max(2, Math.floor(width / Math.max(minutes.length, 1)) - 2);
  minutes.forEach((m, i) => {
    let y = height;
    for (const outcome of Object.keys(colours)) {
      const n = buckets.get(m)[outcome] ?? 0;
      if (n === 0) continue;
      const h = (n / max) * (height - 10);
      y -= h;
      const rect = document.createElementNS(ns, 'rect');
      rect.setAttribute('x', String(i * (bar + 2)));
      rect.setAttribute('y', String(y));
      rect.setAttribute('width', String(bar));
      rect.setAttribute('height', String(h));
      rect.setAttribute('fill', colours[outcome]);
      rect.setAttribute('data-minute', m);
      rect.setAttribute('data-outcome', outcome);
      rect.setAttribute('data-count', String(n));
      const title = document.createElementNS(ns, 'title');
      title.textContent = m + 'Z ' + outcome + ': ' + n;
      rect.append(title);
      svg.append(rect);
    }
  });
  const label = document.createElementNS(ns, 'text');
  label.setAttribute('x', '0');
  label.setAttribute('y', '135');
  label.textContent = 'decisions per minute by outcome (newest ' + decisions.length + ' matches), max ' + max;
  svg.append(label);
}

document.getElementById('filters').addEventListener('submit', (e) => {
  e.preventDefault();
  cursors = [undefined];
  page = 0;
  load();
  chart();
});
document.getElementById('next').addEventListener('click', () => { page++; load(); });
document.getElementById('prev').addEventListener('click', () => { page = Math.max(0, page - 1); load(); });
load();
chart();
</script>
</body>
</html>
`;
