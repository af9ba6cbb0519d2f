// `credentials.azure_managed_identity`: a token for `resource` from Azure's instance metadata service (IMDS), or
// from App Service's identity endpoint when IDENTITY_ENDPOINT is set (with IDENTITY_HEADER), fetched for each
// request as OPA does. `endpoint` moves the service.
import { CredentialConfigError, type Send, type ServiceCredential } from './types.js';
import { answerJson } from '../../net/http-client.js';

export interface AzureManagedIdentityConfig {
  endpoint?: string;
  api_version?: string;
  resource?: string;
  object_id?: string;
  client_id?: string;
  mi_res_id?: string;
  use_app_service_msi?: boolean;
}

const timeoutMs = 5_000;

export function azureManagedIdentityCredential(config: AzureManagedIdentityConfig, ctx: { send: Send; env: NodeJS.ProcessEnv; serviceType?: string }): ServiceCredential {
  if (ctx.serviceType === 'oci') throw new CredentialConfigError('azure_managed_identity cannot be used with service type "oci"');
  let endpoint = config.endpoint;
  let appService = config.use_app_service_msi ?? false;
  if (!endpoint) {
    if (ctx.env.IDENTITY_ENDPOINT) {
      endpoint = ctx.env.IDENTITY_ENDPOINT;
      appService = true;
    } else {
      endpoint = 'http://169.254.169.254/metadata/identity/oauth2/token';
    }
  }
  const params = new URLSearchParams({ 'api-version': config.api_version || (appService ? '2019-08-01' : '2018-02-01'), resource: config.resource || 'https://storage.azure.com/' });
  if (config.object_id) params.set('object_id', config.object_id);
  if (config.client_id) params.set('client_id', config.client_id);
  if (config.mi_res_id) params.set('mi_res_id', config.mi_res_id);
  params.sort();
  const url = `${endpoint}?${params.toString()}`;
  return {
    async headers() {
      const headers: Record<string, string> = {};
      if (appService) {
        if (!ctx.env.IDENTITY_HEADER) throw new Error('azure managed identity: IDENTITY_HEADER is not set');
        headers['x-identity-header'] = ctx.env.IDENTITY_HEADER;
      } else {
        headers.metadata = 'true';
      }
      const res = await ctx.send(url, { method: 'GET', headers, timeoutMs });
      const body = answerJson<{ access_token?: unknown; error?: unknown; error_description?: unknown }>(res, () => new Error(`Azure managed identity answer from ${endpoint} (HTTP ${res.status}) is not JSON`));
      if (res.status !== 200) throw new Error(`Azure managed identity request to ${endpoint} answered HTTP ${res.status} ${String(body.error ?? '')}: ${String(body.error_description ?? '')}`);
      if (typeof body.access_token !== 'string' || !body.access_token) throw new Error(`Azure managed identity answer from ${endpoint} has no access_token`);
      return { authorization: `Bearer ${body.access_token}` };
    },
  };
}
