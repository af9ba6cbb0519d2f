// data.system as `opa run --server` answers it: the running build at data.system.version, and
// data.system.bundles only while some bundle is active (bundles given with -b, with and without a manifest; one
// downloaded from a service; none at all). The version's number is each server's own, so it is compared as a
// placeholder.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../eventually.js';
import { send, startOpa, startVerdict, writeTree, type OpaServer } from './harness.js';
import { TestBundleServer } from '../bundle/bundle-server.js';
import { writeBundleArchive } from '../../src/bundle/files.js';
import type { RunningServer } from '../../src/server/start.js';
import { verdictVersion } from '../../src/version.js';

const requests = [
  ['GET', '/v1/data/system', undefined],
  ['GET', '/v1/data/system/version', undefined],
  ['GET', '/v1/data/system/bundles', undefined],
  ['GET', '/v1/data', undefined],
  ['POST', '/v1/data/system', '{"input":{}}'],
  ['POST', '/v1/data/system/version', '{}'],
  ['POST', '/v1/data', '{"input":{}}'],
] as const;

/** The answer without Verdict's decision id, and with each server's version number as a placeholder. */
const comparable = (text: string, version: string) => text.replace(/"decision_id":"[^"]*",?/, '').replaceAll(`"version":"${version}"`, '"version":"<version>"');

const setups: [string, Record<string, string> | undefined][] = [
  ['a bundle directory with a manifest', { '.manifest': JSON.stringify({ revision: 'sys-1', roots: ['app'] }), 'app/policy.rego': 'package app\n\nallow := true\n' }],
  ['a bundle directory without a manifest', { 'app/policy.rego': 'package app\n\nallow := true\n' }],
  ['no bundle', undefined],
];

for (const [what, files] of [...setups, ['a bundle from a service', 'service'] as const]) {
  describe(`data.system with ${what}`, () => {
    let opa: OpaServer;
    let verdict: RunningServer;
    let opaVersion: string;
    let service: TestBundleServer | undefined;

    before(async () => {
      let configText = '{}';
      if (files === 'service') {
        service = await TestBundleServer.start();
        service.setBundle('app', await writeBundleArchive([
          { path: '.manifest', data: Buffer.from(JSON.stringify({ revision: 'svc-1', roots: ['app'] })) },
          { path: 'app/policy.rego', data: Buffer.from('package app\n\nallow := true\n') },
        ]));
        configText = JSON.stringify({ services: { s: { url: service.url } }, bundles: { app: { service: 's', resource: 'bundles/app' } } });
      }
      const config = writeTree({ 'config.yaml': `${configText}\n` });
      const bundles = files && files !== 'service' ? [writeTree(files)] : [];
      [opa, verdict] = await Promise.all([startOpa(`${config}/config.yaml`, bundles), startVerdict(configText, bundles)]);
      // A downloaded bundle activates after start-up.
      const active = async (url: string) => (await send(url, 'GET', '/v1/data/app/allow')).body.toString().includes('true');
      if (service) await eventually('both servers activate the bundle', async () => (await active(opa.url)) && (await active(verdict.url)));
      opaVersion = (JSON.parse((await send(opa.url, 'GET', '/v1/data/system/version')).body.toString()) as { result: { version: string } }).result.version;
    });

    after(async () => {
      await Promise.all([opa?.stop(), verdict?.close()]);
      await service?.close();
    });

    for (const [method, path, body] of requests) {
      it(`${method} ${path} answers as OPA does`, async () => {
        const [theirs, ours] = await Promise.all([send(opa.url, method, path, body), send(verdict.url, method, path, body)]);
        assert.equal(ours.status, theirs.status, ours.body.toString());
        assert.equal(comparable(ours.body.toString(), verdictVersion), comparable(theirs.body.toString(), opaVersion));
      });
    }
  });
}
