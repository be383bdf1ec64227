import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { healthCheck } from './health-check.js';
import type { Metrics } from './metrics.js';

export interface MetricsServer {
  /** `http://host:port`, the port the OS picked when 0 was asked for. */
  url: string;
  close(): Promise<void>;
}

/**
 * `/metrics` and `/health` on a port of their own: for a worker process, which
 * serves no HTTP API. `/health` answers 200 while `ready` resolves within two
 * seconds (the process can do its work), 503 with the reason otherwise.
 */
export async function startMetricsServer(metrics: Metrics, port: number, host: string, ready: () => Promise<void>): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return json(405, { error: { code: 'TASKYARD_ERR_METHOD_NOT_ALLOWED', message: 'GET only' } });
    if (path === '/metrics') {
      metrics.text().then(
        (text) => {
          response.writeHead(200, { 'content-type': metrics.contentType });
          response.end(text);
        },
        (error: unknown) => json(503, { error: { code: 'TASKYARD_ERR_NOT_READY', message: `Metrics could not be read: ${String(error)}` } }),
      );
      return;
    }
    if (path === '/health') {
      void healthCheck(ready, 'The queue engine').then((result) =>
        result === 'ok' ? json(200, { status: 'ok' }) : json(503, { error: { code: 'TASKYARD_ERR_NOT_READY', message: result } }),
      );
      return;
    }
    json(404, { error: { code: 'TASKYARD_ERR_NOT_FOUND', message: 'Try /metrics or /health' } });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
