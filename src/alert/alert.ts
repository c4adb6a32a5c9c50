import type { Priority } from './priority.ts';

/** Falco writes list fields (ka.req.pod.containers.image) as arrays. */
export type OutputFieldValue = string | number | boolean | null | Array<string | number | boolean>;

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
