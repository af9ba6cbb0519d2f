// Request paths as Go's net/http and OPA's router treat them before any handler runs: undecodable
// percent-escapes are a plain 400, unclean paths ("//", "/./", "/../") are redirected (307) to the clean
// path, and a trailing slash is redirected (301) to the path without it and without the query, as OPA's
// TrailingSlashRedirectHandler does.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answers the request and returns true when the path is not canonical; otherwise returns false. */
export function redirectToCanonicalPath(req: IncomingMessage, res: ServerResponse, url: string): boolean {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q);
  if (path.includes('%')) {
    try {
      decodeURIComponent(path);
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
      res.end('400 Bad Request');
      return true;
    }
  }
  if (path.includes('//') || path.includes('/.')) {
    const clean = cleanPath(path);
    if (clean !== path) {
      redirect(req, res, 307, 'Temporary Redirect', clean + query);
      return true;
    }
  }
  if (path.length > 1 && path.endsWith('/')) {
    // OPA drops the query string here (and so must we, to send clients where OPA sends them).
    redirect(req, res, 301, 'Moved Permanently', path.replace(/\/+$/, ''));
    return true;
  }
  return false;
}

/** Go's path.Clean for URL paths, keeping a trailing slash as net/http's mux does. */
function cleanPath(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  const clean = `/${out.join('/')}`;
  return path.endsWith('/') && clean !== '/' ? `${clean}/` : clean;
}

/** Like Go's http.Redirect: a short HTML body for GET and HEAD, none otherwise. */
function redirect(req: IncomingMessage, res: ServerResponse, status: number, text: string, location: string): void {
  if (req.method === 'GET' || req.method === 'HEAD') {
    res.writeHead(status, { Location: location, 'Content-Type': 'text/html; charset=utf-8' });
    res.end(req.method === 'GET' ? `<a href="${location.replace(/&/g, '&amp;').replace(/"/g, '&#34;').replace(/</g, '&lt;')}">${text}</a>.\n\n` : undefined);
  } else {
    res.writeHead(status, { Location: location });
    res.end();
  }
  req.resume();
}
