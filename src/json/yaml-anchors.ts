// Anchors and aliases as Go's YAML decoder (behind OPA) treats them, where the YAML library is more liberal:
//   - a name is [0-9A-Za-z_-]+ and must end at a blank, the end of the text, or one of ? : , ] } % @ `. The YAML
//     library reads any character up to a blank or a flow indicator (`&a.b`, `*x:`), so names are checked here,
//     and where Go's name ends at `:` or `?` inside what the library would read as the name, a blank is put
//     between them so both readers carry on from the same character (`&a:b 1` is anchor `a` on ":b 1");
//   - after an anchor, a tag or an alias, Go's scanner allows no `-` or `?` indicator on the same line;
//   - in a flow collection Go reads a `?` or `:` that starts a token as an indicator even with no blank after
//     it (`[?:x]`), where the library reads a plain scalar: a blank is put after each;
//   - expanding aliases is bounded: Go counts every node it decodes and every one reached through an alias, and
//     refuses a document whose aliased share is too high (a chain of anchors, each naming the one before twice).
import type { Alias, Document, Node as YamlNode, YAMLParseError } from 'yaml';
import { lazyRequire } from '../lazy-require.js';

const yaml = lazyRequire<typeof import('yaml')>('yaml');

const GO_NAME = /^[0-9A-Za-z_-]*/;
/** What may follow a name in Go's scanner, besides a blank or the end of the text. */
const ENDS_NAME = new Set(['?', ':', ',', ']', '}', '%', '@', '`']);
/** Of those, the ones no token can start with, which Go's scanner refuses next. */
const STARTS_NO_TOKEN = new Set(['%', '@', '`']);
const BLANK = new Set([' ', '\t', '\r', '\n', '\u0085', '\u2028', '\u2029', '\0']);
/** The lexer's markers, which stand for no text. */
const MARKERS = new Set(['\x02', '\x18', '\x1f']);

export interface GoAnchorText {
  /** The text to parse: the original, with a blank where Go's name ends before the library's would. */
  text: string;
  /** Go's scanner error at the first name it refuses, placed in `text`. */
  error?: YAMLParseError;
}

/**
 * An error as Go words it: the line of the character it stopped at (`at`), counted from 1 by the scanner and from
 * 0 by the parser, and left out when it is the first. It is placed at the token it was reading (`start`), where
 * the YAML reader's own error about the same token would be.
 */
function goError(text: string, start: number, at: number, said: string, by: 'scanner' | 'parser'): YAMLParseError {
  const line = text.slice(0, at).split('\n').length - (by === 'parser' ? 1 : 0);
  return new (yaml().YAMLParseError)([start, at + 1], 'BAD_SCALAR_START', line > 1 || (by === 'parser' && line > 0) ? `line ${line}: ${said}` : said);
}

/**
 * Go's words for a `-` or `?` indicator right after an anchor, a tag or an alias on its line: its scanner allows
 * no block entry or key there; in a flow collection (`closer` its closing bracket) it lets the indicator through
 * and its parser then wants the collection to go on.
 */
function indicatorAfterProps(indicator: string, closer: string | undefined): string {
  if (closer) return `did not find expected ',' or '${closer}'`;
  return indicator === '-' ? 'block sequence entries are not allowed in this context' : 'mapping keys are not allowed in this context';
}

