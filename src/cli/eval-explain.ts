// `verdict eval --explain=notes|fails|full|debug`: the explanation of the query beside its result, printed as
// `opa eval --explain` prints it (JSON events under "explanation", or text lines before the pretty result).
import { verdictCompileCapabilities, type CompileCapabilities } from './capabilities-flag.js';
import { explain, evalExplanationJson, explanationText, type ExplainMode } from '../compiler/explain/index.js';
import { loadPaths } from './load.js';
import { readEvalInput } from './eval-input.js';

export interface ExplainInputs {
  dataPaths: string[];
  inputFile?: string;
  inputText?: string;
  query: string;
  regoVersion: 'v0' | 'v1';
  ignore?: string[];
  capabilities?: CompileCapabilities;
}

/** The explanation in the output format: JSON events, or the text form's lines. Throws ExplainUnsupported. */
export async function explainEval(inputs: ExplainInputs, mode: ExplainMode, format: 'json' | 'pretty'): Promise<unknown[] | string[]> {
  const { modules, data } = await loadPaths(inputs.dataPaths, { ignore: inputs.ignore });
  const input = await readEvalInput(inputs);
  const events = explain(modules, { query: inputs.query, input, data }, mode, { ...(inputs.capabilities ?? verdictCompileCapabilities), regoVersion: inputs.regoVersion });
  return format === 'json' ? evalExplanationJson(events) : explanationText(events);
}
