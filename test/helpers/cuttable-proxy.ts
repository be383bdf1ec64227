import net from 'node:net';
import { DATABASE_URL } from './taskyard.js';

/**
 * A TCP proxy in front of a real server (PostgreSQL unless told otherwise)
 * that a test can cut and restore: `cut()` closes the listener and drops every
 * open connection, `open()` listens again on the same port.
 */
export class CuttableProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  /** @param target URL of the server behind the proxy (only its host and port are used). */
  constructor(private readonly target: string = DATABASE_URL) {}

  async open(): Promise<void> {
    if (this.server) return;
    const target = new URL(this.target);
    this.server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', resolve);
    });
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** The target's URL with the proxy's address in it. */
  get url(): string {
    const url = new URL(this.target);
    url.port = String(this.port);
    url.hostname = '127.0.0.1';
    return url.toString();
  }
}
