// A service whose settings cannot work is a configuration error, named by the service and the setting, not a
// failed request: start-up and discovery report it as configuration (ConfigError), and logs carry its name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/config.js';
import { HttpRequestError } from '../../src/net/http-client.js';
import { normaliseServices, ServiceClient, ServiceConfigError, type ServiceConfig } from '../../src/bundle/service.js';

function refusal(make: () => unknown): Error {
  try {
    make();
  } catch (err) {
    return err as Error;
  }
  assert.fail('expected the service settings to be refused');
}

test('a bad URL, type, TLS file or credential setting is a ServiceConfigError naming the service and setting', () => {
  const cases: [ServiceConfig, RegExp][] = [
    [{ name: 'cp', url: 'ftp://example.com' }, /^service cp: url "ftp:\/\/example.com" is not http\(s\)$/],
    [{ name: 'cp', url: 'http://example.com', type: 'grpc' }, /^service cp: type "grpc" is not a service type/],
    [{ name: 'cp', url: 'http://example.com', credentials: { bearer: { token: 't' }, s3_signing: {} } }, /^service cp: at most one credential method may be set, not bearer and s3_signing$/],
    [{ name: 'cp', url: 'http://example.com', credentials: { client_tls: { cert: '/nonexistent/cert.pem', private_key: '/nonexistent/key.pem' } } }, /^service cp: .*\/nonexistent\/cert\.pem/],
  ];
  for (const [config, message] of cases) {
    const err = refusal(() => new ServiceClient(config));
    assert.ok(err instanceof ServiceConfigError && err instanceof ConfigError, `${err.name}: ${err.message}`);
    assert.ok(!(err instanceof HttpRequestError));
    assert.equal(err.name, 'ServiceConfigError');
    assert.match(err.message, message);
  }
  const unnamed = refusal(() => normaliseServices([{ url: 'https://c' } as ServiceConfig]));
  assert.ok(unnamed instanceof ServiceConfigError, unnamed.name);
  assert.match(unnamed.message, /services\[0\] has no name/);
});
