// Checks the Dockerfile where no container engine runs: lints it, then performs its steps in clean
// directories and starts the result the way the image would.
//   node scripts/check-image.mjs
// Lint: base images pinned to a tag, no ADD, apt lists removed after install, every COPY source present, a
// non-root numeric USER, a HEALTHCHECK, ENTRYPOINT and CMD in exec form.
// Steps: the build stage's COPY and RUN lines run in an empty directory (apt-get lines are skipped and printed:
// they install compilers the host already has); the runtime stage's COPY --from=build lines lay out a root
// directory; its RUN line (user creation, a symlink) is checked by the lint instead. Then the ENTRYPOINT and CMD
// start with /opt/verdict mapped into that root, the application tree read-only, the working directory the only
// writable place, as uid 10001 when run as root, on a loopback port instead of 0.0.0.0:8181. The HEALTHCHECK
// command must pass, a decision must be answered and logged, and nothing may be written outside the working
// directory.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const appUid = 10001;

function parseDockerfile(text) {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages = [];
  for (const line of lines) {
    const [, keyword, rest] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (!keyword) throw new Error(`Dockerfile: cannot read line "${line}"`);
    const instruction = { keyword: keyword.toUpperCase(), args: rest };
    if (instruction.keyword === 'FROM') {
      const [, image, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest) ?? [];
      stages.push({ image, name, instructions: [] });
    } else {
      if (stages.length === 0) throw new Error(`Dockerfile: ${keyword} before FROM`);
      stages.at(-1).instructions.push(instruction);
    }
  }
  return stages;
}

