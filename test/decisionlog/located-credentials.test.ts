// The decision path's inputs: the JSON reader that parses a request's body locates the members named like credential
// headers, and the log cuts them from the body's own bytes (locatedCredentialCuts) instead of searching the text
// again (eraseCredentialsInJson). Both ways must store the same bytes: request bodies made at random, with headers
// objects at any depth, names in every case and spelled with escapes, repeated members, credentials inside
// credentials, numbers beyond a double, any layout, are stored both ways and compared byte for byte. Both ways
// share the rule that turns located members into cuts: what the reader and the search locate is compared too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEnvelope } from '../../src/server/body.js';
import { storedEventJson, type StoredJsonOptions } from '../../src/decisionlog/stored-json.js';
import { credentialMembersIn, eraseCredentialsInJson } from '../../src/decisionlog/credentials.js';
import { formatTimestamp, newDecisionId, nowNs, type DecisionEvent } from '../../src/decisionlog/event.js';
import { prng } from '../../scripts/fuzz/prng.js';

/** Keys as they stand between the quotes of a body: credential names in several cases and escapes, and others. */
const keys = [
  'headers',
  'Headers',
  'HEADERS',
  'h\\u0065aders',
  'authorization',
  'Authorization',
  'AUTHORIZATION',
  'Auth\\u006frization',
  'proxy-authorization',
  'Proxy-Authorization',
  'cookie',
  'Cookie',
  'Coo\\u212Aie',
  'set-cookie',
  'Set-Cookie',
  'accept',
  'x-request-id',
  'a b',
  'quote\\"d',
  'caf\u00e9',
];
const scalars = ['"Bearer s3cr3t"', '"session=s3cr3t"', '""', '"a\\"b\\\\c"', '"caf\u00e9 \u65e5"', '0', '-1.50', '12345678901234567890123', '1e-7', 'true', 'false', 'null'];
const spaces = ['', '', ' ', '\n  ', '\t'];

function pick<T>(next: () => number, from: readonly T[]): T {
  return from[Math.floor(next() * from.length)];
}

/** A JSON text, headers objects more likely than anything else. */
function text(next: () => number, depth = 0): string {
  const s = () => pick(next, spaces);
  const kind = next();
  if (depth > 4 || kind < 0.3) return pick(next, scalars);
  if (kind < 0.45) return `[${s()}${Array.from({ length: Math.floor(next() * 4) }, () => text(next, depth + 1)).join(`${s()},${s()}`)}${s()}]`;
  const members = Array.from({ length: Math.floor(next() * 5) }, () => `"${pick(next, keys)}"${s()}:${s()}${text(next, depth + 1)}`);
  return `{${s()}${members.join(`${s()},${s()}`)}${s()}}`;
}

const labels = Object.freeze({ id: 'instance', version: '0.1.0' });

/** The event recordDecision makes for the body's input, with the body reader's findings as the store gets them. */
function recorded(body: Buffer, located: boolean): { event: DecisionEvent; options: StoredJsonOptions } {
  const read = parseEnvelope(body, false, 'input');
  const input = (read.value as { input: unknown }).input;
  const event: DecisionEvent = { labels, decision_id: newDecisionId(), path: 'gateway/authz/allow', input, result: true, requested_by: '127.0.0.1:5', timestamp: formatTimestamp(nowNs()), req_id: 1 };
  const options: StoredJsonOptions = { inputBytes: read.memberText, inputCredentialFree: read.credentialFree, inputValidUtf8: read.validUtf8 };
  if (located) options.inputCredentialMembers = read.credentialMembers;
  return { event, options };
}

/** Names of headers objects' members in a stored value that are credential headers (they must never be there). */
function credentialsLeft(value: unknown, inHeaders = false): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => credentialsLeft(v));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) => {
    const here = inHeaders && ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'].includes(key.toLowerCase()) ? [key] : [];
    return [...here, ...credentialsLeft(v, key.toLowerCase() === 'headers' && !Array.isArray(v))];
  });
}

test('the reader and the search locate the same members, cut to the same bytes, for 3,000 request bodies of every make-up', () => {
  const next = prng(14);
  let located = 0;
  for (let i = 0; i < 3000; i++) {
    const body = Buffer.from(`{${pick(next, spaces)}"input":${pick(next, spaces)}${text(next)}${pick(next, spaces)}}`);
    const fast = recorded(body, true);
    const searched = recorded(body, false);
    const members = fast.options.inputCredentialMembers;
    if (members) assert.deepEqual(credentialMembersIn(fast.options.inputBytes!.toString()) ?? [], members, `body ${i}: ${body}`);
    // The same event for both, so that the id and timestamp agree.
    const event = fast.event;
    if (next() < 0.2) {
      // A mask policy's upsert of a credential header leaves it to the policy.
      const erased = eraseCredentialsInJson(fast.options.inputBytes!.toString(), 'input')?.erased;
      if (erased) event.masked = [pick(next, erased)];
    }
    const stored = storedEventJson(event, fast.options);
    assert.equal(stored, storedEventJson(event, searched.options), `body ${i}: ${body}`);
    if (fast.options.inputCredentialMembers?.length) located++;
    const parsed = JSON.parse(stored) as DecisionEvent;
    if (!event.masked) assert.deepEqual(credentialsLeft(parsed.input), [], `body ${i}: ${stored}`);
  }
  assert.ok(located > 300, `${located} bodies with located credential members`);
});

