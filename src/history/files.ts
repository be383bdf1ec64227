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

/** Bytes per chunk row: small enough that one write or read never holds the embedded database long. */
const CHUNK_BYTES = 256 * 1024;

/** Artifacts and uploads, as rows of the history database (their bytes in chunks). */
export class FileStore {
  private readonly s: string;

  constructor(
    private readonly db: Database,
    schema: string,
  ) {
    this.s = schemaIdent(schema);
  }

  /** Stores (or replaces) a job's artifact `name`; the old one stays readable until the new one is complete. */
  async putArtifact(jobId: string, name: string, contentType: string, data: Uint8Array): Promise<FileInfo> {
    return this.write({ kind: 'artifact', jobId, name: safeFileName(name, 'artifact'), contentType, data });
  }

  async artifacts(jobId: string): Promise<FileInfo[]> {
    const { rows } = await this.db.query<FileRow>(
      `SELECT ${INFO_COLUMNS} FROM ${this.s}.files WHERE job_id = $1 AND kind = 'artifact' AND complete ORDER BY name`,
      [jobId],
    );
    return rows.map(toInfo);
  }

  async artifact(jobId: string, name: string): Promise<FileInfo | undefined> {
    const { rows } = await this.db.query<FileRow>(
      `SELECT ${INFO_COLUMNS} FROM ${this.s}.files WHERE job_id = $1 AND kind = 'artifact' AND complete AND name = $2`,
      [jobId, name],
    );
    return rows[0] && toInfo(rows[0]);
  }

  /** A file's bytes, chunk by chunk (one query each). */
  async *chunks(fileId: string): AsyncGenerator<Buffer> {
    for (let n = 0; ; n++) {
      const { rows } = await this.db.query<{ data: Uint8Array }>(`SELECT data FROM ${this.s}.file_chunks WHERE file_id = $1 AND n = $2`, [fileId, n]);
      if (!rows[0]) return;
      yield Buffer.from(rows[0].data);
    }
  }

  /** Stores an upload for a job to read later. */
  async putUpload(name: string, contentType: string, data: Uint8Array): Promise<FileInfo> {
    return this.write({ kind: 'upload', jobId: null, name: safeFileName(name, 'upload'), contentType, data });
  }

  async upload(id: string): Promise<StoredFile | undefined> {
    const { rows } = await this.db.query<FileRow>(`SELECT ${INFO_COLUMNS} FROM ${this.s}.files WHERE id = $1 AND kind = 'upload' AND complete`, [id]);
    if (!rows[0]) return undefined;
    const parts: Buffer[] = [];
    for await (const chunk of this.chunks(id)) parts.push(chunk);
    return { ...toInfo(rows[0]), data: Buffer.concat(parts) };
  }

  /** Deletes an upload no job has claimed (its job was refused). */
  async deleteUpload(id: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.s}.files WHERE id = $1 AND kind = 'upload' AND job_id IS NULL`, [id]);
  }

  /** Ties an upload to the job that reads it, so it goes when the job's history goes. */
  async claimUpload(id: string, jobId: string): Promise<void> {
    await this.db.query(`UPDATE ${this.s}.files SET job_id = $2 WHERE id = $1 AND kind = 'upload'`, [id, jobId]);
  }

  /**
   * Writes the file row (incomplete), its chunks one statement each, then marks
   * it complete — replacing, for an artifact, the previous one of that name in
   * the same statement. A writer that dies halfway leaves an incomplete row no
   * reader sees.
   */
  private async write(file: { kind: 'artifact' | 'upload'; jobId: string | null; name: string; contentType: string; data: Uint8Array }): Promise<FileInfo> {
    const id = uuidv7();
    await this.db.query(
      `INSERT INTO ${this.s}.files (id, job_id, kind, name, content_type, size, sha256) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [id, file.jobId, file.kind, file.name, file.contentType, file.data.byteLength, sha256(file.data)],
    );
    try {
      for (let n = 0, at = 0; at < file.data.byteLength || n === 0; n++, at += CHUNK_BYTES) {
        const chunk = Buffer.from(file.data.buffer, file.data.byteOffset + at, Math.min(CHUNK_BYTES, file.data.byteLength - at));
        await this.db.query(`INSERT INTO ${this.s}.file_chunks (file_id, n, data) VALUES ($1, $2, $3)`, [id, n, chunk]);
      }
      // Two short statements in one transaction: the old artifact goes as the new one appears.
      const rows = await this.db.transaction(async (session) => {
        if (file.kind === 'artifact') {
          await session.query(`DELETE FROM ${this.s}.files WHERE kind = 'artifact' AND job_id = $1 AND name = $2 AND complete`, [file.jobId, file.name]);
        }
        return (await session.query<FileRow>(`UPDATE ${this.s}.files SET complete = true WHERE id = $1 RETURNING ${INFO_COLUMNS}`, [id])).rows;
      });
      return toInfo(rows[0]!);
    } catch (error) {
      await this.db.query(`DELETE FROM ${this.s}.files WHERE id = $1`, [id]).catch(() => undefined);
      throw error;
    }
  }
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
