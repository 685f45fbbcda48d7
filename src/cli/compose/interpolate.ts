// cli/compose/interpolate: Compose's variable interpolation and .env files, as docker compose reads them.
// Pure: the caller passes the variables (the shell's environment over the project's .env file).
//
//   $$            a literal $                      ${VAR:-default}  default when VAR is unset or empty
//   $VAR ${VAR}   VAR's value ("" when unset,       ${VAR-default}   default when VAR is unset
//                 with a warning, as compose)       ${VAR:?message}  an error when unset or empty (VAR? unset)
//   ${VAR:+alt}   alt when VAR is set and not empty ${VAR+alt}       alt when VAR is set
// Defaults and alternatives are interpolated in turn (${A:-${B:-x}}).
import { SkiffError } from '../../core/errors.ts';

export type Variables = Readonly<Record<string, string | undefined>>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** One string interpolated; `where` (the YAML path) names it in errors and in `unset` warnings. */
export function interpolateString(text: string, vars: Variables, where: string, unset: Set<string>): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(text, i + 2);
      if (end < 0) throw new SkiffError('COMPOSE_INVALID', `${where}: invalid interpolation format ${JSON.stringify(text)}: a "\${" without its "}"`);
      out += expand(text.slice(i + 2, end), vars, where, unset, text);
      i = end + 1;
      continue;
    }
    const m = NAME.exec(text.slice(i + 1));
    if (m) {
      out += lookup(m[0], vars, unset);
      i += 1 + m[0].length;
      continue;
    }
    out += '$'; // a lone $ (compose keeps it too)
    i++;
  }
  return out;
}

function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function lookup(name: string, vars: Variables, unset: Set<string>): string {
  const v = vars[name];
  if (v === undefined) {
    unset.add(name);
    return '';
  }
  return v;
}

function expand(inner: string, vars: Variables, where: string, unset: Set<string>, whole: string): string {
  const m = NAME.exec(inner);
  if (!m) throw new SkiffError('COMPOSE_INVALID', `${where}: invalid interpolation format ${JSON.stringify(whole)}: "\${${inner}}" does not start with a variable name`);
  const name = m[0];
  const rest = inner.slice(name.length);
  if (rest === '') return lookup(name, vars, unset);
  const op = /^(:?[-?+])/.exec(rest)?.[1];
  if (!op) throw new SkiffError('COMPOSE_INVALID', `${where}: invalid interpolation format ${JSON.stringify(whole)}: unknown operator in "\${${inner}}"`);
  const arg = () => interpolateString(rest.slice(op.length), vars, where, unset);
  const value = vars[name];
  const empty = value === undefined || (op.startsWith(':') && value === '');
  switch (op) {
    case ':-':
    case '-':
      return empty ? arg() : value!;
    case ':+':
    case '+':
      return empty ? '' : arg();
    default: // :? and ?
      if (empty) throw new SkiffError('COMPOSE_INVALID', `${where}: required variable ${name} is ${value === undefined ? 'missing a value' : 'empty'}: ${arg() || '(no message)'}`);
      return value!;
  }
}

/** Every string value of a parsed YAML tree interpolated (keys are not); `unset` collects the names
 *  of variables used without a value. Extension fields (`x-…`) are interpolated too, as compose does. */
export function interpolateTree(node: unknown, vars: Variables, unset: Set<string>, where = ''): unknown {
  if (typeof node === 'string') return interpolateString(node, vars, where || '(top level)', unset);
  if (Array.isArray(node)) return node.map((v, i) => interpolateTree(v, vars, unset, `${where}[${i}]`));
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateTree(v, vars, unset, where ? `${where}.${k}` : k)]));
  }
  return node;
}

/**
 * A .env / env_file text as docker compose reads it: `KEY=VALUE` lines, `export ` prefixes, `#`
 * comments, blank lines; a value in single quotes is taken as is, in double quotes with `\n`, `\t`,
 * `\"`, `\\` escapes and interpolation, unquoted up to a ` #` comment, trimmed, with interpolation.
 * Interpolation sees the lines above and `outer` (the shell's environment). A line `KEY` alone takes
 * KEY from `outer` (absent when unset).
 */
export function parseDotenv(text: string, file: string, outer: Variables = {}): Record<string, string> {
  const out: Record<string, string> = {};
  const unset = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:=\s*(.*))?$/.exec(line);
    if (!m) throw new SkiffError('COMPOSE_INVALID', `${file} line ${n + 1}: not KEY=VALUE`);
    const key = m[1]!;
    if (m[2] === undefined) {
      if (outer[key] !== undefined) out[key] = outer[key]!;
      continue;
    }
    let raw = m[2];
    const vars = { ...outer, ...out };
    if (raw.startsWith("'")) {
      // a single-quoted value may span lines
      while (!/^'.*'$/s.test(raw) && n + 1 < lines.length) raw += '\n' + lines[++n]!;
      out[key] = raw.replace(/^'|'(\s+#.*)?$/g, '');
    } else if (raw.startsWith('"')) {
      while (!/^"(?:[^"\\]|\\.)*"\s*(#.*)?$/s.test(raw) && n + 1 < lines.length) raw += '\n' + lines[++n]!;
      const body = /^"((?:[^"\\]|\\.)*)"/s.exec(raw)?.[1] ?? raw.slice(1);
      const unescaped = body.replace(/\\([nrt"\\$])/g, (_, ch: string) => ({ n: '\n', r: '\r', t: '\t' })[ch] ?? (ch === '$' ? '$$' : ch));
      out[key] = interpolateString(unescaped, vars, `${file} line ${n + 1}`, unset);
    } else {
      out[key] = interpolateString(raw.replace(/\s+#.*$/, '').trim(), vars, `${file} line ${n + 1}`, unset);
    }
  }
  return out;
}
