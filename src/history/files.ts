import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { Database } from './database.js';
import { schemaIdent } from './database.js';

export interface FileInfo {
  id: string;
  jobId: string | null;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  createdAt: string;
}

export interface StoredFile extends FileInfo {
  data: Buffer;
}

interface FileRow {
  id: string;
  job_id: string | null;
  name: string;
  content_type: string;
  size: number;
  sha256: string;
  created_at: Date | string;
  data?: Buffer | Uint8Array;
}

const INFO_COLUMNS = 'id, job_id, name, content_type, size, sha256, created_at';

function toInfo(row: FileRow): FileInfo {
  return {
    id: row.id,
    jobId: row.job_id,
    name: row.name,
    contentType: row.content_type,
    size: Number(row.size),
    sha256: row.sha256,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/**
 * Turns any name into a safe file name: the last path segment only, printable
 * ASCII letters, digits, ".", "_", "-" and spaces (others become "_"), no
 * leading dots, at most 200 characters. Names never reach a file system here,
 * but they do reach `Content-Disposition` headers and users' disks.
 */
export function safeFileName(raw: string, fallback = 'file'): string {
  const last = raw.split(/[\\/]/).pop() ?? '';
  const cleaned = last
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._ -]/g, '_')
    .replace(/^[. ]+/, '')
    .replace(/\s+$/, '')
    .slice(0, 200);
  return cleaned === '' || /^_+$/.test(cleaned) ? fallback : cleaned;
}

/** Artifacts and uploads, as rows of the history database. */
export class FileStore {
  private readonly s: string;

  constructor(
    private readonly db: Database,
    schema: string,
  ) {
    this.s = schemaIdent(schema);
  }

  /** Stores (or replaces) a job's artifact `name`. */
  async putArtifact(jobId: string, name: string, contentType: string, data: Uint8Array): Promise<FileInfo> {
    const { rows } = await this.db.query<FileRow>(
      `INSERT INTO ${this.s}.files (id, job_id, kind, name, content_type, size, sha256, data)
       VALUES ($1, $2, 'artifact', $3, $4, $5, $6, $7)
       ON CONFLICT (job_id, name) WHERE kind = 'artifact'
       DO UPDATE SET content_type = EXCLUDED.content_type, size = EXCLUDED.size, sha256 = EXCLUDED.sha256,
                     data = EXCLUDED.data, created_at = clock_timestamp()
       RETURNING ${INFO_COLUMNS}`,
      [uuidv7(), jobId, safeFileName(name, 'artifact'), contentType, data.byteLength, sha256(data), Buffer.from(data)],
    );
    return toInfo(rows[0]!);
  }

  async artifacts(jobId: string): Promise<FileInfo[]> {
    const { rows } = await this.db.query<FileRow>(
      `SELECT ${INFO_COLUMNS} FROM ${this.s}.files WHERE job_id = $1 AND kind = 'artifact' ORDER BY name`,
      [jobId],
    );
    return rows.map(toInfo);
  }

  async artifact(jobId: string, name: string): Promise<StoredFile | undefined> {
    const { rows } = await this.db.query<FileRow>(
      `SELECT ${INFO_COLUMNS}, data FROM ${this.s}.files WHERE job_id = $1 AND kind = 'artifact' AND name = $2`,
      [jobId, name],
    );
    return rows[0] && withData(rows[0]);
  }

  /** Stores an upload for a job to read later; returns its id. */
  async putUpload(name: string, contentType: string, data: Uint8Array): Promise<FileInfo> {
    const { rows } = await this.db.query<FileRow>(
      `INSERT INTO ${this.s}.files (id, kind, name, content_type, size, sha256, data)
       VALUES ($1, 'upload', $2, $3, $4, $5, $6) RETURNING ${INFO_COLUMNS}`,
      [uuidv7(), safeFileName(name, 'upload'), contentType, data.byteLength, sha256(data), Buffer.from(data)],
    );
    return toInfo(rows[0]!);
  }

  async upload(id: string): Promise<StoredFile | undefined> {
    const { rows } = await this.db.query<FileRow>(`SELECT ${INFO_COLUMNS}, data FROM ${this.s}.files WHERE id = $1 AND kind = 'upload'`, [id]);
    return rows[0] && withData(rows[0]);
  }

  /** Ties an upload to the job that reads it, so it goes when the job's history goes. */
  async claimUpload(id: string, jobId: string): Promise<void> {
    await this.db.query(`UPDATE ${this.s}.files SET job_id = $2 WHERE id = $1 AND kind = 'upload'`, [id, jobId]);
  }
}

function withData(row: FileRow): StoredFile {
  return { ...toInfo(row), data: Buffer.from(row.data ?? new Uint8Array()) };
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
