import type { Priority } from './priority.ts';

/**
 * A value of output_fields: Falco writes scalars and lists (ka.req.pod.containers.image); other senders
 * nest objects, which Falcosidekick passes through, so any JSON value is kept. Integers beyond 2^53
 * (evt.time in ns) are bigint so they stay exact (src/alert/json.ts reads and writes them).
 */
export type OutputFieldValue = string | number | bigint | boolean | null | OutputFieldValue[] | { [key: string]: OutputFieldValue };

/**
 * A Falco alert as it travels through Peregrine. This is the shape Falco's json_output / http_output
 * writes (priority Title-case on the wire), plus the uuid the router assigns on input.
 */
export interface FalcoAlert {
  uuid: string;
  output: string;
  priority: Priority;
  rule: string;
  /** RFC 3339 with up to nanosecond precision, kept as the string received so no precision is lost. */
  time: string;
  output_fields: Record<string, OutputFieldValue>;
  source: string;
  tags: string[];
  hostname: string;
}
