// Turns a multipart upload (a text file plus form fields) into the fields of
// document-analysis's input, refusing what is not text before it is stored.
import type { FastifyRequest } from 'fastify';
import { TaskyardError } from '../../errors.js';
import { MAX_TEXT_BYTES } from './document-input.js';

/** @fastify/multipart's limits on parts: like a file too large, more than we take (413). */
const TOO_MANY = new Set(['FST_FILES_LIMIT', 'FST_FIELDS_LIMIT', 'FST_PARTS_LIMIT']);

/** Options for `@fastify/multipart`, registered in the recipe's scope. */
export const UPLOAD_LIMITS = {
  fileSize: MAX_TEXT_BYTES,
  files: 1,
  fields: 10,
  fieldSize: MAX_TEXT_BYTES,
  parts: 11,
} as const;

const invalid = (path: string, message: string): TaskyardError =>
  new TaskyardError('TASKYARD_ERR_VALIDATION', `Invalid upload: ${path}: ${message}`, [{ path, message }]);

/**
 * Reads the parts: the file `file` (or a field `text`), `keywords` (a JSON
 * array or a comma-separated list; may repeat), numeric fields as numbers.
 * Unknown fields pass through, for the input schema to name.
 */
export async function readUpload(request: FastifyRequest): Promise<Record<string, unknown>> {
  const fields: Record<string, unknown> = {};
  let keywords: string[] | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') throw invalid(part.fieldname, 'unexpected file (send the document as "file")');
        fields.text = decodeText(await part.toBuffer());
        continue;
      }
      if (part.valueTruncated) throw new TaskyardError('TASKYARD_ERR_BODY_TOO_LARGE', `The field "${part.fieldname}" is larger than ${MAX_TEXT_BYTES} bytes (1 MiB)`);
      const value = String(part.value);
      if (part.fieldname === 'keywords') keywords = [...(keywords ?? []), ...parseKeywords(value)];
      else fields[part.fieldname] = /^\d+$/.test(value) ? Number(value) : value;
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw new TaskyardError('TASKYARD_ERR_BODY_TOO_LARGE', `The file is larger than ${MAX_TEXT_BYTES} bytes (1 MiB)`);
    if (typeof code === 'string' && TOO_MANY.has(code)) {
      throw new TaskyardError('TASKYARD_ERR_BODY_TOO_LARGE', `The upload has too many parts: one file and at most ${UPLOAD_LIMITS.fields} fields`);
    }
    throw error;
  }
  if (fields.text === undefined) throw invalid('file', 'a text file is required (or a "text" field)');
  if (keywords) fields.keywords = keywords;
  return fields;
}

/** A form sends a list as `["a","b"]` or `a, b`. */
function parseKeywords(value: string): string[] {
  if (!value.trim().startsWith('[')) {
    return value
      .split(',')
      .map((keyword) => keyword.trim())
      .filter((keyword) => keyword !== '');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw invalid('keywords', 'not a valid JSON array (or send a comma-separated list)');
  }
  if (!Array.isArray(parsed) || !parsed.every((item): item is string => typeof item === 'string')) {
    throw invalid('keywords', 'must be a JSON array of strings');
  }
  return parsed;
}

/** UTF-8 text, without NUL bytes: anything else is taken for a binary file. */
function decodeText(bytes: Buffer): string {
  if (bytes.length === 0) throw invalid('file', 'the file is empty');
  if (bytes.includes(0)) throw invalid('file', 'not a text file (it contains NUL bytes)');
  try {
    // fatal: invalid UTF-8 throws instead of becoming U+FFFD; a leading BOM is dropped.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid('file', 'not a text file (it is not valid UTF-8)');
  }
}
