import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicy } from '../../src/engine/wasm-host.js';
import { hostBuiltins } from '../../src/builtins/index.js';
import { compilePlan } from '../../src/wasm/compile.js';
import { opaBinary, planFor } from './plan-helper.js';

// Natively implemented builtins, checked against the reference OPA's Go interpreter (`opa eval`), under Verdict's
// host: sprintf's %q is left to the host's sprintf (the SDK's own would answer it otherwise).
const policy = `package nb
import rego.v1

sprintf_cases := [
  sprintf("%s|%d|%v|%5d|%-5d|%05d|%+d|%x|%X|%o|%b|%q", ["a", 42, [1, "b", {"c": true}], 7, 7, -7, 3, 255, 255, 8, 5, "q\\"t"]),
  sprintf("%f|%.2f|%8.3f|%e|%.3e|%g|%v|%v|%v", [3.14159, 2.675, -1.5, 123456.789, 0.00012, 1e21, 0.1, 100.0, 1e-7]),
  sprintf("%s %d", ["only"]),
  sprintf("%d", ["str"]),
  sprintf("%s", [123456789123456789123]),
  sprintf("%v and %v", [{"k": [1, 2]}, {1, 2}]),
  sprintf("%.3s|%5s|%-5s|", ["abcdef", "ab", "ab"]),
  sprintf("%v %v %v %v %v", [9223372036854775807 + 1, abs(-9223372036854775808), 1e30 + 1, 28857836529306024611913 * -3, bits.lsh(9223372036854775807, 1)]),
  sprintf("%v %v", [-9223372036854775808 - 1, 18446744073709551616 - 18446744073709551615]),
  sprintf("%v|%v|%v|%v|%f|%e|%G|%E|%+v|%+d|% v", [-1.5, 123456789.5, 1234567.5, 123456.5, -0.0, -0.0, 1e-7, 1.5, 2.5, 3, 4.5]),
  sprintf("%v|%.2f|%+f|%T|%T|%T|%T|%d", [-0.0, -0.0, -0.0, 1, 1.5, "s", [1], -2.5]),
  sprintf("%q|%v|%v|%f|%T|%+v|%G", ["host", -1.5, 123456789.5, -0.0, 1, 2.5, 1e-7]),
  # A verb that does not fit its operand: the operand under %v with the directive's flags, width and precision.
  sprintf("%.2f|%5f|%-5f|%05s|%+s|%.2s|%8.3d|%05f|% s|%10z|%.1d|%06.2s|%.0z|%5.1t|%05s|%T", ["a,b", "ab", "ab", 3, 3, 3.14159, 2.5, "ab", 3, 7, [1, 2], -2.5, -1.5, 12345678901234567890123, "ab", 12345678901234567890123]),
  # The same, formatted by the host (a %q leaves the whole call to it).
  sprintf("%.2f|%5f|%-5f|%05s|%+s|%.2s|%8.3d|%05f|% s|%10z|%.1d|%06.2s|%.0z|%5.1t|%05s|%T|%q", ["a,b", "ab", "ab", 3, 3, 3.14159, 2.5, "ab", 3, 7, [1, 2], -2.5, -1.5, 12345678901234567890123, "ab", 12345678901234567890123, "host"]),
  # An integer's precision is its least number of digits, in the runtime and in the host.
  sprintf("%.3d|%08.3d|%.0d|%.2f|%.0v|%-6.3x|%+.3d|%.3s|%06d", [7, 7, 0, 0, 0, 255, 5, 12, -42]),
  sprintf("%.3d|%08.3d|%.0d|%.2f|%.0v|%-6.3x|%+.3d|%.3s|%06d|%q", [7, 7, 0, 0, 0, 255, 5, 12, -42, "host"]),
  # Ties round to the even digit, in the runtime and in the host (whose JavaScript rounds them up).
  sprintf("%.1f|%.2g|%.1e|%.0f|%.2v|%.0f|%f|%.3e", [0.25, 2.25, 1.25, 2.5, 0.125, 0.5, 1e21, -1.5e22]),
  sprintf("%.1f|%.2g|%.1e|%.0f|%.2v|%.0f|%e|%f|%.3e|%q", [0.25, 2.25, 1.25, 2.5, 0.125, 0.5, 5e-324, 1e21, -1.5e22, "host"]),
]

decimal_order := [
  28857836529306024611913 > 28857836529306024611912, 0.1234567890123456789 > 0.1234567890123456788,
  1e400 > 1e399, 1e-400 > 0, 3.50 == 3.5, 1e2 == 100,
]

glob_cases := [
  glob.match("*.example.com", ["."], "api.example.com"),
  glob.match("*.example.com", ["."], "a.b.example.com"),
  glob.match("**.example.com", ["."], "a.b.example.com"),
  glob.match("/v1/**", ["/"], "/v1/projects/x/builds"),
  glob.match("/v1/*/builds", ["/"], "/v1/projects/x/builds"),
  glob.match("{a,b}*.txt", [], "bcd.txt"),
  glob.match("[a-c]?[!x]", [], "bzy"),
  glob.match("[a-c]?[!x]", [], "bzx"),
  glob.match("a\\\\*b", [], "a*b"),
  glob.match("*", null, "a.b/c"),
]

net_cases := [
  net.cidr_contains("10.0.0.0/8", "10.1.2.3"),
  net.cidr_contains("10.0.0.0/8", "11.1.2.3"),
  net.cidr_contains("10.0.0.0/8", "10.1.0.0/16"),
  net.cidr_contains("2001:db8::/32", "2001:db8:1::1"),
  net.cidr_contains("::/0", "1.2.3.4"),
  net.cidr_intersects("192.168.1.0/24", "192.168.0.0/16"),
  net.cidr_intersects("192.168.1.0/24", "10.0.0.0/8"),
]

string_cases := [
  concat("/", ["a", "b"]), indexof("héllo", "l"), substring("héllo", 1, 3), trim("xxhixx", "x"),
  trim_space("  a b \\t"), split("a,b,,c", ","), replace("aaa", "a", "b"), strings.reverse("héllo"),
  strings.replace_n({"a": "1", "ab": "2"}, "abab"), upper("abc"), lower("ABC"), format_int(255, 16),
  format_int(-7.9, 2), to_number("12.5"), base64.encode("hello?"), base64url.encode("hello?"),
  base64.decode("aGVsbG8/"), count("héllo"), startswith("abc", "ab"), endswith("abc", "bc"),
  $"t {1 + 1} {[1, "x"]} {input.missing} {"raw"}",
]

number_cases := [
  1 + 2, 7 / 2, 6 / 3, 7 % 3, -7 % 3, 2.5 * 4, round(2.5), round(-2.5), ceil(1.2), floor(-1.2), abs(-3),
  sum([1, 2.5]), product([2, 3]), max([1, 3, 2]), min(["b", "a"]), bits.and(12, 10), bits.lsh(1, 4),
  numbers.range(3, 1), 9223372036854775807 - 1, 0.5 + 0.25,
]

collection_cases := [
  object.get({"a": {"b": 1}}, ["a", "b"], 0), object.remove({"a": 1, "b": 2}, ["a"]),
  object.union({"a": {"b": 1}}, {"a": {"c": 2}}), array.slice([1, 2, 3, 4], 1, 3),
  json.filter({"a": {"b": 1, "c": 2}, "d": 3}, ["a/b"]), json.remove({"a": {"b": 1, "c": 2}, "d": 3}, ["a/b", "d"]),
  graph.reachable({"a": ["b"], "b": ["c"], "c": [], "d": ["a"]}, ["a"]), [p | walk({"x": [1]}, [p, _])],
  json.marshal({"b": [1, "<"], "a": null}), json.unmarshal("{\\"a\\": [1, 2.50]}"), {1, 2} & {2, 3}, {1, 2} | {3},
  {1, 2} - {2}, sort([3, 1, 2]), type_name({}), is_number(1),
]
`;

function opaEval(query: string): unknown {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-nb-'));
  try {
    writeFileSync(join(dir, 'p.rego'), policy);
    const out = execFileSync(opaBinary(), ['eval', '--format', 'json', '-d', join(dir, 'p.rego'), query], { encoding: 'utf8' });
    return (JSON.parse(out) as { result: { expressions: { value: unknown }[] }[] }).result[0]!.expressions[0]!.value;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const groups = ['decimal_order', 'sprintf_cases', 'glob_cases', 'net_cases', 'string_cases', 'number_cases', 'collection_cases'];

test('native builtins give what the reference OPA interpreter gives', async () => {
  const mod = await loadPolicy(compilePlan(planFor(policy, groups.map((g) => `nb/${g}`))), hostBuiltins);
  for (const g of groups) {
    const ours = (JSON.parse(mod.evaluateToText({}, `nb/${g}`, 'json')) as { result: unknown }[])[0]!.result;
    const theirs = opaEval(`data.nb.${g}`);
    assert.deepEqual(ours, theirs, g);
  }
});
