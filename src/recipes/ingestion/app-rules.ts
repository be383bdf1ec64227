import type { Logger } from '../../logger.js';
import type { Broadcast } from '../../services/broadcast.js';
import type { AppStore } from './app-store.js';
import { compileRules, type CompiledRules } from './validation.js';

/** Carries the id of an app that changed, to every process. */
export const APPS_CHANNEL = 'ingestion.apps';

interface Entry {
  at: number;
  rules: Promise<CompiledRules | undefined>;
}

/**
 * Every app's compiled rules, kept in this process so a request reads no
 * database and compiles nothing. An app changed by `POST /api/apps` in any
 * process is dropped everywhere through the broadcast; the TTL is only a
 * backstop for a broadcast this process missed (while disconnected).
 */
export class AppRules {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly store: AppStore,
    private readonly broadcast: Broadcast,
    private readonly logger: Logger,
    private readonly ttlMs = 60_000,
  ) {}

  /** Listens for changes made by other processes; returns how to stop. */
  async listen(): Promise<() => Promise<void>> {
    return this.broadcast.subscribe(APPS_CHANNEL, (appId) => {
      this.entries.delete(appId);
    });
  }

  /** The app's rules, or undefined for an unknown app (not remembered: it may be registered next). */
  get(appId: string): Promise<CompiledRules | undefined> {
    const entry = this.entries.get(appId);
    if (entry && Date.now() - entry.at < this.ttlMs) return entry.rules;
    const fresh: Entry = { at: Date.now(), rules: this.load(appId) };
    this.entries.set(appId, fresh);
    const forget = (): void => {
      if (this.entries.get(appId) === fresh) this.entries.delete(appId);
    };
    fresh.rules.then((rules) => {
      if (!rules) forget();
    }, forget);
    // An expired entry keeps answering while its replacement loads: no request waits on the refresh.
    return entry ? entry.rules : fresh.rules;
  }

  /** Drops the app here at once, then in every other process. */
  async changed(appId: string): Promise<void> {
    this.entries.delete(appId);
    await this.broadcast.publish(APPS_CHANNEL, appId);
  }

  private async load(appId: string): Promise<CompiledRules | undefined> {
    const app = await this.store.get(appId);
    if (!app) return undefined;
    const rules = compileRules(app.id, app.events);
    this.logger.debug({ appId, events: Object.keys(app.events).length }, 'ingestion: compiled an app\'s rules');
    return rules;
  }
}
