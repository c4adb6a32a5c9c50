import { z } from 'zod';

/**
 * An enum key Falcosidekick reads case-insensitively (KAFKA_COMPRESSION=snappy, WEBHOOK_METHOD=put):
 * the value is normalised to the case of `values` before it is checked, so errors still list them.
 */
export function anyCaseEnum<const T extends readonly [string, ...string[]]>(values: T) {
  const upper = values.every((v) => v === v.toUpperCase());
  return z.preprocess((v) => (typeof v === 'string' ? (upper ? v.toUpperCase() : v.toLowerCase()) : v), z.enum(values));
}
