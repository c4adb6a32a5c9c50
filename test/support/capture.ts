// What the kernel-capture tests share: a quiet logger that still shows warnings, and a poll for an event.

export const captureTestLog = { info() {}, warn(o: object | string, m?: string) { console.error('capture warn', o, m ?? ''); } };

/** Polls `find` until it returns a value, or fails naming `what` after `ms`. */
export async function waitFor<T>(what: string, find: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = find();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
