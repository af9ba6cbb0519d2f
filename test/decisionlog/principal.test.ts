// Who a decision was about (principal.ts): the default sources are read by a function of their own, which must name
// the same principal as the general reader of any source list gives for them, for every shape an input may take.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPrincipalSources, principalExtractor } from '../../src/decisionlog/principal.js';
import type { DecisionEvent } from '../../src/decisionlog/event.js';
import { sampleEvent } from './helpers.js';

/** An unverified JWT whose claims are `claims`. */
function jwt(claims: unknown): string {
  return ['{"alg":"none"}', JSON.stringify(claims), 'sig'].map((part, i) => (i === 2 ? part : Buffer.from(part).toString('base64url'))).join('.');
}

const envoy = (authorization: unknown) => ({ attributes: { request: { http: { headers: { authorization } } } } });
/** An object whose prototype, not the object itself, holds `members`. */
const inheriting = (members: Record<string, unknown>) => Object.assign(Object.create(members) as Record<string, unknown>, { other: 1 });

const inputs: unknown[] = [
  undefined,
  null,
  'alice',
  7,
  ['alice'],
  {},
  { subject: { id: 'alice' }, user: { id: 'bob' }, principal: 'carol' },
  { subject: { id: '' }, user: { id: 'bob' } },
  { subject: { id: 42 } },
  { subject: { id: Number.NaN }, user: 'dave' },
  { subject: { id: Infinity }, user: { id: 0 } },
  { subject: 'alice', user: ['bob'], principal: { id: 'x' } },
  { subject: ['alice'], user: { id: ['bob'] }, principal: 12.5 },
  { subject: null, user: null, principal: null },
  { user: { name: 'erin' }, principal: 'frank' },
  { user: 'grace', principal: 'heidi' },
  inheriting({ subject: { id: 'inherited' }, user: 'inherited', principal: 'inherited' }),
  { subject: inheriting({ id: 'inherited' }), principal: 'own' },
  envoy(`Bearer ${jwt({ sub: 'ivan' })}`),
  envoy(`bearer   ${jwt({ sub: 'judy' })}  `),
  envoy(jwt({ sub: '' })),
  envoy(jwt({ iss: 'no-subject' })),
  envoy('not a token'),
  envoy(12),
  { attributes: { request: { http: { headers: inheriting({ authorization: jwt({ sub: 'inherited' }) }) } } } },
  { attributes: [{ request: {} }], principal: 'kate' },
  { attributes: { request: { http: 'headers' } }, user: { id: 'leo' } },
  { ...envoy(jwt({ sub: 'mallory' })), principal: 'first' },
];

test('the default sources name the principal the general reader names, for inputs of every shape', () => {
  const defaults = principalExtractor();
  // The defaults and one more source that no input has: read by the general reader, answering as the defaults would.
  const general = principalExtractor([...defaultPrincipalSources, { path: 'input.no_such_member' }]);
  const given = principalExtractor(defaultPrincipalSources.map((source) => ({ ...source })));
  for (const [i, input] of inputs.entries()) {
    const event: DecisionEvent = input === undefined ? sampleEvent() : sampleEvent({ input });
    if (input === undefined) delete event.input;
    assert.equal(defaults(event), general(event), `input ${i}`);
    assert.equal(given(event), general(event), `input ${i}, the defaults given in the configuration`);
  }
  // The answers themselves, so that the two readers cannot agree on nothing.
  const named = inputs.map((input) => (input === undefined ? undefined : defaults(sampleEvent({ input }))));
  assert.deepEqual(named.slice(6, 16), ['alice', 'bob', '42', 'dave', '0', undefined, '12.5', undefined, 'frank', 'grace']);
  assert.deepEqual(named.slice(16, 28), [undefined, 'own', 'ivan', 'judy', undefined, undefined, undefined, undefined, undefined, 'kate', 'leo', 'first']);
});
