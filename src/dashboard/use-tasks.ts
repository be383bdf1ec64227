// The registered tasks, fetched once per page load and shared by the pages that need them.
import { useEffect, useState } from 'preact/hooks';
import { listTasks } from './api/endpoints';
import type { TaskInfo } from './api/types';
import { useReportError } from './errors';

let cached: Promise<TaskInfo[]> | undefined;

export function useTasks(): TaskInfo[] | undefined {
  const [tasks, setTasks] = useState<TaskInfo[] | undefined>(undefined);
  const report = useReportError();
  useEffect(() => {
    let current = true;
    cached ??= listTasks();
    cached.then(
      (list) => current && setTasks(list),
      (error: unknown) => {
        cached = undefined; // try again next time
        if (current) report(error);
      },
    );
    return () => {
      current = false;
    };
  }, [report]);
  return tasks;
}
