// The /v1 endpoints the dashboard uses, one function each.
import { request } from './http';
import type { Artifact, JobPage, JobView, QueueInfo, TaskInfo, Throughput, WorkerInfo } from './types';

const enc = encodeURIComponent;

export const listTasks = async (): Promise<TaskInfo[]> => (await request<{ tasks: TaskInfo[] }>('GET', '/v1/tasks')).tasks;

export const enqueue = (task: string, input: unknown): Promise<JobView> => request('POST', `/v1/tasks/${enc(task)}/jobs`, { input });

export const getJob = (id: string): Promise<JobView> => request('GET', `/v1/jobs/${enc(id)}`);

/** Search history; `filters` are the query parameters of GET /v1/jobs (empty ones are left out). */
export function listJobs(filters: Record<string, string>): Promise<JobPage> {
  const query = new URLSearchParams(Object.entries(filters).filter(([, value]) => value !== ''));
  return request('GET', `/v1/jobs?${query}`);
}

export const cancelJob = (id: string): Promise<{ id: string; status: string }> => request('POST', `/v1/jobs/${enc(id)}/cancel`);

export const retryJob = (id: string): Promise<JobView> => request('POST', `/v1/jobs/${enc(id)}/retry`);

export const listArtifacts = async (id: string): Promise<Artifact[]> =>
  (await request<{ artifacts: Artifact[] }>('GET', `/v1/jobs/${enc(id)}/artifacts`)).artifacts;

export const jobEventsUrl = (id: string): string => `/v1/jobs/${enc(id)}/events`;

export const listQueues = async (): Promise<QueueInfo[]> => (await request<{ queues: QueueInfo[] }>('GET', '/v1/queues')).queues;

export const setQueuePaused = (queue: string, paused: boolean): Promise<{ name: string; paused: boolean }> =>
  request('POST', `/v1/queues/${enc(queue)}/${paused ? 'pause' : 'resume'}`);

export const listWorkers = async (): Promise<WorkerInfo[]> => (await request<{ workers: WorkerInfo[] }>('GET', '/v1/workers')).workers;

export const throughput = (minutes: number): Promise<Throughput> => request('GET', `/v1/stats/throughput?minutes=${minutes}`);
