// taskyard/client: a typed HTTP client for a Taskyard server. Needs only `fetch`.
export { createClient, TaskyardClient, type ClientOptions } from './client.js';
export { EnqueuedJob, JobHandle } from './job-handle.js';
export { TaskyardHttpError } from './http-error.js';
export { JobFailedError } from './job-failed-error.js';
export type { ReconnectOptions } from './follow-events.js';
export type { InputOf, ResultOf, TaskName, TasksOf } from './task-types.js';
export type {
  CallOptions,
  CancelResult,
  EnqueuedJobInfo,
  EnqueueOptions,
  EventsOptions,
  JobInfo,
  JobLinks,
  JobPage,
  JobProgress,
  ListJobsOptions,
  TaskInfo,
} from './types.js';
export type { EventType, JobEvent, JobStatus, StatusData } from '../events/types.js';
export type { JobError } from '../errors.js';
