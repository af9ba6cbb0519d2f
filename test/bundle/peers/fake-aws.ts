// Starts test/bundle/peers/fake_aws.py (S3 that verifies SigV4 with botocore, STS, EC2/ECS metadata) on loopback.
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));

export interface FakeAwsConfig {
  /** Directory served as S3: <root>/<bucket>/<key>. */
  root: string;
  users: Record<string, { secret: string; token?: string }>;
  role_arn: string;
  web_identity_token: string;
  imds_token: string;
  ecs_token: string;
}

export interface FakeAwsEntry {
  method: string;
  path: string;
  ok: boolean;
  kind: string;
  problem?: string | null;
  access_key?: string;
  session?: string;
}

export interface FakeAws {
  url: string;
  log(): Promise<FakeAwsEntry[]>;
  close(): Promise<void>;
}

export async function startFakeAws(config: FakeAwsConfig): Promise<FakeAws> {
  execFileSync(`${repo}scripts/install-botocore.sh`, { stdio: 'inherit' });
  const child = spawn('python3', [`${repo}test/bundle/peers/fake_aws.py`, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`fake_aws.py exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  const url = `http://127.0.0.1:${port.trim()}`;
  return {
    url,
    log: async () => (await (await fetch(`${url}/_log`)).json()) as FakeAwsEntry[],
    close: () =>
      new Promise((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
