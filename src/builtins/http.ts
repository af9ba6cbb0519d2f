// http.send: answered from the running decision's HttpSendSession (see http-send/session.ts for how a
// synchronous builtin gets responses that need the network). Only an evaluation started by the engine's
// evaluate-fetch-reevaluate loop (src/engine/http-send-loop.ts) has a session.
import { HttpSendError } from './http-send/request.js';
import { currentSession } from './http-send/session.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

export const httpBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'http.send',
    decl: fn([arg('request', t.objectOf(t.string, t.any))], arg('response', t.objectOf(t.any, t.any))),
    nondeterministic: true,
    host: (request: unknown) => {
      const session = currentSession();
      if (!session) throw new HttpSendError('eval_builtin_error', 'no decision in progress: http.send is only available to evaluations run by the Verdict engine');
      return session.answer(request);
    },
  },
];
