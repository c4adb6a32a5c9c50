// proc.env and proc.args with and without an argument, as libsinsp's thread filtercheck gives them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileOutputFormat } from '../../src/engine/format.ts';
import { syscallFields } from '../../src/engine/fields/syscall.ts';
import { exec } from '../../src/engine/testing/events.ts';

const fields = (format: string, env?: string[]) =>
  compileOutputFormat(format, syscallFields)(exec({ comm: 'curl', args: ['-s', 'http://x'], ...(env ? { env } : {}) })).fields;

test('proc.env: all variables space-separated; [NAME] the value trimmed of spaces, "" when unset', () => {
  const env = ['PATH=/usr/bin', 'HTTP_PROXY= http://p:3128 ', 'EMPTY=', 'PATHX=no'];
  assert.deepEqual(fields('%proc.env %proc.env[HTTP_PROXY] %proc.env[PATH] %proc.env[NOPE] %proc.env[EMPTY]', env), {
    'proc.env': 'PATH=/usr/bin HTTP_PROXY= http://p:3128  EMPTY= PATHX=no',
    'proc.env[HTTP_PROXY]': 'http://p:3128',
    'proc.env[PATH]': '/usr/bin',
    'proc.env[NOPE]': '',
    'proc.env[EMPTY]': '',
  });
  assert.deepEqual(fields('%proc.env'), { 'proc.env': '' }, 'an unknown environment reads as empty');
});

test('proc.args: the arguments after argv[0]; [N] one of them, "" past the end', () => {
  assert.deepEqual(fields('%proc.args %proc.args[0] %proc.args[1] %proc.args[5]'), {
    'proc.args': '-s http://x', 'proc.args[0]': '-s', 'proc.args[1]': 'http://x', 'proc.args[5]': '',
  });
});
