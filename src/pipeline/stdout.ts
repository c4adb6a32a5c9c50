import type { Writable } from 'node:stream';
import { stringifyJson } from '../alert/json.ts';

/** Falco's stdout_output: one alert per line, JSON (json_output) or the alert's text line. */
export function createStdoutWriter(opts: { json: boolean; stream?: Writable }): (alert: { output: string }) => void {
  const stream = opts.stream ?? process.stdout;
  return opts.json
    ? (alert) => { stream.write(`${stringifyJson(alert)}\n`); }
    : (alert) => { stream.write(`${alert.output}\n`); };
}