test('a credential inside a credential member goes with it: neither its text nor a pointer of its own is kept', () => {
  const input = '{"headers":{"authorization":{"x":1,"headers":{"cookie":"s3cr3t","a":1}},"b":2}}';
  for (const located of [true, false]) {
    const { event, options } = recorded(Buffer.from(`{"input":${input}}`), located);
    const stored = JSON.parse(storedEventJson(event, options)) as DecisionEvent;
    assert.deepEqual(stored.input, { headers: { b: 2 } }, `located: ${located}`);
    assert.deepEqual(stored.erased, ['/input/headers/authorization'], `located: ${located}`);
  }
});

test('the reader locates the credential-named members of the input only, in bytes from its text, with their paths', () => {
  const body = Buffer.from('{"cookie":1, "input": {"a":[{"Headers": {"Cookie" : "c", "x":2}}]}}');
  const read = parseEnvelope(body, false, 'input');
  assert.deepEqual(read.credentialMembers, [{ start: 19, end: 33, path: ['a', 0, 'Headers', 'Cookie'] }]);
  assert.equal(read.memberText!.subarray(19, 33).toString(), '"Cookie" : "c"');
  // Characters beyond ASCII make the offsets differ from bytes: nothing located, the log searches the text.
  assert.equal(parseEnvelope(Buffer.from('{"input": {"headers": {"caf\u00e9": 1, "cookie": 2}}}'), false, 'input').credentialMembers, undefined);
});

/** The input's text and erased as stored, the reader's located members used (`located`) or the text searched. */
function storedInput(input: string, located: boolean, masked?: string[]): { text: string; erased?: string[]; located: boolean } {
  const { event, options } = recorded(Buffer.from(`{"input":${input}}`), located);
  if (masked) event.masked = masked;
  const stored = storedEventJson(event, options);
  const text = stored.slice(stored.indexOf('"input":') + 8, stored.indexOf(',"result":true,'));
  return { text, erased: (JSON.parse(stored) as DecisionEvent).erased, located: options.inputCredentialMembers !== undefined };
}

test('edge cases, to the byte, whichever finds the members: repeated names, escapes, the Kelvin sign, first, last and only members, whitespace', () => {
  const cases: { input: string; stored: string; erased: string[]; masked?: string[] }[] = [
    // Every occurrence of a repeated name goes; each pointer is listed once.
    { input: '{"headers":{"cookie":"a","x":1,"Cookie":"b","cookie":"c"}}', stored: '{"headers":{"x":1}}', erased: ['/input/headers/cookie', '/input/headers/Cookie'] },
    // Keys are read through their escapes, "headers" too; the pointer holds the name read.
    { input: '{"h\\u0065aders":{"\\u0041uthorization":"s","x":1}}', stored: '{"h\\u0065aders":{"x":1}}', erased: ['/input/headers/Authorization'] },
    // The Kelvin sign lower-cases to k, escaped or raw (raw, the body is beyond ASCII and is searched).
    { input: '{"headers":{"Coo\\u212Aie":"s","x":1}}', stored: '{"headers":{"x":1}}', erased: ['/input/headers/Coo%E2%84%AAie'] },
    { input: '{"headers":{"x":1,"Coo\u212Aie":"s"}}', stored: '{"headers":{"x":1}}', erased: ['/input/headers/Coo%E2%84%AAie'] },
    // The only member: the object stays, empty, with its whitespace.
    { input: '{"headers": { "cookie" : "s" } ,"b":{"headers":{}}}', stored: '{"headers": {  } ,"b":{"headers":{}}}', erased: ['/input/headers/cookie'] },
    // The first or a middle member takes the comma after it; the whitespace around it stays.
    { input: '{"headers":{"cookie":"s" , "a":1}}', stored: '{"headers":{  "a":1}}', erased: ['/input/headers/cookie'] },
    { input: '{"headers":{"a":1 , "cookie":"s" ,\t"b":2}}', stored: '{"headers":{"a":1 ,  \t"b":2}}', erased: ['/input/headers/cookie'] },
    // The last members take the comma after the last member kept.
    { input: '{"headers":{"a":1 ,\n "cookie":"s" , "set-cookie":["t"]}}', stored: '{"headers":{"a":1 \n   }}', erased: ['/input/headers/cookie', '/input/headers/set-cookie'] },
    { input: '{"headers":{"a":1,"cookie":"s","b":2,"cookie":"t"}}', stored: '{"headers":{"a":1,"b":2}}', erased: ['/input/headers/cookie'] },
    // A header the mask policy upserted stays, every occurrence of it; a credential header inside its value does not.
    { input: '{"headers":{"cookie":"a","cookie":"b"}}', stored: '{"headers":{"cookie":"a","cookie":"b"}}', erased: [], masked: ['/input/headers/cookie'] },
    {
      input: '{"headers":{"authorization":{"headers":{"cookie":"s"}},"a":1}}',
      stored: '{"headers":{"authorization":{"headers":{}},"a":1}}',
      erased: ['/input/headers/authorization/headers/cookie'],
      masked: ['/input/headers/authorization'],
    },
  ];
  for (const { input, stored, erased, masked } of cases) {
    for (const located of [true, false]) {
      const got = storedInput(input, located, masked);
      assert.equal(got.located, located && !input.includes('\u212A'), `${input}: the reader located its members (${located})`);
      assert.equal(got.text, stored, `${input} (located: ${located})`);
      assert.deepEqual(got.erased ?? [], erased, `${input} (located: ${located})`);
    }
  }
});
