// Asks a running server (Verdict or the reference OPA) for data.authz.allow until a downloaded bundle is active.
import { send } from '../server/harness.js';

export async function decideOnceLoaded(url: string, user: string): Promise<unknown> {
  for (let i = 0; i < 200; i++) {
    const body = JSON.parse((await send(url, 'POST', '/v1/data/authz/allow', JSON.stringify({ input: { user } }))).body.toString()) as { result?: unknown };
    if (body.result !== undefined) return body;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${url} never activated the bundle`);
}
