// The rule loader's diagnostics as Falco's reader and compiler give them, in the cases the shared loader vectors
// leave open: capture / capture_duration, the order of diagnostics when `append: true` meets `override`, the order
// of override checks, unknown-key warnings after the item, deprecated fields in conditions and outputs, and
// LOAD_UNSAFE_NA_CHECK.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRules } from '../../src/engine/engine.ts';
import { compileOutputFormat } from '../../src/engine/format.ts';
import { syscallFields } from '../../src/engine/fields/syscall.ts';
import { k8sAuditFields } from '../../src/engine/fields/k8s_audit.ts';

const BASE = `
- rule: r
  desc: d
  condition: evt.type = close
  output: o %proc.name
  priority: INFO
`;

function load(content: string) {
  const r = loadRules([{ name: 'rules.yaml', content }], { tables: [syscallFields, k8sAuditFields], compileOutput: compileOutputFormat });
  return {
    engine: r.engine,
    errors: r.errors.map((e) => `${e.code} ${e.line}: ${e.message}`),
    warnings: r.warnings.filter((w) => w.code !== 'LOAD_UNUSED_MACRO' && w.code !== 'LOAD_UNUSED_LIST').map((w) => `${w.code} ${w.line}: ${w.message}`),
  };
}

const DEPRECATED_APPEND = "LOAD_DEPRECATED_ITEM 2: 'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";
const TOGETHER = "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";

test('capture and capture_duration: decoded as Falco does (yaml-cpp booleans, unsigned 32-bit), kept, replaceable', () => {
  const ok = load(`${BASE}  capture: true\n  capture_duration: 10000\n`);
  assert.deepEqual(ok.errors, []);
  assert.deepEqual(ok.engine.describe().rules.map((r) => [r.info.capture, r.info.capture_duration]), [[true, 10000]]);
  const off = load(BASE);
  assert.deepEqual(off.engine.describe().rules.map((r) => [r.info.capture, r.info.capture_duration]), [[false, 0]]);
  assert.deepEqual(load(`${BASE}  capture: "yes"\n`).engine.describe().rules[0]!.info.capture, true);
  assert.deepEqual(load(`${BASE}  capture: 5\n`).errors, ["LOAD_ERR_YAML_VALIDATE 7: Can't decode YAML scalar value"]);
  assert.deepEqual(load(`${BASE}  capture_duration: -1\n`).errors, ["LOAD_ERR_YAML_VALIDATE 7: Can't decode YAML scalar value"]);
  assert.deepEqual(load(`${BASE}  capture_duration: soon\n`).errors, ["LOAD_ERR_YAML_VALIDATE 7: Can't decode YAML scalar value"]);
  assert.deepEqual(load(`${BASE}  capture:\n`).errors, ["LOAD_ERR_YAML_VALIDATE 2: Mapping for key 'capture' is empty"]);
  const replaced = load(`${BASE}\n- rule: r\n  capture: true\n  capture_duration: 500\n  override:\n    capture: replace\n    capture_duration: replace\n`);
  assert.deepEqual(replaced.errors, []);
  assert.deepEqual(replaced.engine.describe().rules.map((r) => [r.info.capture, r.info.capture_duration]), [[true, 500]]);
  assert.deepEqual(load(`${BASE}\n- rule: r\n  capture: true\n  override:\n    capture: append\n`).errors,
    ["LOAD_ERR_YAML_VALIDATE 8: Key 'capture' cannot be appended to, use 'replace' instead"]);
});

test('append: true with override: the deprecation warning first, then override operation errors, then the conflict', () => {
  const rule = load(`${BASE}- rule: r\n  append: true\n  condition: and proc.name = sh\n  override:\n    condition: append\n`);
  assert.deepEqual(rule.warnings, [DEPRECATED_APPEND.replace(' 2:', ' 7:')]);
  assert.deepEqual(rule.errors, [`LOAD_ERR_YAML_VALIDATE 7: ${TOGETHER}`]);
  const badOp = load(`${BASE}- rule: r\n  append: true\n  condition: and proc.name = sh\n  override:\n    condition: prepend\n`);
  assert.deepEqual(badOp.warnings, [DEPRECATED_APPEND.replace(' 2:', ' 7:')]);
  assert.deepEqual(badOp.errors, ["LOAD_ERR_YAML_VALIDATE 7: Invalid override operation for key 'condition': 'prepend'. Allowed values are: append replace "]);
  const list = load('- list: l\n  items: [a]\n- list: l\n  items: [b]\n  append: true\n  override:\n    items: append\n');
  assert.deepEqual(list.warnings, [DEPRECATED_APPEND.replace(' 2:', ' 3:')]);
  assert.deepEqual(list.errors, [`LOAD_ERR_YAML_VALIDATE 3: ${TOGETHER}`]);
  const macro = load('- macro: m\n  condition: evt.type = open\n- macro: m\n  condition: or evt.type = close\n  append: true\n  override:\n    condition: append\n');
  assert.deepEqual(macro.warnings, [DEPRECATED_APPEND.replace(' 2:', ' 3:')]);
  assert.deepEqual(macro.errors, [`LOAD_ERR_YAML_VALIDATE 3: ${TOGETHER}`]);
  assert.deepEqual(load('- list: l\n  items: [a]\n- list: l\n  items: [b]\n  override:\n    condition: append\n').errors,
    ["LOAD_ERR_YAML_VALIDATE 3: Key 'condition' cannot be appended to, use 'replace' instead"]);
});

