// Parser conformance: every `stage: parse` vector of libsinsp's own unit tests (../shared/falco/filter_vectors.json)
// must be accepted or rejected the same way, print the same canonical form, give the same error text and positions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Expr } from '../../src/engine/lang/ast.ts';
import { parseCondition, ConditionSyntaxError } from '../../src/engine/lang/parser.ts';
import { conditionToString } from '../../src/engine/lang/print.ts';
import { filterVectors } from '../support/falco-data.ts';

const parseVectors = filterVectors().filter((v) => v.stage === 'parse');

function tryParse(input: string): { expr?: Expr; error?: ConditionSyntaxError } {
  try {
    return { expr: parseCondition(input) };
  } catch (error) {
    if (!(error instanceof ConditionSyntaxError)) throw error;
    return { error };
  }
}

/** Pre-order "kind idx line col" of every node, as libsinsp's position test prints them. */
function positions(e: any): string {
  if (!e || typeof e !== 'object' || !('kind' in e)) return '';
  const name = e.kind === 'unary' ? 'unary' : e.kind;
  let out = `${name}${e.pos.idx} ${e.pos.line} ${e.pos.col}`;
  for (const child of [e.left, e.right, e.child, ...(e.children ?? []), ...(e.values ?? []).filter((x: any) => typeof x === 'object')]) {
    out += positions(child);
  }
  return out;
}

test(`all ${parseVectors.length} parse vectors: accept/reject, canonical form, error text, positions`, () => {
  assert.equal(parseVectors.length, 382);
  const failures: string[] = [];
  let checked = 0;
  for (const v of parseVectors) {
    const inputs = [v.input];
    if (v.ws_variants) {
      const padded = ` ${v.input} `;
      inputs.push(padded, padded.replaceAll(' ', '\n'), padded.replaceAll(' ', '\t'));
    }
    for (const input of inputs) {
      const { expr, error } = tryParse(input);
      checked++;
      if (v.valid !== (expr !== undefined)) {
        failures.push(`${JSON.stringify(input)}: expected ${v.valid ? 'accept' : 'reject'}, got ${error?.message ?? 'accept'}`);
        continue;
      }
      if (input !== v.input) continue;
      if (expr && v.as_string !== undefined && conditionToString(expr) !== v.as_string) {
        failures.push(`${JSON.stringify(input)}: as_string ${JSON.stringify(conditionToString(expr))} != ${JSON.stringify(v.as_string)}`);
      }
      if (error && v.error !== undefined && error.message !== v.error) {
        failures.push(`${JSON.stringify(input)}: error ${JSON.stringify(error.message)} != ${JSON.stringify(v.error)}`);
      }
      if (expr && v.expected_positions !== undefined && positions(expr) !== v.expected_positions) {
        failures.push(`${JSON.stringify(input)}: positions ${positions(expr)} != ${v.expected_positions}`);
      }
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(checked > 382);
});

test('depth limit: libsinsp default 100 rejects deep nesting, Falco loader depth 1000 accepts it', () => {
  const deep = `${'('.repeat(30)}a${')'.repeat(30)}`;
  assert.throws(() => parseCondition(deep), /exceeded max depth limit of 100/);
  assert.equal(conditionToString(parseCondition(deep, { maxDepth: 1000 })), 'a');
});

test('errors carry line and column', () => {
  const err = tryParse('proc.name = a and\n  fd.name ===').error!;
  assert.equal(err.pos.line, 2);
  assert.match(err.message, /unexpected token after 'fd.name|expected a string value/);
});
