/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: it throws
 * on the first line a Prometheus server would reject (bad names, unquoted or badly escaped label
 * values, non-numbers, a second HELP or TYPE for one metric, samples of a family declared
 * elsewhere), and returns the samples so tests can read values.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created'];

export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  const help = new Set<string>();
  const types = new Map<string, string>();
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const where = `line ${i + 1} (${JSON.stringify(line.slice(0, 80))})`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest = ''] = m;
      if (!NAME.test(name!)) throw new Error(`${where}: bad metric name`);
      if (kind === 'HELP') {
        if (help.has(name!)) throw new Error(`${where}: second HELP for ${name}`);
        help.add(name!);
      } else {
        if (types.has(name!)) throw new Error(`${where}: second TYPE for ${name}`);
        if (!TYPES.has(rest.trim())) throw new Error(`${where}: unknown type ${rest}`);
        types.set(name!, rest.trim());
      }
      return;
    }
    samples.push(parseSample(line, where));
  });
  for (const s of samples) {
    const family = [s.name, ...SUFFIXES.filter((x) => s.name.endsWith(x)).map((x) => s.name.slice(0, -x.length))].find((n) => types.has(n));
    if (types.size && !family) throw new Error(`sample ${s.name} has no TYPE line`);
  }
  return samples;
}

function parseSample(line: string, where: string): Sample {
  const nameMatch = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!nameMatch) throw new Error(`${where}: a sample must start with a metric name`);
  const name = nameMatch[1]!;
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    for (;;) {
      rest = rest.replace(/^\s+/, '');
      if (rest.startsWith('}')) break;
      const label = /^([^=\s]+)\s*=\s*"/.exec(rest);
      if (!label || !LABEL_NAME.test(label[1]!)) throw new Error(`${where}: bad label`);
      rest = rest.slice(label[0].length);
      let value = '';
      for (;;) {
        const c = rest[0];
        if (c === undefined) throw new Error(`${where}: unterminated label value`);
        rest = rest.slice(1);
        if (c === '"') break;
        if (c === '\\') {
          const e = rest[0];
          rest = rest.slice(1);
          if (e === 'n') value += '\n';
          else if (e === '\\' || e === '"') value += e;
          else throw new Error(`${where}: bad escape \\${e}`);
        } else value += c;
      }
      if (label[1]! in labels) throw new Error(`${where}: label ${label[1]} twice`);
      labels[label[1]!] = value;
      rest = rest.replace(/^\s+/, '');
      if (rest.startsWith(',')) rest = rest.slice(1);
      else if (!rest.startsWith('}')) throw new Error(`${where}: expected , or }`);
    }
    rest = rest.slice(1);
  }
  const parts = rest.trim().split(/\s+/);
  if (!/^\s/.test(rest) || parts.length < 1 || parts.length > 2) throw new Error(`${where}: expected a value (and optional timestamp)`);
  const value = parseValue(parts[0]!);
  if (value === undefined) throw new Error(`${where}: ${parts[0]} is not a number`);
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`${where}: bad timestamp`);
  return { name, labels, value };
}

function parseValue(raw: string): number | undefined {
  // Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any letter case.
  if (/^nan$/i.test(raw)) return NaN;
  if (/^\+?inf$/i.test(raw)) return Infinity;
  if (/^-inf$/i.test(raw)) return -Infinity;
  return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw) ? Number(raw) : undefined;
}

/** The value of the one sample with this name whose labels include `labels`. */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}
