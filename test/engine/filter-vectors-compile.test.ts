// The `compile` and `eval` stages of libsinsp's filter vectors (../shared/falco/filter_vectors.json), where they
// apply to our field table. Compile vectors: the condition compiles (or is refused) as libsinsp does, with the
// same number of warnings where given. Eval vectors over libsinsp's mock fields or constants only (getopt,
// join …): the boolean result too. What does not apply is counted by reason, so nothing is skipped silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Expr } from '../../src/engine/lang/ast.ts';
import { parseCondition } from '../../src/engine/lang/parser.ts';
import { compileCondition, resolveField } from '../../src/engine/lang/compile.ts';
import { syscallFields } from '../../src/engine/fields/syscall.ts';
import { def } from '../../src/engine/fields/define.ts';
import { fieldTable, type FieldTable } from '../../src/engine/fields/field.ts';
import { fieldsOf, filterVectors, type FilterVector } from '../support/falco-data.ts';

/**
 * libsinsp's mock filterchecks (see the vectors' context): c.true always matches and c.false never does,
 * whatever the operator; c.buffer is a byte buffer that never matches; c.singlequote / c.doublequote match
 * iff compared with hello 'quoted' / hello "quoted". As fields: values that make = succeed or fail.
 */
const MOCK = fieldTable<unknown>('syscall', [
  ...syscallFields.fields.values(),
  def('c.true', 'charbuf', 'mock: always matches', () => 'x'),
  def('c.false', 'charbuf', 'mock: never matches', () => undefined),
  def('c.buffer', 'bytebuf', 'mock: never matches', () => undefined),
  def('c.singlequote', 'charbuf', "mock: hello 'quoted'", () => "hello 'quoted'"),
  def('c.doublequote', 'charbuf', 'mock: hello "quoted"', () => 'hello "quoted"'),
] as never);

/** c.true / c.false decide a check whatever its operator: rewrite them to checks that do that here. */
function mockChecks(e: Expr): Expr {
  switch (e.kind) {
    case 'and': case 'or': return { ...e, children: e.children.map(mockChecks) };
    case 'not': return { ...e, child: mockChecks(e.child) };
    case 'binary':
    case 'unary':
      if (e.left.kind === 'field' && (e.left.field === 'c.true' || e.left.field === 'c.false')) {
        return { kind: 'unary', op: 'exists', left: e.left, pos: e.pos };
      }
      return e;
    default: return e;
  }
}

function tryCompile(input: string, table: FieldTable<unknown>): { ok: true; warnings: string[]; matches: (e: unknown) => boolean } | { ok: false; error: string } {
  let expr: Expr;
  try { expr = parseCondition(input); } catch (err) { return { ok: false, error: `parse: ${(err as Error).message}` }; }
  try {
    const c = compileCondition(mockChecks(expr), table);
    return { ok: true, warnings: c.warnings, matches: c.matches };
  } catch (err) { return { ok: false, error: (err as Error).message }; }
}

/** Why a vector cannot be checked here, or undefined when it can. */
function inapplicable(v: FilterVector): string | undefined {
  let expr: Expr;
  try { expr = parseCondition(v.input); } catch { return undefined; }
  const missing = [...new Set(fieldsOf(expr))].filter((f) => !resolveField(MOCK, f, undefined) && !MOCK.fields.has(f));
  if (missing.length) return `libsinsp field(s) not in our table: ${missing.join(', ')}`;
  return undefined;
}

const vectors = filterVectors().filter((v) => v.stage === 'compile' || v.stage === 'eval');

test(`compile and eval vectors (${vectors.length}): those over our fields and the mock fields decide like libsinsp`, () => {
  const failures: string[] = [];
  const skipped = new Map<string, number>();
  let compiled = 0;
  let evaluated = 0;
  for (const v of vectors) {
    const why = inapplicable(v);
    if (why) {
      const key = why.startsWith('libsinsp field') ? 'libsinsp fields not in our table' : why;
      skipped.set(key, (skipped.get(key) ?? 0) + 1);
      continue;
    }
    const r = tryCompile(v.input, MOCK);
    const expected = v.compile_valid ?? v.valid;
    if (r.ok !== expected) {
      failures.push(`${v.stage} ${JSON.stringify(v.input)}: expected ${expected ? 'to compile' : 'a compile error'}, got ${r.ok ? 'compiled' : r.error}`);
      continue;
    }
    compiled++;
    if (r.ok && v.warnings !== undefined && r.warnings.length !== v.warnings) {
      failures.push(`${JSON.stringify(v.input)}: ${v.warnings} warning(s) expected, got ${JSON.stringify(r.warnings)}`);
    }
    const needsEvent = r.ok && !(v.context ?? '').startsWith('mock filterchecks') && fieldsOf(parseCondition(v.input)).length > 0;
    if (r.ok && v.stage === 'eval' && needsEvent) {
      // The result depends on the event of libsinsp's test (an execve of /myexe, a connect …): compiled only.
      skipped.set(NOT_EVALUATED, (skipped.get(NOT_EVALUATED) ?? 0) + 1);
    } else if (r.ok && v.stage === 'eval' && v.eval_result !== undefined) {
      evaluated++;
      const got = r.matches({ source: 'syscall', type: 'openat', num: 1, ts: 0n, dir: '<', args: {}, res: 0, thread: {} });
      if (got !== v.eval_result) failures.push(`eval ${JSON.stringify(v.input)}: expected ${v.eval_result}, got ${got}`);
    }
  }
  assert.deepEqual(failures, []);
  // What was checked and what was not, counted so that a change in either is seen.
  assert.deepEqual(Object.fromEntries(skipped), EXPECTED_SKIPPED);
  assert.equal(compiled + (skipped.get('libsinsp fields not in our table') ?? 0), vectors.length);
  assert.ok(evaluated > 0);
  console.log(`compile/eval vectors: ${compiled} checked (${evaluated} evaluated), ${JSON.stringify(Object.fromEntries(skipped))}`);
});

/**
 * 8 vectors use libsinsp fields we do not have (evt.around, evt.buflen.in, plugin sample.* …); 217 eval
 * vectors read real fields of the events libsinsp's tests feed (an execve of /myexe, a connect …): their
 * compile outcome is checked here, their result in filter-vectors-eval.test.ts on events built like those.
 */
const NOT_EVALUATED = 'compiled; result checked in filter-vectors-eval.test.ts (needs the event of libsinsp\'s test)';
const EXPECTED_SKIPPED: Record<string, number> = {
  'libsinsp fields not in our table': 8,
  [NOT_EVALUATED]: 217,
};
