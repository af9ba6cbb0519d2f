// AWS Signature Version 4 (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html),
// the way OPA signs: the canonical request takes the raw path and query as given, every header but a few a
// proxy may rewrite, and for s3 and glacier the payload hash travels in x-amz-content-sha256. Both the
// providers.aws.sign_req builtin and the `s3_signing` service credential sign through here.
import { createHash, createHmac } from 'node:crypto';
import { escape, parseURL } from './go-url.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
}

export interface SigV4Request {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer | string;
}

/** Headers a proxy may rewrite, left out of the signature. */
const IGNORED_HEADERS = new Set(['authorization', 'user-agent', 'x-amzn-trace-id']);

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The headers to add to `request` so AWS accepts it: Authorization, host, x-amz-date, and where they apply
 * x-amz-content-sha256 and x-amz-security-token. The request's own headers are signed too.
 */
export function signV4(
  request: SigV4Request,
  options: { service: string; credentials: AwsCredentials; time: Date; disablePayloadSigning?: boolean },
): Record<string, string> {
  const { service, credentials, time } = options;
  const url = parseURL(request.url);
  const date = `${time.getUTCFullYear()}${pad(time.getUTCMonth() + 1)}${pad(time.getUTCDate())}`;
  const stamp = `${date}T${pad(time.getUTCHours())}${pad(time.getUTCMinutes())}${pad(time.getUTCSeconds())}Z`;
  const contentHash = options.disablePayloadSigning ? 'UNSIGNED-PAYLOAD' : sha256Hex(request.body);

  const awsHeaders: Record<string, string> = { host: url.host, 'x-amz-date': stamp };
  if (service === 's3' || service === 'glacier') awsHeaders['x-amz-content-sha256'] = contentHash;
  if (credentials.sessionToken) awsHeaders['x-amz-security-token'] = credentials.sessionToken;

  const toSign: Record<string, string> = { ...awsHeaders };
  for (const [k, v] of Object.entries(request.headers)) {
    if (!IGNORED_HEADERS.has(k.toLowerCase())) toSign[k.toLowerCase()] = v;
  }
  const names = Object.keys(toSign).sort();
  const canonical = [
    request.method,
    url.rawPath || escape(url.path, 'path'),
    url.rawQuery,
    ...names.map((k) => `${k}:${toSign[k]}`),
    '',
    names.join(';'),
    contentHash,
  ].join('\n');
  const scope = `${date}/${credentials.region}/${service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${stamp}\n${scope}\n${sha256Hex(canonical)}`;
  let key = hmac(`AWS4${credentials.secretAccessKey}`, date);
  for (const part of [credentials.region, service, 'aws4_request']) key = hmac(key, part);
  const signature = hmac(key, stringToSign).toString('hex');
  return {
    Authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope},SignedHeaders=${names.join(';')},Signature=${signature}`,
    ...awsHeaders,
  };
}
