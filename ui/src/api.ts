/** The alert as /api/v1 returns it. */
export interface Alert {
  id: number; uuid: string; time: string; priority: string; rule: string; source: string; hostname: string;
  tags: string[]; output: string; output_fields: Record<string, unknown>;
}
export interface Count { value: string; count: number }
export interface Bucket { t: number; total: number; byPriority: Record<string, number> }
export interface Session { mode: 'login' | 'token' | 'none'; authenticated: boolean; user: string | null; loopbackOnly: boolean }

export class ApiError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

async function getJson<T>(path: string, params?: URLSearchParams): Promise<T> {
  const res = await fetch(params ? `${path}?${params}` : path, { credentials: 'same-origin' });
  if (res.status === 401) window.dispatchEvent(new Event('peregrine:logged-out'));
  if (!res.ok) throw new ApiError(res.status, ((await res.json().catch(() => ({}))) as { error?: string }).error ?? res.statusText);
  return (await res.json()) as T;
}

export const api = {
  session: () => getJson<Session>('/api/v1/session'),
  alerts: (p: URLSearchParams) => getJson<{ alerts: Alert[]; next: string | null }>('/api/v1/alerts', p),
  alert: (id: string) => getJson<Alert>(`/api/v1/alerts/${encodeURIComponent(id)}`),
  counts: (p: URLSearchParams) => getJson<{ by: string; counts: Count[]; total: number }>('/api/v1/counts', p),
  histogram: (p: URLSearchParams) => getJson<{ bucketMs: number; buckets: Bucket[] }>('/api/v1/histogram', p),
  async exception(id: string): Promise<string> {
    const res = await fetch(`/api/v1/alerts/${encodeURIComponent(id)}/exception`, { credentials: 'same-origin' });
    if (!res.ok) throw new ApiError(res.status, res.statusText);
    return res.text();
  },
  async login(body: Record<string, string>): Promise<void> {
    const res = await fetch('/api/v1/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' });
    if (!res.ok) throw new ApiError(res.status, ((await res.json().catch(() => ({}))) as { error?: string }).error ?? res.statusText);
  },
  async logout(): Promise<void> {
    await fetch('/api/v1/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', credentials: 'same-origin' });
  },
};

export const PRIORITIES = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug'];
