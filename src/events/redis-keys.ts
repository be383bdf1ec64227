/**
 * Where a job's events live in Redis. Jobs are spread over a fixed number of
 * partitions; every key of a partition carries the same hash tag, so one job's
 * counter, log and partition stream share a Cluster slot (one Lua script can
 * touch them all) while the partitions spread over the Cluster's nodes.
 *
 * Every process of a deployment must agree on this number: it is a constant,
 * not a setting.
 */
export const PARTITIONS = 8;

/** FNV-1a: a stable, cheap hash of the job id. */
export function partitionOf(jobId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < jobId.length; i++) {
    hash ^= jobId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % PARTITIONS;
}

export class RedisKeys {
  constructor(readonly prefix: string) {}

  private tag(partition: number): string {
    return `{${this.prefix}:p${partition}}`;
  }

  /** The stream of every event of the partition's jobs, consumed by the projector group. */
  partitionStream(partition: number): string {
    return `${this.tag(partition)}:events`;
  }

  /** A hash with the job's last `seq` and current `fence`. */
  jobState(jobId: string): string {
    return `${this.tag(partitionOf(jobId))}:job:${jobId}`;
  }

  /** The job's own stream, entry ids `0-<seq>`: replay without scanning other jobs. */
  jobLog(jobId: string): string {
    return `${this.tag(partitionOf(jobId))}:log:${jobId}`;
  }

  /** Pub/sub channel announcing appended events to every API instance. */
  get notesChannel(): string {
    return `${this.prefix}:notes`;
  }

  /** A hash of the worker processes' heartbeats, by worker id. */
  get workers(): string {
    return `{${this.prefix}}:workers`;
  }

  /** Pub/sub channel carrying cancel requests to every worker. */
  get cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }
}
