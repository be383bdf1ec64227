// Public API of the `taskyard` package.
export { defineTask, isTask } from './tasks/define-task.js';
export type {
  AnyTask,
  BackoffOptions,
  ProgressUpdate,
  Remote,
  RetryOptions,
  Task,
  TaskContext,
  TaskDefinition,
  TaskInput,
  TaskResult,
} from './tasks/define-task.js';
export { PermanentError, TaskyardError, ERROR_CODES } from './errors.js';
export type { ErrorCode, JobError } from './errors.js';
export { createTaskyard } from './taskyard.js';
export type { Role, Taskyard, TaskyardOptions } from './taskyard.js';
export { taskyardApi } from './api/plugin.js';
export type { TaskyardApiOptions } from './api/plugin.js';
export type { Config, ConfigInput } from './config.js';
export type { EventType, JobEvent, JobStatus } from './events/types.js';
