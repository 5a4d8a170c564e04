/**
 * The daemon's HTTP endpoints for its orchestrator: /healthz (the process answers), /readyz (it is
 * receiving and not stopping), /metrics (Prometheus text). Nothing here changes anything.
 */
import { createServer, type Server } from 'node:http';
import type { WatchMetrics } from './metrics.js';

/** What the endpoints read. */
export interface HealthState {
  ready: boolean;
  metrics: WatchMetrics;
}

/** Listen on `host:port` (port 0: any free port); resolves with the server and the port it got. */
export async function serveHealth(
  listen: { host: string; port: number },
  state: HealthState,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/healthz') res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    else if (path === '/readyz')
      res
        .writeHead(state.ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(state.ready ? 'ready\n' : 'not ready\n');
    else if (path === '/metrics')
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(state.metrics.render());
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, resolve);
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : listen.port };
}
