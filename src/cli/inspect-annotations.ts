// The ANNOTATIONS section of `verdict inspect -a`'s pretty output, laid out as `opa inspect -a` prints it: per
// annotation a title (or the path) underlined, the description, where it applies, then its lists.
import type { AnnotationEntry } from './inspect.js';

export function inspectPrettyAnnotations(entries: AnnotationEntry[]): string {
  const out: string[] = [];
  for (const e of entries) {
    const a = e.annotations as Record<string, any>;
    const path = e.path.slice(1).map((p) => p.value);
    const scopeIsPackage = a.scope === 'package' || a.scope === 'subpackages';
    const pkg = scopeIsPackage ? path : path.slice(0, -1);
    const heading = typeof a.title === 'string' ? a.title : path.join('.');
    out.push(heading, '='.repeat([...heading].length), '');
    if (typeof a.description === 'string') out.push(a.description, '');
    out.push(`Package:  ${pkg.join('.')}`);
    if (!scopeIsPackage) out.push(`Rule:     ${path[path.length - 1]}`);
    out.push(`Location: ${e.location.file}:${e.location.row}`, `Scope: ${a.scope}`);
    if (a.entrypoint === true) out.push('Entrypoint: true');
    out.push('');
    const section = (title: string, lines: string[]) => {
      if (lines.length > 0) out.push(`${title}:`, ...lines.map((l) => ` ${l}`), '');
    };
    section('Organizations', (a.organizations ?? []).map(String));
    section('Authors', (a.authors ?? []).map((x: { name?: string; email?: string }) => [x.name, x.email ? `<${x.email}>` : undefined].filter(Boolean).join(' ')));
    section('Related Resources', (a.related_resources ?? []).map((x: { ref: string; description?: string }) => (x.description ? `${x.ref} ${x.description}` : x.ref)));
    section('Custom', Object.entries(a.custom ?? {}).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`));
  }
  return out.join('\n');
}
