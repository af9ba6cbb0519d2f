// `ldap` adapter: one search per lookup over a bound, reused connection. The filter template's values are escaped
// per RFC 4515 (and per RFC 4514 first for `{param:dn}`, a value placed inside a DN inside the filter), so an
// input such as `*)(uid=*` is matched literally and can never widen the search.

import { readSettingFile } from '../setting-file.js';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Client, Entry } from 'ldapts';
import { lazyRequire } from '../../lazy-require.js';
import { openedOnFirstLookup, type JsonValue, type LookupParams, type PipAdapter, type PipAdapterKind } from '../adapter.js';
import { PipConfigError, PipLookupError } from '../errors.js';
import { parseTemplate, scalarText, type Template } from '../template.js';

/** The LDAP client, loaded when an ldap adapter is configured. */
const ldap = lazyRequire<typeof import('ldapts')>('ldapts');

interface LdapSettings {
  url: string;
  bind_dn?: string;
  bind_password?: string;
  base: string;
  scope?: 'base' | 'one' | 'sub';
  filter: string;
  attributes?: string[];
  result?: 'entries' | 'entry' | 'values';
  value_attribute?: string;
  size_limit?: number;
  tls?: { starttls?: boolean; ca_file?: string; reject_unauthorized?: boolean; servername?: string };
}

interface LdapSession {
  client: Client;
  /** False once the connection is gone, including a closed TLS socket that ldapts itself has not noticed. */
  alive(): boolean;
}

