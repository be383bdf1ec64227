import type { AnyTask, TaskInput, TaskResult } from '../tasks/define-task.js';

/**
 * The tasks a client knows about, from what the app passes as `createClient<T>`:
 * a module namespace or record of exports, an array or tuple, or a single task.
 * Values that are not tasks (helpers exported beside them) are dropped.
 */
export type TasksOf<T> = Extract<
  T extends AnyTask ? T : T extends readonly unknown[] ? T[number] : T[keyof T],
  AnyTask
>;

/** True when `T` names no task: the client is untyped. */
type Untyped<T> = [TasksOf<T>] extends [never] ? true : false;

/** The task names a client accepts; any string when untyped. */
export type TaskName<T> = Untyped<T> extends true ? string : TasksOf<T>['name'];

/** The task called `Name`. */
export type TaskNamed<T, Name> = Extract<TasksOf<T>, { name: Name }>;

/** What `enqueue(name, input)` accepts: the schema's input type; `unknown` when untyped. */
export type InputOf<T, Name> = Untyped<T> extends true ? unknown : TaskInput<TaskNamed<T, Name>>;

/**
 * What `job.result()` resolves with: the return type of the task's `run`; `unknown`
 * when untyped. The value travels as JSON, so a `Date` arrives as a string.
 */
export type ResultOf<T, Name> = Untyped<T> extends true ? unknown : TaskResult<TaskNamed<T, Name>>;
