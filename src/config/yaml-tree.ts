import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

/**
 * The config file as plain data, read the way Falcosidekick (viper) reads it: keys are
 * case-insensitive, so every mapping key is lower-cased (outputFieldFormat -> outputfieldformat, and
 * the keys of maps such as customfields too, as viper does); a key whose value is null (a section that
 * holds only comments) counts as not set.
 */
export interface YamlTree {
  value: Record<string, unknown>;
  /** Lower-cased key path "webhook.customheaders" -> line of the key in the file. */
  lines: Map<string, number>;
  /** Keys written twice with different case ("customHeaders" and "customheaders"). */
  duplicates: string[];
}

export function readYamlTree(doc: Document, counter: LineCounter): YamlTree {
  const lines = new Map<string, number>();
  const duplicates: string[] = [];
  const lineOf = (n: Node | null | undefined) => (n?.range ? counter.linePos(n.range[0]).line : 0);

  function convert(node: unknown, path: string[]): unknown {
    if (isAlias(node)) return convert(node.resolve(doc), path);
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      for (const pair of node.items) {
        const rawKey = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const key = rawKey.toLowerCase();
        const childPath = [...path, key];
        const dotted = childPath.join('.');
        if (Object.hasOwn(out, key) || lines.has(dotted)) duplicates.push(`${dotted} (line ${lineOf(pair.key as Node)})`);
        lines.set(dotted, lineOf(pair.key as Node));
        const value = convert(pair.value, childPath);
        if (value !== null && value !== undefined) out[key] = value;
      }
      return out;
    }
    if (isSeq(node)) return node.items.map((item, i) => convert(item, [...path, String(i)]));
    if (isScalar(node)) return node.value;
    return node ?? null;
  }

  const value = convert(doc.contents, []);
  return { value: (value ?? {}) as Record<string, unknown>, lines, duplicates };
}
