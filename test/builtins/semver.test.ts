import { agreesWithOpa } from './differential.js';

const versions = ['1.0.0', 'v1.2.3', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0+build.5', '01.0.0', '1.0', '1.0.0-01'];

agreesWithOpa('semver.* host builtins', [
  ...versions.map((v) => ({ fn: 'semver.is_valid', args: [v] })),
  { fn: 'semver.is_valid', args: [7] },
  ...versions.slice(0, 8).flatMap((a, i) => versions.slice(0, 8).filter((_, j) => j !== i && (i + j) % 3 === 0).map((b) => ({ fn: 'semver.compare', args: [a, b] }))),
  { fn: 'semver.compare', args: ['1.0.0', 'nope'], fails: true },
]);
