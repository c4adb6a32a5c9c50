import type { EngineEvent } from '../engine/event.ts';
import { parseAuditBody } from '../k8saudit/parse.ts';
import type { Logger } from '../log.ts';
import { RETRY_AFTER_SECONDS, type RouteHandler } from '../router/router.ts';

/**
 * POST handler for the API server's audit webhook backend. Good events are evaluated even when others
 * in the same body are bad; the reply names the bad ones. The API server retries on non-2xx, so a body
 * with some bad items still gets 200 (resending would not fix them) and only a body with no good item gets 400.
 * Bad items are counted; only the first few are named in the reply and the one log line.
 */
export function k8sAuditHandler(opts: { process(events: EngineEvent[]): Promise<{ alerts: number; refused: number }>; log: Logger }): RouteHandler {
  let nextNum = 1;
  return async (_req, body) => {
    const { events, errors, badItems } = parseAuditBody(body.toString('utf8'), nextNum);
    nextNum += events.length;
    // 200 only once every alert is spooled; otherwise the API server sends the batch again (at least once).
    const { alerts, refused } = await opts.process(events);
    if (refused > 0) {
      return { status: 503, body: { error: `${refused} of ${alerts} alerts could not be spooled; send again later` }, headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } };
    }
    if (badItems === 0) return { status: 200, body: { events: events.length, alerts, errors: [] } };
    // One line per request, whatever the number of bad items (a 1 MB body can hold 300k of them).
    const messages = errors.map((e) => e.message);
    const more = badItems - errors.length;
    opts.log.warn({ code: errors[0]!.code, bad: badItems, good: events.length, first: messages }, `audit body: ${badItems} bad item(s) skipped`);
    if (events.length === 0) {
      return { status: 400, body: { error: messages.join('; ') + (more > 0 ? `; and ${more} more bad item(s)` : '') } };
    }
    return { status: 200, body: { events: events.length, alerts, errors: messages, ...(more > 0 ? { moreErrors: more } : {}) } };
  };
}
