// The Run form of a task, generated from its input schema. Submits to the API, shows a 400's
// details next to their fields, and opens the new job on 202.
import { useMemo, useState } from 'preact/hooks';
import { enqueue } from '../api/endpoints';
import { ApiError } from '../api/http';
import type { TaskInfo } from '../api/types';
import { useReportError } from '../errors';
import { href, navigate } from '../router';
import { FieldControl } from './field-control';
import { buildInput, initialValues, type RawValues } from './form-values';
import { fieldsOf, leaves } from './schema-fields';

/** The field a server detail path (`input.a.b.0`) belongs to: the longest matching prefix. */
function fieldFor(paths: string[], detailPath: string): string | undefined {
  const parts = detailPath.replace(/^input\.?/, '').split('.');
  for (let n = parts.length; n > 0; n--) {
    const candidate = parts.slice(0, n).join('.');
    if (paths.includes(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The browser's own checks (required, min/max, lengths, pattern) per control, so a plainly
 * wrong value is shown at once instead of costing a 400; the server still judges the rest.
 */
function constraintErrors(form: HTMLFormElement, paths: string[]): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const element of Array.from(form.elements)) {
    if (!(element instanceof HTMLInputElement || element instanceof HTMLSelectElement || element instanceof HTMLTextAreaElement)) continue;
    if (paths.includes(element.name) && !element.checkValidity()) errors[element.name] = element.validationMessage;
  }
  return errors;
}

/** Moves focus to the first of these fields, in form order. */
function focusField(form: HTMLFormElement, paths: string[]): void {
  const first = Array.from(form.elements).find((element) => element instanceof HTMLElement && paths.includes(element.getAttribute('name') ?? ''));
  if (first instanceof HTMLElement) first.focus();
}

export function TaskForm({ task }: { task: TaskInfo }) {
  const report = useReportError();
  const fields = useMemo(() => fieldsOf(task.inputSchema), [task]);
  const paths = useMemo(() => leaves(fields).map((field) => field.path), [fields]);
  const [values, setValues] = useState<RawValues>(() => initialValues(fields));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [sending, setSending] = useState(false);

  const onChange = (path: string, value: string | boolean): void => {
    setValues((old) => ({ ...old, [path]: value }));
    if (errors[path]) setErrors(({ [path]: _gone, ...rest }) => rest);
  };

  const reset = (): void => {
    setValues(initialValues(fields));
    setErrors({});
  };

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const { input, errors: unreadable } = buildInput(fields, values);
    const form = event.currentTarget as HTMLFormElement;
    const local = { ...unreadable, ...constraintErrors(form, paths) };
    setErrors(local);
    if (Object.keys(local).length > 0) return focusField(form, Object.keys(local));
    setSending(true);
    try {
      const job = await enqueue(task.name, input);
      navigate(href(['jobs', job.id]));
    } catch (error) {
      if (error instanceof ApiError && error.status === 400 && error.details.length > 0) {
        const byField: Record<string, string> = {};
        const unplaced: string[] = [];
        for (const detail of error.details) {
          const path = fieldFor(paths, detail.path);
          if (path) byField[path] = byField[path] ? `${byField[path]}; ${detail.message}` : detail.message;
          else unplaced.push(`${detail.path || 'input'}: ${detail.message}`);
        }
        setErrors(byField);
        focusField(form, Object.keys(byField));
        if (unplaced.length > 0) report(new ApiError(error.code, unplaced.join('; '), error.status));
      } else report(error);
    } finally {
      setSending(false);
    }
  };

  return (
    <form class="task-form" data-testid="task-form" noValidate onSubmit={(event) => void submit(event)}>
      {fields.length === 0 && <p class="muted">This task takes no input.</p>}
      {fields.map((field) => (
        <FieldControl key={field.path} field={field} values={values} errors={errors} onChange={onChange} />
      ))}
      <div class="actions">
        <button type="submit" data-testid="task-run" disabled={sending}>
          {sending ? 'Starting…' : `Run ${task.name}`}
        </button>
        <button type="button" class="quiet" onClick={reset}>
          Reset to defaults
        </button>
      </div>
    </form>
  );
}
