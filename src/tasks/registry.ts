import { z } from 'zod';
import type { AnyTask } from './define-task.js';

export interface TaskInfo {
  name: string;
  queue: string;
  description?: string;
  attempts: number;
  timeoutMs?: number;
  hardTimeoutMs?: number;
  inputSchema: unknown;
}

/** The tasks this process knows, by name. */
export class TaskRegistry {
  private readonly tasks = new Map<string, AnyTask>();

  constructor(tasks: Iterable<AnyTask> = []) {
    for (const task of tasks) this.add(task);
  }

  add(task: AnyTask): void {
    const existing = this.tasks.get(task.name);
    if (existing && existing !== task && existing.source?.moduleUrl !== task.source?.moduleUrl) {
      throw new Error(`Two tasks are named "${task.name}"`);
    }
    this.tasks.set(task.name, task);
  }

  get(name: string): AnyTask | undefined {
    return this.tasks.get(name);
  }

  all(): AnyTask[] {
    return [...this.tasks.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  queues(): string[] {
    return [...new Set(this.all().map((task) => task.queue))].sort();
  }

  info(task: AnyTask): TaskInfo {
    const info: TaskInfo = {
      name: task.name,
      queue: task.queue,
      attempts: task.retry.attempts,
      inputSchema: inputJsonSchema(task),
    };
    if (task.description) info.description = task.description;
    if (task.timeoutMs !== undefined) info.timeoutMs = task.timeoutMs;
    if (task.hardTimeoutMs !== undefined) info.hardTimeoutMs = task.hardTimeoutMs;
    return info;
  }
}

const schemaCache = new WeakMap<z.ZodType, unknown>();

/** The task's input as JSON Schema (for OpenAPI, `GET /v1/tasks` and forms). */
export function inputJsonSchema(task: AnyTask): unknown {
  let schema = schemaCache.get(task.input);
  if (schema === undefined) {
    try {
      schema = z.toJSONSchema(task.input, { io: 'input', unrepresentable: 'any' });
    } catch {
      schema = {};
    }
    schemaCache.set(task.input, schema);
  }
  return schema;
}