test('override checks in Falco\'s order: appends, the rule to append to, replaces, the rule to replace in, stray keys', () => {
  // No such rule: the missing rule is reported before the stray condition key.
  assert.deepEqual(load('- rule: nope\n  desc: x\n  condition: evt.type = open\n  override:\n    desc: replace\n').errors,
    ["LOAD_ERR_VALIDATE 1: An 'override.<key>: replace' to a rule was requested but no rule by that name already exists"]);
  assert.deepEqual(load(`${BASE}- rule: r\n  desc: x\n  condition: evt.type = open\n  override:\n    desc: replace\n`).errors,
    ["LOAD_ERR_YAML_VALIDATE 9: Unexpected key 'condition': no corresponding entry under 'override' is defined."]);
  // Falco's wording, article included.
  assert.deepEqual(load(`${BASE}- rule: r\n  desc: x\n  override:\n    desc: replace\n    priority: replace\n`).errors,
    ["LOAD_ERR_YAML_VALIDATE 7: An replace override for 'priority' was specified but 'priority' is not defined"]);
  // The append keys are checked before the replace keys whatever the order in the item.
  assert.deepEqual(load(`${BASE}- rule: r\n  override:\n    priority: replace\n    output: append\n`).errors,
    ["LOAD_ERR_YAML_VALIDATE 7: An append override for 'output' was specified but 'output' is not defined"]);
});

test('unknown keys are warned about after the item\'s own diagnostics, and not at all for an item in error', () => {
  const ok = load(`${BASE}- rule: r\n  append: true\n  condition: and proc.name = sh\n  colour: blue\n`);
  assert.deepEqual(ok.errors, []);
  assert.deepEqual(ok.warnings, [DEPRECATED_APPEND.replace(' 2:', ' 7:'), "LOAD_UNKNOWN_KEY 7: Unknown key 'colour'. The key will be ignored."]);
  const bad = load('- rule: r2\n  desc: d\n  condition: evt.type = close\n  output: o\n  priority: LOUD\n  colour: blue\n');
  assert.deepEqual(bad.errors, ['LOAD_ERR_YAML_VALIDATE 5: Invalid priority']);
  assert.deepEqual(bad.warnings, []);
});

test('deprecated fields: once per rule in its expanded condition, and by name in its output', () => {
  const dir = "due to the drop of enter events, 'evt.dir = <' always evaluates to true, and 'evt.dir = >' always evaluates to false. The rule expression can be simplified by removing the condition on 'evt.dir'";
  const r = load([
    '- macro: exits', '  condition: evt.dir = <',
    '- rule: a', '  desc: d', '  condition: evt.type = close and exits and evt.dir != >', '  output: o', '  priority: INFO',
    '- rule: b', '  desc: d', '  condition: evt.type = close', '  output: dir=%evt.dir lat=%evt.latency.s', '  priority: INFO',
  ].join('\n'));
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings, [
    `LOAD_DEPRECATED_ITEM 5: ${dir}`,
    "LOAD_DEPRECATED_ITEM 11: usage of deprecated field 'evt.dir' has been detected in the rule output",
    "LOAD_DEPRECATED_ITEM 11: usage of deprecated field 'evt.latency' has been detected in the rule output",
    "LOAD_DEPRECATED_ITEM 11: usage of deprecated field 'evt.latency.s' has been detected in the rule output",
  ]);
  assert.deepEqual(load(BASE).warnings, []);
});

test('an equality check of a ka.* field against <NA> warns LOAD_UNSAFE_NA_CHECK', () => {
  const rule = (condition: string) => `- rule: k\n  desc: d\n  condition: ${condition}\n  output: o\n  priority: INFO\n  source: k8s_audit\n`;
  assert.deepEqual(load(rule('ka.user.name = "<NA>"')).warnings, ['LOAD_UNSAFE_NA_CHECK 3: ']);
  assert.deepEqual(load(rule('ka.user.name in (admin, "<NA>")')).warnings, ['LOAD_UNSAFE_NA_CHECK 3: ']);
  assert.deepEqual(load(rule('ka.user.name startswith "<NA>"')).warnings, []);
  assert.deepEqual(load(rule('ka.user.name = admin')).warnings, []);
});
