// One control of the Run form, with its label, hint and error; objects become fieldsets.
import { optionKey, type RawValues } from './form-values';
import type { Field } from './schema-fields';

interface Props {
  field: Field;
  values: RawValues;
  errors: Record<string, string>;
  onChange: (path: string, value: string | boolean) => void;
}

const controlId = (path: string): string => `field-${path}`;

interface Limits {
  min?: number;
  max?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, 'v');
    return true;
  } catch {
    return false;
  }
}

function limits(field: Field): Limits {
  const s = field.schema;
  const attributes: Limits = {};
  const min = s.minimum ?? s.exclusiveMinimum;
  const max = s.maximum ?? s.exclusiveMaximum;
  // zod writes the safe-integer bounds for every int: they say nothing to a person.
  if (min !== undefined && Math.abs(min) < Number.MAX_SAFE_INTEGER) attributes.min = min;
  if (max !== undefined && Math.abs(max) < Number.MAX_SAFE_INTEGER) attributes.max = max;
  if (s.minLength !== undefined) attributes.minLength = s.minLength;
  if (s.maxLength !== undefined) attributes.maxLength = s.maxLength;
  // A format has its own input type; a pattern the browser cannot compile (it uses the `v` flag) would be logged.
  if (s.pattern !== undefined && s.format === undefined && compiles(s.pattern)) attributes.pattern = s.pattern;
  return attributes;
}

const inputType = (format: string | undefined): 'email' | 'url' | 'text' =>
  format === 'email' ? 'email' : format === 'uri' || format === 'url' ? 'url' : 'text';

function Control({ field, values, onChange, describedBy }: Omit<Props, 'errors'> & { describedBy: string | undefined }) {
  const common = {
    id: controlId(field.path),
    name: field.path,
    'data-testid': controlId(field.path),
    required: field.required && field.kind !== 'boolean',
    'aria-describedby': describedBy,
  };
  const value = values[field.path];
  const text = typeof value === 'string' ? value : '';
  const onInput = (event: Event): void => onChange(field.path, (event.currentTarget as HTMLInputElement).value);
  switch (field.kind) {
    case 'boolean':
      return <input {...common} type="checkbox" checked={value === true} onChange={(e) => onChange(field.path, e.currentTarget.checked)} />;
    case 'number':
      return <input {...common} {...limits(field)} type="number" inputMode={field.integer ? 'numeric' : 'decimal'} step={field.integer ? 1 : 'any'} value={text} onInput={onInput} />;
    case 'text': {
      const props = { ...common, ...limits(field), value: text, onInput };
      const type = inputType(field.schema.format);
      return type === 'email' ? <input {...props} type="email" /> : type === 'url' ? <input {...props} type="url" /> : <input {...props} type="text" />;
    }
    case 'union':
      return <input {...common} type="text" value={text} onInput={onInput} placeholder={field.types.join(' | ')} />;
    case 'const':
      return <input {...common} type="text" readOnly value={JSON.stringify(field.value)} />;
    case 'choice':
      return (
        <select {...common} value={text} onChange={onInput}>
          {(!field.required || text === '') && <option value="">—</option>}
          {field.options.map((option) => (
            <option key={optionKey(option)} value={optionKey(option)}>
              {typeof option === 'string' ? option : JSON.stringify(option)}
            </option>
          ))}
        </select>
      );
    case 'list':
      return <textarea {...common} rows={3} value={text} onInput={onInput} placeholder={`one ${field.item} per line`} />;
    case 'json':
    case 'object':
      return <textarea {...common} class="mono" rows={4} spellcheck={false} value={text} onInput={onInput} placeholder="JSON" />;
  }
}

export function FieldControl({ field, values, errors, onChange }: Props) {
  if (field.kind === 'object') {
    return (
      <fieldset class="nested">
        <legend>{field.label}</legend>
        {field.description && <p class="hint">{field.description}</p>}
        {field.fields.map((child) => (
          <FieldControl key={child.path} field={child} values={values} errors={errors} onChange={onChange} />
        ))}
      </fieldset>
    );
  }
  const error = errors[field.path];
  const hintId = field.description ? `hint-${field.path}` : undefined;
  const errorId = error ? `field-error-${field.path}` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${field.kind === 'boolean' ? ' check' : ''}${error ? ' invalid' : ''}`}>
      <label for={controlId(field.path)}>
        {field.label}
        {field.required && field.kind !== 'boolean' && <span aria-hidden="true"> *</span>}
        {field.kind === 'json' && <span class="muted"> (JSON)</span>}
      </label>
      <Control field={field} values={values} onChange={onChange} describedBy={describedBy} />
      {field.description && (
        <p class="hint" id={hintId}>
          {field.description}
        </p>
      )}
      {error && (
        <p class="field-error" id={errorId} data-testid={`field-error-${field.path}`}>
          {error}
        </p>
      )}
    </div>
  );
}
