/**
 * The one JSON parser for alert bodies (HTTP input, spool). Every place that decodes an alert calls this,
 * so a change to how numbers or keys are read applies everywhere at once.
 */
export function parseJson(text: string): unknown {
  return JSON.parse(text);
}
