// Every registered task, and one task's page with its Run form.
import type { TaskInfo } from '../api/types';
import { DataTable } from '../components/data-table';
import { duration, json } from '../format';
import { TaskForm } from '../form/task-form';
import { href } from '../router';
import { useTasks } from '../use-tasks';

const limit = (ms: number | undefined): string => (ms === undefined ? '—' : duration(ms));

const columns = [
  { label: 'Task' },
  { label: 'Queue' },
  { label: 'Attempts', num: true },
  { label: 'Time limit', num: true },
  { label: 'Hard limit', num: true },
  { label: 'Actions', hidden: true },
];

function Schema({ task }: { task: TaskInfo }) {
  return (
    <details class="schema">
      <summary>Input schema</summary>
      <pre class="json">{json(task.inputSchema)}</pre>
    </details>
  );
}

export function TasksPage() {
  const tasks = useTasks();
  return (
    <>
      <h1>Tasks</h1>
      {!tasks && <p class="muted">Loading tasks…</p>}
      {tasks && tasks.length === 0 && <p class="empty">No task is registered.</p>}
      {tasks && tasks.length > 0 && (
        <DataTable columns={columns} className="tasks">
          {tasks.map((task) => (
            <tr key={task.name} data-testid="task-row" data-task={task.name}>
              <th scope="row">
                <a href={href(['tasks', task.name])}>{task.name}</a>
                {task.description && <p class="hint">{task.description}</p>}
                <Schema task={task} />
              </th>
              <td>
                <a href={href(['jobs'], { queue: task.queue })}>{task.queue}</a>
              </td>
              <td class="num">{task.attempts}</td>
              <td class="num">{limit(task.timeoutMs)}</td>
              <td class="num">{limit(task.hardTimeoutMs)}</td>
              <td>
                <a class="button small" href={href(['tasks', task.name])} aria-label={`Run ${task.name}`}>
                  Run
                </a>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </>
  );
}

export function TaskPage({ name }: { name: string }) {
  const tasks = useTasks();
  const task = tasks?.find((candidate) => candidate.name === name);
  return (
    <>
      <p class="crumbs">
        <a href="#/tasks">Tasks</a> / {name}
      </p>
      <h1>Run {name}</h1>
      {!tasks && <p class="muted">Loading…</p>}
      {tasks && !task && <p class="empty">No task named <code>{name}</code>.</p>}
      {task && (
        <>
          {task.description && <p>{task.description}</p>}
          <p class="muted">
            Queue <a href={href(['jobs'], { queue: task.queue })}>{task.queue}</a> · {task.attempts} attempt{task.attempts === 1 ? '' : 's'} · time
            limit {limit(task.timeoutMs)} · <a href={href(['jobs'], { task: task.name })}>its jobs</a>
          </p>
          <TaskForm task={task} key={task.name} />
          <Schema task={task} />
        </>
      )}
    </>
  );
}