export function goAnchorNames(source: string): GoAnchorText {
  const parts: string[] = [];
  let copied = 0;
  let inserted = 0;
  let offset = 0;
  /** The closers of the flow collections open here, innermost last. */
  const closers: string[] = [];
  let scalarNext = false;
  /** Where the anchors, tags or alias just before this point on its line start. */
  let propsAt: number | undefined;
  const insertBlank = (at: number) => {
    parts.push(source.slice(copied, at), ' ');
    copied = at;
    inserted++;
  };
  const refuse = (start: number, at: number, said: string, by: 'scanner' | 'parser' = 'scanner'): GoAnchorText => {
    const text = parts.join('') + source.slice(copied);
    return { text, error: goError(text, start + inserted, at + inserted, said, by) };
  };
  /** Just after a `:` in a flow collection, where Go's parser wants a node (or the collection to go on). */
  let afterValue = false;
  const nodeMissing = (at: number) => refuse(at, at, 'did not find expected node content', 'parser');
  for (const lexeme of new (yaml().Lexer)().lex(source)) {
    if (scalarNext || MARKERS.has(lexeme)) {
      scalarNext = lexeme === '\x1f';
      if (!MARKERS.has(lexeme)) {
        // In a flow collection Go reads a `?` or `:` there as an indicator, no node (`{a: ?x}`, `{a: :b}`).
        if (afterValue && closers.length > 0 && '?:'.includes(lexeme[0]!)) return nodeMissing(offset);
        afterValue = false;
        // In a flow collection Go's scanner takes a `?` for a key indicator, and `:` after it for value
        // indicators, even with no blank after them (`[?:x]`), where the YAML reader sees a plain scalar.
        for (let k = 1; closers.length > 0 && k <= lexeme.length && '?:'.includes(lexeme[k - 1]!) && !BLANK.has(source[offset + k] ?? ' '); k++) insertBlank(offset + k);
        // A `?` inside a plain scalar there ends it (`[a?]`): Go's parser then finds a key where the collection
        // must go on or close.
        const question = closers.length > 0 ? lexeme.search(/[^?:\s][^?]*\?/) : -1;
        if (question >= 0) {
          const at = offset + lexeme.indexOf('?', question);
          return refuse(at, at, `did not find expected ',' or '${closers.at(-1)}'`, 'parser');
        }
        offset += lexeme.length;
        propsAt = undefined;
      }
      continue;
    }
    if (afterValue && lexeme === '?') return nodeMissing(offset);
    if (!/^\s*$/.test(lexeme) && lexeme[0] !== '#') afterValue = lexeme === ':' && closers.length > 0;
    if (propsAt !== undefined && (lexeme === '-' || lexeme === '?') && (source[offset + 1] === undefined || BLANK.has(source[offset + 1]!))) {
      return refuse(propsAt, offset, indicatorAfterProps(lexeme, closers.at(-1)), closers.length > 0 ? 'parser' : 'scanner');
    }
    if (lexeme === '?' && closers.length > 0 && source[offset + 1] !== undefined && !BLANK.has(source[offset + 1]!)) insertBlank(offset + 1);
    if (!/^[ \t]+$/.test(lexeme)) propsAt = lexeme[0] === '&' || lexeme[0] === '*' || lexeme[0] === '!' ? (propsAt ?? offset) : undefined;
    if (lexeme === '[' || lexeme === '{') closers.push(lexeme === '[' ? ']' : '}');
    else if (lexeme === ']' || lexeme === '}') closers.pop();
    else if (lexeme[0] === '&' || lexeme[0] === '*') {
      const name = GO_NAME.exec(lexeme.slice(1))![0];
      const end = offset + 1 + name.length;
      const next = source[end];
      if (name.length === 0 || !(next === undefined || BLANK.has(next) || ENDS_NAME.has(next))) {
        return refuse(offset, end, 'did not find expected alphabetic or numeric character');
      }
      if (next !== undefined && STARTS_NO_TOKEN.has(next)) return refuse(offset, end, 'found character that cannot start any token');
      if (end < offset + lexeme.length) {
        insertBlank(end);
        // In a flow collection Go takes a `:` or `?` for an indicator even with no blank after it.
        if (closers.length > 0) insertBlank(end + 1);
      }
    }
    offset += lexeme.length;
  }
  return { text: inserted === 0 ? source : parts.join('') + source.slice(copied) };
}

/** Go's share of aliased nodes a document may decode, which falls as the document grows. */
function allowedAliasRatio(decoded: number): number {
  if (decoded <= 400_000) return 0.99;
  if (decoded >= 4_000_000) return 0.1;
  return 0.99 - 0.89 * ((decoded - 400_000) / 3_600_000);
}

/**
 * Go's error where decoding `doc` would expand too many aliases, counting its nodes in Go's order (the
 * document, then depth first, a key before its value, through every alias); undefined where it decodes.
 * Aliases must already be known to name an anchor outside themselves (no alias loop).
 */
export function excessiveAliasing(doc: Document): YAMLParseError | undefined {
  const lib = yaml();
  let decoded = 1;
  let aliased = 0;
  // Resolving an alias searches the document for its anchor, so each is resolved once.
  const targets = new Map<unknown, YamlNode>();
  const pending: Array<[YamlNode | null, boolean]> = [[doc.contents as YamlNode | null, false]];
  while (pending.length > 0) {
    const [node, inAlias] = pending.pop()!;
    decoded++;
    if (inAlias) aliased++;
    if (aliased > 100 && decoded > 1000 && aliased / decoded > allowedAliasRatio(decoded)) {
      return new lib.YAMLParseError([0, 0], 'BAD_ALIAS', 'document contains excessive aliasing');
    }
    if (lib.isAlias(node)) {
      if (!targets.has(node)) targets.set(node, node.resolve(doc) as YamlNode);
      pending.push([targets.get(node)!, true]);
    }
    else if (lib.isSeq(node)) for (let i = node.items.length - 1; i >= 0; i--) pending.push([node.items[i] as YamlNode, inAlias]);
    else if (lib.isMap(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) {
        const pair = node.items[i]!;
        pending.push([pair.value as YamlNode | null, inAlias], [pair.key as YamlNode | null, inAlias]);
      }
    }
  }
  return undefined;
}

/**
 * Puts in place of every alias the node it names, as Go's decoder holds it: a node then stands wherever its
 * aliases stood, and stays there when its own place is dropped (a repeated key, a merge key). Each alias names
 * the last anchor of its name before it in the text, so all are resolved before any is replaced. Aliases `kept`
 * stay; the node each alias named is returned.
 */
export function inlineAliases(doc: Document, kept: (path: readonly unknown[]) => boolean): Map<Alias, YamlNode> {
  const lib = yaml();
  const anchors = new Map<string, YamlNode>();
  const targets = new Map<Alias, YamlNode>();
  const replacements: Array<() => void> = [];
  lib.visit(doc, {
    Node(key, node, path) {
      if (!lib.isAlias(node)) {
        if (node.anchor) anchors.set(node.anchor, node);
        return;
      }
      const target = anchors.get(node.source);
      if (target === undefined) return;
      targets.set(node, target);
      if (kept(path)) return;
      const parent = path[path.length - 1];
      if (lib.isPair(parent)) replacements.push(() => void (key === 'key' ? (parent.key = target) : (parent.value = target)));
      else if (lib.isCollection(parent)) replacements.push(() => void (parent.items[key as number] = target as never));
      else if (lib.isDocument(parent)) replacements.push(() => void (parent.contents = target));
    },
  });
  for (const replace of replacements) replace();
  return targets;
}
