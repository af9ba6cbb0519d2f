// GET /: a query page, as OPA serves one at its root: a form that sends a query (and optional input) to the
// Query API of this server and shows the answer. Static: nothing from the request is echoed into the page.
import type { Request, Response } from 'express';
import type { ServerContext } from './context.js';

function page(version: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Verdict</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; max-width: 60rem; }
textarea { width: 100%; font-family: ui-monospace, monospace; }
pre { background: #f4f4f4; padding: 1rem; overflow: auto; }
</style>
</head>
<body>
<h1>Verdict</h1>
<p>Version: ${version.replace(/[^\w.+-]/g, '')}</p>
<form id="query">
<label for="q">Query</label>
<textarea id="q" name="q" rows="6">data</textarea>
<label for="input">Input (JSON, optional)</label>
<textarea id="input" name="input" rows="6"></textarea>
<button type="submit">Submit</button>
</form>
<pre id="answer"></pre>
<script>
document.getElementById('query').addEventListener('submit', async (event) => {
  event.preventDefault();
  const answer = document.getElementById('answer');
  const request = { query: document.getElementById('q').value };
  const input = document.getElementById('input').value.trim();
  try {
    if (input !== '') request.input = JSON.parse(input);
  } catch (err) {
    answer.textContent = 'input is not JSON: ' + err.message;
    return;
  }
  const res = await fetch('v1/query?pretty', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request) });
  answer.textContent = res.status + '\\n' + (await res.text());
});
</script>
</body>
</html>
`;
}

export function indexPage(ctx: ServerContext, _req: Request, res: Response): void {
  const body = page(ctx.version);
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
