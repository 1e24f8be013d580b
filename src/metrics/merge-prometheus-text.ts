/**
 * Joins several Prometheus text expositions of the same metric families (BullMQ's export of each
 * model's queue) into one. The format allows one `# HELP` and one `# TYPE` line per family, and
 * all of a family's samples together, so samples are grouped under the first texts' headers in
 * the order the families first appear.
 */
export function mergePrometheusText(texts: readonly string[]): string {
  const families = new Map<string, { headers: string[]; samples: string[] }>();
  const familyOf = (name: string) => {
    let family = families.get(name);
    if (!family) families.set(name, (family = { headers: [], samples: [] }));
    return family;
  };
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const header = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (header) {
        const family = familyOf(header[2]!);
        if (!family.headers.some((h) => h.startsWith(`# ${header[1]} `))) family.headers.push(line);
        continue;
      }
      if (line.startsWith('#')) continue;
      // A sample belongs to the family its name starts with (histograms add _bucket, _sum, _count).
      const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? '';
      const owner = [...families.keys()].filter((f) => name === f || name.startsWith(`${f}_`)).sort((a, b) => b.length - a.length)[0];
      familyOf(owner ?? name).samples.push(line);
    }
  }
  return [...families.values()].map((f) => [...f.headers, ...f.samples].join('\n')).join('\n') + (families.size ? '\n' : '');
}
