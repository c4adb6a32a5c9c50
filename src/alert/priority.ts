// Falco priorities, lowest to highest. Falco writes them Title-case in alerts ("Critical").
export const PRIORITIES = [
  'debug', 'informational', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency',
] as const;
export type Priority = (typeof PRIORITIES)[number];

// A Map, not an object: names like "constructor" or "__proto__" must not find inherited keys.
const BY_NAME: ReadonlyMap<string, Priority> = new Map<string, Priority>([
  ...PRIORITIES.map((p) => [p, p] as const),
  ['info', 'informational'],
]);

/** Parses a priority name case-insensitively ("info" is an alias); undefined when unknown. */
export function parsePriority(name: string): Priority | undefined {
  return BY_NAME.get(name.trim().toLowerCase());
}

/** Numeric rank: debug = 1 … emergency = 8 (Falcosidekick's numbering; 0 is "none"). */
export function priorityRank(p: Priority): number {
  return PRIORITIES.indexOf(p) + 1;
}

export function atLeast(p: Priority, minimum: Priority): boolean {
  return priorityRank(p) >= priorityRank(minimum);
}

/** The spelling Falco uses in alert JSON: "Critical", "Informational". */
export function priorityTitle(p: Priority): string {
  return p.charAt(0).toUpperCase() + p.slice(1);
}
