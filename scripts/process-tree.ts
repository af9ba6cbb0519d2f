// A server's processes (it and every descendant: cluster workers) and the CPU time they have used, read from
// Linux's /proc. Benchmarks divide that CPU time by the requests served: a figure that, unlike requests per
// second, does not depend on how much of a shared machine's CPU the server happened to get.
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on every Linux build in use). */
const ticksPerSecond = 100;

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return ''; // the process ended meanwhile, or this is not Linux
  }
}

function list(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** The pids of `pid` and all its descendants. */
export function processTree(pid: number): number[] {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) {
    for (const task of list(`/proc/${pids[i]}/task`)) {
      const children = read(`/proc/${pids[i]}/task/${task}/children`).trim();
      if (children) pids.push(...children.split(/\s+/).map(Number));
    }
  }
  return pids;
}

/** CPU seconds (user + system, every thread) used so far by one process; undefined when it cannot be read. */
export function processCpuSeconds(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** CPU seconds used so far by `pid` and its descendants; undefined off Linux. */
export function treeCpuSeconds(pid: number): number | undefined {
  const each = processTree(pid).map(processCpuSeconds).filter((s) => s !== undefined);
  return each.length ? each.reduce((a, b) => a + b, 0) : undefined;
}

/** CPU nanoseconds the calling thread has run so far (schedstat counts nanoseconds, where stat counts ticks). */
export function callingThreadCpuNs(): number {
  return Number(read('/proc/thread-self/schedstat').split(' ')[0]);
}

/** CPU nanoseconds each thread of a process has run so far, by thread id; empty off Linux. */
export function threadsCpuNs(pid: number | 'self'): Map<string, number> {
  const times = new Map<string, number>();
  for (const tid of list(`/proc/${pid}/task`)) {
    const schedstat = read(`/proc/${pid}/task/${tid}/schedstat`);
    if (schedstat) times.set(tid, Number(schedstat.split(' ')[0])); // else it ended between the listing and the read
  }
  return times;
}
