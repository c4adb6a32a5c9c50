import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { exactInteger, parseJson, stringifyJson } from '../../src/alert/json.ts';
import { decodeSpooled, encodeSpooled } from '../../src/router/delivery/spooled-alert.ts';
import { parsedAlert } from '../support/alerts.ts';

describe('exact int64 JSON', () => {
  test('integers beyond 2^53 are bigint, exactly; safe ones stay numbers', () => {
    const v = parseJson('{"t":1470327477881781397,"min":-9223372036854775808,"u":18446744073709551615,"safe":9007199254740991,"small":-1}');
    assert.deepEqual(v, { t: 1470327477881781397n, min: -9223372036854775808n, u: 18446744073709551615n, safe: 9007199254740991, small: -1 });
  });

  test('digits inside strings (escaped quotes and backslashes included) stay strings', () => {
    const text = '{"a":"x\\"12345678901234567890\\"","b":"\\\\","c":12345678901234567890,"d":"1470327477881781397"}';
    assert.deepEqual(parseJson(text), { a: 'x"12345678901234567890"', b: '\\', c: 12345678901234567890n, d: '1470327477881781397' });
  });

  test('floats with many digits stay numbers, as JSON.parse reads them', () => {
    assert.deepEqual(parseJson('[1.12345678901234567890,12345678901234567890.5,1e30,-1234567890123456789e2]'),
      [1.1234567890123457, 12345678901234567000, 1e30, -1.2345678901234568e20]);
  });

  test('nested objects and arrays; invalid JSON still throws SyntaxError', () => {
    assert.deepEqual(parseJson('{"o":{"l":[{"n":98765432109876543210}]}}'), { o: { l: [{ n: 98765432109876543210n }] } });
    assert.throws(() => parseJson('{12345678901234567890:1}'), SyntaxError);
    assert.throws(() => parseJson('{"a":12345678901234567890'), SyntaxError);
  });

  test('stringifyJson writes bigint as the integer literal and round-trips', () => {
    const text = '{"t":1470327477881781397,"n":[-9223372036854775808,{"x":18446744073709551615}],"s":"a\\u0000b","f":1.5}';
    assert.equal(stringifyJson(parseJson(text)), text);
    assert.equal(stringifyJson({ a: 1, b: 'x' }), '{"a":1,"b":"x"}');
  });

  test('exactInteger: a number when it is exact, else the bigint', () => {
    assert.equal(exactInteger(42n), 42);
    assert.equal(exactInteger(1700000000123456789n), 1700000000123456789n);
  });

  test('an alert with int64 fields survives the spool record exactly', () => {
    const alert = parsedAlert({ output_fields: { 'evt.time': 1470327477881781397n, nested: { ino: 18446744073709551615n } } });
    const back = decodeSpooled(encodeSpooled({ alert, acceptedAt: 1 }));
    assert.deepEqual(back.alert.output_fields, alert.output_fields);
  });
});