const execForm = (args) => {
  try {
    const parsed = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
};

function lint(stages) {
  const problems = [];
  for (const stage of stages) {
    if (!/^[^:@\s]+(:[^:\s]+|@sha256:[0-9a-f]{64})$/.test(stage.image) || stage.image.endsWith(':latest')) problems.push(`FROM ${stage.image}: pin the base image to a tag or digest`);
    for (const { keyword, args } of stage.instructions) {
      if (keyword === 'ADD') problems.push(`ADD ${args}: use COPY`);
      if (keyword === 'RUN' && /apt-get install/.test(args) && !(/--no-install-recommends/.test(args) && /rm -rf \/var\/lib\/apt\/lists/.test(args))) problems.push(`RUN ${args}: install with --no-install-recommends and remove /var/lib/apt/lists`);
      if (keyword === 'COPY' && !args.startsWith('--from=')) {
        for (const source of args.split(/\s+/).slice(0, -1)) if (!existsSync(join(repo, source))) problems.push(`COPY ${source}: not in the repository`);
      }
    }
  }
  const final = stages.at(-1).instructions;
  const last = (keyword) => final.filter((i) => i.keyword === keyword).at(-1);
  const user = last('USER');
  if (!user || !/^[1-9]\d*(:[1-9]\d*)?$/.test(user.args)) problems.push('the final stage must end as a numeric non-root USER');
  if (!last('HEALTHCHECK')) problems.push('the final stage has no HEALTHCHECK');
  for (const keyword of ['ENTRYPOINT', 'CMD']) if (!last(keyword) || !execForm(last(keyword).args)) problems.push(`${keyword} must be in exec form (a JSON array)`);
  if (problems.length > 0) throw new Error(`Dockerfile lint:\n  ${problems.join('\n  ')}`);
}

/** Generated and local directories a COPY from the repository leaves out (.dockerignore lists them too). */
const ignored = (p) => !/\/(node_modules|dist|\.tools|\.verdict|\.git)(\/|$)/.test(p.slice(repo.length));

/**
 * A COPY line's sources and destination, copied as Docker copies them: a directory's contents into the
 * destination, a file to the destination, or into it when it ends with / or several sources are given.
 */
function copySources(fromRoot, args, root, workdir, filter) {
  const parts = args.split(/\s+/);
  const dest = parts.pop();
  const target = dest.startsWith('/') ? join(root, dest) : join(workdir, dest);
  for (const source of parts) {
    const from = join(fromRoot, source);
    const into = !statSync(from).isDirectory() && (dest.endsWith('/') || parts.length > 1);
    const to = into ? join(target, source.split('/').pop()) : target;
    mkdirSync(dirname(to), { recursive: true });
    cpSync(from, to, { recursive: true, ...(filter ? { filter } : {}) });
  }
}

function freePort() {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

async function main() {
  const stages = parseDockerfile(readFileSync(join(repo, 'Dockerfile'), 'utf8'));
  lint(stages);
  console.log(`Dockerfile lint: ${stages.length} stages, no problems`);
  const [build, runtime] = [stages.find((s) => s.name === 'build'), stages.at(-1)];
  if (!build || build === runtime) throw new Error('Dockerfile: expected a stage named "build" and a runtime stage after it');

  const scratch = mkdtempSync(join(tmpdir(), 'verdict-image-'));
  chmodSync(scratch, 0o755);
  try {
    const buildRoot = join(scratch, 'build');
    let workdir = buildRoot;
    const env = { ...process.env, npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr' };
    for (const { keyword, args } of build.instructions) {
      if (keyword === 'WORKDIR') workdir = join(buildRoot, args), mkdirSync(workdir, { recursive: true });
      else if (keyword === 'COPY') copySources(repo, args, buildRoot, workdir, ignored);
      else if (keyword === 'RUN' && args.startsWith('apt-get')) console.log(`skipped (the host provides these): RUN ${args}`);
      else if (keyword === 'RUN') {
        console.log(`RUN ${args}`);
        execFileSync('sh', ['-c', args], { cwd: workdir, env, stdio: 'inherit' });
      }
    }
    const buildWorkdir = workdir;

    const root = join(scratch, 'root');
    workdir = root;
    const runtimeEnv = { PATH: process.env.PATH, HOME: '/nonexistent' };
    for (const { keyword, args } of runtime.instructions) {
      if (keyword === 'WORKDIR') workdir = join(root, args);
      else if (keyword === 'ENV') {
        const [, name, value] = /^(\S+?)[=\s]+(.*)$/.exec(args);
        runtimeEnv[name] = value;
      } else if (keyword === 'COPY') {
        const [, fromStage, rest] = /^--from=(\S+)\s+(.*)$/.exec(args) ?? [];
        if (fromStage !== 'build') throw new Error(`runtime COPY must come from the build stage: COPY ${args}`);
        copySources(buildRoot, rest, root, workdir);
      } else if (keyword === 'RUN') console.log(`not run here (system users and a symlink; checked by the lint): RUN ${args}`);
    }
    const appDir = join(root, 'opt/verdict');
    execFileSync('chmod', ['-R', 'a-w,a+rX', appDir]);
    mkdirSync(workdir, { recursive: true, mode: 0o700 });
    chmodSync(workdir, 0o700);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(workdir, appUid, appUid);
    else console.log(`not root: the server runs as uid ${process.getuid?.()} instead of ${appUid}`);
    for (let dir = dirname(workdir); dir.startsWith(scratch); dir = dirname(dir)) chmodSync(dir, 0o755);
    const appMtime = newestMtime(appDir);

    const port = await freePort();
    const mapPath = (arg) => arg.replaceAll('/opt/verdict', appDir).replace('0.0.0.0:8181', `127.0.0.1:${port}`);
    const command = [...execForm(runtime.instructions.findLast((i) => i.keyword === 'ENTRYPOINT').args), ...execForm(runtime.instructions.findLast((i) => i.keyword === 'CMD').args)].map(mapPath);
    if (command[0] === 'node') command[0] = process.execPath;
    console.log(`start: ${command.join(' ')} (cwd ${workdir})`);
    const child = spawn(command[0], command.slice(1), { cwd: workdir, env: runtimeEnv, stdio: ['ignore', 'inherit', 'inherit'], ...(asRoot ? { uid: appUid, gid: appUid } : {}) });
    try {
      const healthcheck = runtime.instructions.findLast((i) => i.keyword === 'HEALTHCHECK').args;
      const probe = execForm(healthcheck.slice(healthcheck.indexOf('CMD') + 3).trim()).map((a) => a.replace('127.0.0.1:8181', `127.0.0.1:${port}`));
      if (probe[0] === 'node') probe[0] = process.execPath;
      let healthy = false;
      for (let i = 0; i < 150 && !healthy && child.exitCode === null; i++) {
        try {
          execFileSync(probe[0], probe.slice(1), { stdio: 'ignore', ...(asRoot ? { uid: appUid, gid: appUid } : {}) });
          healthy = true;
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      if (!healthy) throw new Error(`the HEALTHCHECK command never passed (server exit code ${child.exitCode})`);
      console.log('HEALTHCHECK passed');
      const response = await fetch(`http://127.0.0.1:${port}/v1/data`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":{}}' });
      const body = await response.json();
      if (response.status !== 200 || typeof body.decision_id !== 'string') throw new Error(`POST /v1/data answered ${response.status} ${JSON.stringify(body)}`);
      const database = join(workdir, '.verdict/decisions.db');
      const mode = statSync(database).mode & 0o777;
      if (mode !== 0o600) throw new Error(`${database} has mode ${mode.toString(8)}, expected 600`);
      if (newestMtime(appDir) !== appMtime) throw new Error('the server wrote inside the application directory');
      console.log(`decision ${body.decision_id} answered and logged in ${database.slice(scratch.length)} (mode 600); the application tree stayed read-only`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r()));
    }
    if (!existsSync(join(buildWorkdir, 'dist/src/main.js'))) throw new Error('the build stage produced no dist/src/main.js');
    console.log('image steps: passed');
  } finally {
    execFileSync('chmod', ['-R', 'u+w', scratch]);
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
