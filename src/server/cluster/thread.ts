// The entry of a server thread of `verdict run --workers N`: the same `verdict run` as a single-worker server,
// taking its part (owner or replica, listening descriptors) from workerData (transport.ts).
import { run } from '../../cli/run.js';
import { memberData } from './protocol.js';

await run(memberData()!.args);
