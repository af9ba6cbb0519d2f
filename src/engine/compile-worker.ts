// The entry of the compile thread (compile-thread.ts): the server's default compiler, answering each request
// in turn on the thread's channel.
import { parentPort } from 'node:worker_threads';
import { compileErrorToWire } from './compile-error.js';
import type { CompileAnswer, CompileRequest } from './compile-thread.js';
import { defaultCompiler } from './opa-compiler.js';

const port = parentPort!;
const compiler = defaultCompiler();
port.on('message', ({ id, modules, regoVersion }: CompileRequest) => {
  compiler.compile(modules, { regoVersion }).then(
    (result) => port.postMessage({ id, result } satisfies CompileAnswer),
    (err: Error) => port.postMessage({ id, error: compileErrorToWire(err) } satisfies CompileAnswer),
  );
});