/** RFC 4515 §3: the characters that must be escaped in an assertion value, as \XX (plus NUL). */
export function escapeFilterValue(value: string): string {
  return value.replace(/[*()\\\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** RFC 4514 §2.4: escape an attribute value for use inside a distinguished name. */
export function escapeDnValue(value: string): string {
  return value
    .replace(/[\\,+"<>;=\0]/g, (c) => (c === '\0' ? '\\00' : `\\${c}`))
    .replace(/^([ #])/, '\\$1')
    .replace(/ $/, '\\ ');
}

export class LdapAdapter implements PipAdapter {
  readonly requiredParams: readonly string[];
  private readonly filter: Template;
  private readonly tls: ConnectionOptions | undefined;
  private session: Promise<LdapSession> | undefined;

  constructor(
    name: string,
    private readonly settings: LdapSettings,
    private readonly timeoutMs: number,
  ) {
    const where = `pip.adapters.${name}.settings`;
    this.filter = parseTemplate(settings.filter, `${where}.filter`, ['dn']);
    this.requiredParams = this.filter.params;
    try {
      ldap().FilterParser.parseString(this.renderFilter(Object.fromEntries(this.filter.params.map((p) => [p, 'x']))));
    } catch (err) {
      throw new PipConfigError(`${where}.filter: "${settings.filter}" is not an LDAP filter: ${(err as Error).message}`);
    }
    if (settings.result === 'values' && !settings.value_attribute) {
      throw new PipConfigError(`${where}.value_attribute: required when result is "values"`);
    }
    const t = settings.tls;
    if (t) {
      this.tls = {
        ca: t.ca_file ? readSettingFile(t.ca_file, `${where}.tls.ca_file`) : undefined,
        rejectUnauthorized: t.reject_unauthorized ?? true,
        servername: t.servername,
      };
    }
  }

  async lookup(params: LookupParams): Promise<JsonValue> {
    const filter = ldap().FilterParser.parseString(this.renderFilter(params));
    const { result = 'entries' } = this.settings;
    const attributes = this.settings.attributes ?? (result === 'values' ? [this.settings.value_attribute!] : undefined);
    let entries: Entry[];
    try {
      const client = await this.connected();
      ({ searchEntries: entries } = await client.search(this.settings.base, {
        scope: this.settings.scope ?? 'sub',
        filter,
        attributes,
        // An "entry" lookup asks for two so that an ambiguous match is an error rather than an arbitrary pick.
        sizeLimit: result === 'entry' ? 2 : (this.settings.size_limit ?? 1000),
        timeLimit: Math.max(1, Math.ceil(this.timeoutMs / 1000)),
      }));
    } catch (err) {
      throw this.failure(err);
    }
    if (result === 'entry') {
      if (entries.length > 1) throw new PipLookupError('bad_response', 'the search matched more than one entry');
      return entries.length === 1 ? toJson(entries[0]) : null;
    }
    if (result === 'values') {
      const attr = this.settings.value_attribute!;
      return entries.flatMap((e) => valuesOf(e[attrKey(e, attr)]));
    }
    return entries.map(toJson);
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.then((c) => c.client.unbind()).catch(() => undefined);
  }

  private renderFilter(params: LookupParams): string {
    return this.filter.render(params, (value, modifier) => {
      const text = scalarText(value);
      return escapeFilterValue(modifier === 'dn' ? escapeDnValue(text) : text);
    });
  }

  /** A connected, bound client; rebuilt when the connection was lost (so no search runs unauthenticated). */
  private async connected(): Promise<Client> {
    if (this.session) {
      const session = await this.session.catch(() => undefined);
      if (session?.alive()) return session.client;
      void this.close(); // not awaited: an unbind on a dead connection waits for the client timeout
    }
    const opening = this.open();
    this.session = opening;
    opening.catch(() => {
      if (this.session === opening) this.session = undefined;
    });
    return (await opening).client;
  }

  private async open(): Promise<LdapSession> {
    let tlsOpen = true;
    const client = new (ldap().Client)({
      url: this.settings.url,
      timeout: this.timeoutMs,
      connectTimeout: this.timeoutMs,
      // Only for ldaps://: given to an ldap:// client, ldapts' StartTLS upgrade fails (the server resets).
      tlsOptions: this.settings.url.startsWith('ldaps:') ? this.tls : undefined,
      // ldapts does not notice when the server closes a TLS connection (ldaps or after StartTLS): its searches
      // would wait for the timeout. Watching the TLS socket ourselves lets the next lookup reconnect at once.
      createSecureConnection: ((...args: Parameters<typeof tlsConnect>) => {
        const socket = tlsConnect(...args);
        socket.once('close', () => (tlsOpen = false));
        return socket;
      }) as typeof tlsConnect,
    });
    try {
      if (this.settings.tls?.starttls) await client.startTLS(this.tls ?? {});
      if (this.settings.bind_dn) await client.bind(this.settings.bind_dn, this.settings.bind_password ?? '');
      return { client, alive: () => tlsOpen && client.isConnected };
    } catch (err) {
      await client.unbind().catch(() => undefined);
      throw err;
    }
  }

  private failure(err: unknown): PipLookupError {
    if (err instanceof PipLookupError) return err;
    if (err instanceof ldap().ResultCodeError) {
      // ldapts names each result code by class (InvalidCredentialsError); its message is only the hex code.
      const words = err.name.replace(/Error$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
      return new PipLookupError('failed', `LDAP ${words} (result code ${err.code})`);
    }
    const e = err as { code?: string; message?: string };
    // Anything below the LDAP protocol (refused, reset, timed out) means the session is gone: start over next time.
    void this.close();
    return new PipLookupError('unavailable', `LDAP ${this.settings.url}: ${e.code ?? e.message ?? String(err)}`);
  }
}

function attrKey(entry: Entry, name: string): string {
  return Object.keys(entry).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
}

function valuesOf(value: Entry[string] | undefined): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : String(v)));
}

/** An entry as {dn, attribute: [values]}: every attribute a list, so policies need not care how many there are. */
function toJson(entry: Entry): JsonValue {
  const out: Record<string, JsonValue> = { dn: entry.dn };
  for (const [k, v] of Object.entries(entry)) if (k !== 'dn') out[k] = valuesOf(v);
  return out;
}

/** Building the adapter opens nothing: it connects and binds when the first lookup runs. */
export const ldapAdapter: PipAdapterKind = {
  prepare: (name, settings, context) => openedOnFirstLookup(new LdapAdapter(name, settings as unknown as LdapSettings, context.timeoutMs)),
};
