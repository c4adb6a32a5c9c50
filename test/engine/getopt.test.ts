// libsinsp's getopt() transformer, in the cases the shared vectors leave open: what the list holds ("?" for an
// unknown option, an option's letter before its argument), the selector on a flag, an optstring read from a
// field, and its compile errors (libsinsp's messages).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRules } from '../../src/engine/engine.ts';
import { syscallFields } from '../../src/engine/fields/syscall.ts';
import { exec } from '../../src/engine/testing/events.ts';

function compile(condition: string) {
  return loadRules([{ name: 'g.yaml', content: `- rule: g\n  desc: d\n  condition: evt.type = execve and ${condition}\n  output: o\n  priority: INFO\n` }], { tables: [syscallFields] });
}

function holds(condition: string, comm = 'sh'): boolean {
  const { engine, errors } = compile(condition);
  assert.deepEqual(errors.map((e) => e.message), [], condition);
  return engine.evaluate(exec({ comm })).length === 1;
}

test('list mode: "?" for an unknown option, the letter and then the argument of an option that takes one', () => {
  assert.equal(holds('getopt(("-x", "-n"), "n") intersects ("?")'), true);
  assert.equal(holds('getopt(("-p", "8080"), "p:") intersects ("p")'), true);
  assert.equal(holds('getopt(("-p8080"), "p:") intersects ("p")'), true);
  // A missing argument yields "" alone, not the letter.
  assert.equal(holds('getopt(("-p"), "p:") intersects ("p")'), false);
  assert.equal(holds('len(getopt(("-x", "-n", "-p", "1"), "np:")) = 4'), true);
});

test('selector mode: a flag gives its letter, an option its last argument; absent options have no value', () => {
  assert.equal(holds('getopt(("-n"), "n")[n] = n'), true);
  assert.equal(holds('getopt(("-t", "a", "-t", "b"), "t:")[t] = b'), true);
  assert.equal(holds('getopt(("-n"), "nt:")[t] exists'), false);
  assert.equal(holds('getopt(("-n"), "nt:")[n] exists'), true);
});

test('the option string may come from a field', () => {
  assert.equal(holds('getopt(("-n"), proc.name) intersects ("n")', 'n'), true);
  assert.equal(holds('getopt(("-n"), proc.name) intersects ("?")', 'x'), true);
});

test('compile errors carry libsinsp\'s messages', () => {
  const errorOf = (c: string) => compile(c).errors.map((e) => e.message)[0];
  assert.equal(errorOf('getopt(proc.args, "n") intersects ("n")'), 'getopt() first argument must be a list');
  assert.equal(errorOf('getopt(("-n"), "n", "x") intersects ("n")'), 'getopt() requires exactly 2 arguments: args list and optstring');
  assert.equal(errorOf('getopt(("-n"), ("n")) intersects ("n")'), 'getopt() second argument (optstring) must be a single value');
  assert.equal(errorOf('getopt(("-n"), "n")[nt] = n'), 'getopt() field argument must be a single option character');
});
