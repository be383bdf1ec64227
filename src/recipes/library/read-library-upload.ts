// Reads POST /api/library/jobs's multipart form: one file `file` (the library,
// buffered up to the limit) and an optional JSON field `config`.
import type { FastifyRequest } from 'fastify';
import { TaskyardError } from '../../errors.js';

/** Largest `config` field: it holds a few small settings. */
const MAX_CONFIG_BYTES = 4096;
/** @fastify/multipart's limits on parts: like a file too large, more than we take (413). */
const TOO_MANY = new Set(['FST_FILES_LIMIT', 'FST_FIELDS_LIMIT', 'FST_PARTS_LIMIT']);

/** Options for `@fastify/multipart`, registered in the recipe's scope; the file limit is checked as it streams in. */
export const uploadLimits = (maxBytes: number) => ({ fileSize: maxBytes, files: 1, fields: 4, fieldSize: MAX_CONFIG_BYTES, parts: 5 }) as const;

export interface LibraryUpload {
  /** The last path segment of the file's name, without control characters. */
  fileName: string;
  bytes: Buffer;
  /** The `config` field's text, if sent. */
  config: string | undefined;
}

export const invalidUpload = (path: string, message: string): TaskyardError =>
  new TaskyardError('TASKYARD_ERR_VALIDATION', `Invalid upload: ${path}: ${message}`, [{ path, message }]);

export async function readLibraryUpload(request: FastifyRequest, maxBytes: number): Promise<LibraryUpload> {
  let file: { fileName: string; bytes: Buffer } | undefined;
  let config: string | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') throw invalidUpload(part.fieldname, 'unexpected file (send the library as "file")');
        file = { fileName: displayFileName(part.filename), bytes: await part.toBuffer() };
      } else if (part.fieldname === 'config') {
        if (part.valueTruncated) throw new TaskyardError('TASKYARD_ERR_BODY_TOO_LARGE', `The config field is larger than ${MAX_CONFIG_BYTES} bytes`);
        config = String(part.value);
      } else {
        throw invalidUpload(part.fieldname, 'unknown field (send "file" and, optionally, "config")');
      }
    }
  } catch (error) {
    if (error instanceof TaskyardError) throw error;
    const code = (error as { code?: unknown }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw new TaskyardError('TASKYARD_ERR_BODY_TOO_LARGE', `The library is larger than ${maxBytes} bytes`, { maxBytes });
    if (typeof code === 'string' && TOO_MANY.has(code)) throw new TaskyardError('TASKYARD_ERR_BODY_TOO_LARGE', 'The upload has too many parts: one file and a config field');
    // Anything else the form parser throws (no boundary, a body cut short) is the client's malformed form, not our failure.
    throw new TaskyardError('TASKYARD_ERR_BAD_REQUEST', `The multipart form could not be read: ${(error as Error).message}`);
  }
  if (!file) throw invalidUpload('file', 'a Rekordbox XML library is required (a file field named "file")');
  return { ...file, config };
}

/** Browsers send a base name, other clients anything: keep the last segment, printable, at most 200 characters. */
function displayFileName(raw: string | undefined): string {
  const last = (raw ?? '').split(/[\\/]/).pop() ?? '';
  // By code points, so a cut never leaves half a surrogate pair (which PostgreSQL refuses in jsonb).
  const name = Array.from(last.replace(/[\u0000-\u001f\u007f]/g, '').trim()).slice(0, 200).join('');
  return name === '' || /^\.+$/.test(name) ? 'library.xml' : name;
}
