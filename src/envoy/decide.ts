// The decision function the engine provides and every PEP adapter consumes (shared contract, BRIEF.md).
// path is a slash-separated document path such as "envoy/authz/allow"; an absent result means undefined.
export type Decide = (path: string, input: unknown) => Promise<{ result?: unknown; decisionId?: string }>;
