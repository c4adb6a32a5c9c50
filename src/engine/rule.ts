/**
 * What the rules loader produces and the pipeline consumes: a compiled rule and its output formatter.
 * Shared contract between the loader/engine (src/engine/loader, engine.ts), the output formatter
 * (src/engine/format.ts) and the pipeline (src/pipeline): additive changes only.
 */
import type { Priority } from '../alert/priority.ts';
import type { FieldTable } from './fields/field.ts';

/** A value of output_fields in Falco's JSON; integers beyond 2^53 are bigint so they stay exact. */
export type OutputJsonValue = string | number | bigint | boolean | null | Array<string | number | bigint | boolean>;

/** One rendered output: the text with %fields substituted, and output_fields as Falco's JSON carries them. */
export interface FormattedOutput {
  text: string;
  /** Keyed by the canonical field text (`proc.aname[2]`, `evt.arg.flags`); missing values are null. */
  fields: Record<string, OutputJsonValue>;
}

export type OutputFormatter<E = any> = (event: E) => FormattedOutput;

/** Compiles an output format string against a source's table; throws naming the unknown field. */
export type OutputCompiler = (format: string, table: FieldTable<any>) => OutputFormatter;

export interface CompiledRule {
  name: string;
  desc: string;
  source: string;
  priority: Priority;
  /** Sorted, as Falco prints them in alerts. */
  tags: string[];
  /** The output text after appends, trimmed. */
  output: string;
  /** Canonical compiled condition (as_string of the final AST), as Falco's describe shows it. */
  condition: string;
  /** evt.type values the condition can match; undefined = every type (or a non-syscall source). */
  eventTypes: Set<string> | undefined;
  /** The compiled condition. */
  matches(event: any): boolean;
  /**
   * Syscall rules: the condition compiled for events of one type (its evt.type checks folded to
   * constants), or false when it cannot match that type. The engine calls it once per type it meets.
   */
  forType?(type: string): ((event: any) => boolean) | false;
  /** Present when loadRules was given a compileOutput callback. */
  format?: OutputFormatter;
}
