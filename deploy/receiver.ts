// A tiny local receiver for `docker compose up`: prints what the Slack and webhook outputs would deliver.
// POST /slack/... gets Slack messages, any other POST gets webhook bodies; GET / lists the last 100.
import { createServer } from 'node:http';

const seen: { at: string; path: string; body: unknown }[] = [];
createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(seen, null, 2));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    try { body = JSON.parse(text); } catch { /* keep the raw text */ }
    seen.push({ at: new Date().toISOString(), path: req.url ?? '/', body });
    if (seen.length > 100) seen.shift();
    const kind = req.url?.startsWith('/slack') ? 'slack' : 'webhook';
    console.log(`[${kind}] ${text}`);
    res.end('ok');
  });
}).listen(Number(process.env.PORT ?? 8080), () => console.log('receiver listening'));
