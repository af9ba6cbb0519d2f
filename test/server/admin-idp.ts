// An identity provider for admin API tests: the admin_api section that trusts its key, and tokens it signs
// with the scopes a test chooses.
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';

export class TestAdminIdp {
  private readonly keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  /** The admin_api section (YAML); `authLines` go under `auth`, indented four spaces. */
  config(authLines = ''): string {
    return `admin_api:
  auth:
    keys:
      - key: ${JSON.stringify(this.keys.publicKey.export({ type: 'spki', format: 'pem' }).toString())}
    issuer: https://idp.test/
    audience: verdict-admin
${authLines}`;
  }

  /**
   * A server configuration with a decision log in `dir` (sync: a decision is in the log when answered) and this
   * provider's admin_api; `authLines` go under `auth` (indented four spaces), `adminLines` under `admin_api` (two).
   */
  auditConfig(dir: string, authLines = '', adminLines = ''): string {
    return `
persistence_directory: ${dir}/persist
decision_logs:
  store:
    file: ${dir}/decisions.db
    durability: sync
${this.config(authLines)}${adminLines}`;
  }

  /** A token for `scope` (space-separated scopes), valid for five minutes. */
  token(scope: string, claims: Record<string, unknown> = {}): Promise<string> {
    return new SignJWT({ scope, ...claims }).setProtectedHeader({ alg: 'ES256' }).setIssuer('https://idp.test/').setAudience('verdict-admin').setExpirationTime('5m').sign(this.keys.privateKey);
  }

  async bearer(scope: string): Promise<{ Authorization: string }> {
    return { Authorization: `Bearer ${await this.token(scope)}` };
  }
}
