/**
 * The longest delay a Node timer takes: setTimeout clamps anything from 2^31 ms (24.8 days) to 1 ms, so a
 * bigger configured timeout would abort every send at once. Millisecond keys are capped here instead.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
