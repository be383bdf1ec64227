import net from 'node:net';
import { DATABASE_URL } from './taskyard.js';

/**
 * A TCP proxy in front of a real server (PostgreSQL unless told otherwise)
 * that a test can cut and restore: `cut()` closes the listener and drops every
 * open connection, `open()` listens again on the same port. `freeze()` is the
 * silent kind of failure, a network partition: connections stay open and
 * nothing gets through either way; `thaw()` delivers what was held, in order
 * (as TCP would once the network heals).
 */
export class CuttableProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private frozen = false;
  private readonly held: Array<() => void> = [];
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
      const forward = (to: net.Socket) => (data: Buffer) => {
        if (this.frozen) this.held.push(() => to.write(data));
        else to.write(data);
      };
      client.on('data', forward(upstream));
      upstream.on('data', forward(client));
      client.on('end', () => upstream.end());
      upstream.on('end', () => client.end());
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

  /** Holds every byte, both ways, on every connection (new ones included), and closes nothing. */
  freeze(): void {
    this.frozen = true;
  }

  /** Delivers what was held, then lets bytes through again. */
  thaw(): void {
    this.frozen = false;
    for (const write of this.held.splice(0)) write();
  }

  /** The target's URL with the proxy's address in it. */
  get url(): string {
    const url = new URL(this.target);
    url.port = String(this.port);
    url.hostname = '127.0.0.1';
    return url.toString();
  }
}
