-- Files: what a job produced (artifacts, named per job) and what a client uploaded for a job to
-- read (uploads, job_id NULL until a job claims them). Kept in the history database so every API
-- and worker process reaches them, whichever machine it runs on.
CREATE TABLE files (
  id           text PRIMARY KEY,
  job_id       text REFERENCES jobs (id) ON DELETE CASCADE,
  kind         text NOT NULL CHECK (kind IN ('artifact', 'upload')),
  name         text NOT NULL,
  content_type text NOT NULL,
  size         integer NOT NULL,
  sha256       text NOT NULL,
  -- False while its chunks are being written: readers never see half a file.
  complete     boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- One artifact per (job, name): a retry that writes it again replaces it once complete.
CREATE UNIQUE INDEX files_artifact_name_idx ON files (job_id, name) WHERE kind = 'artifact' AND complete;

-- The bytes, in chunks written one statement each, so that on the embedded database (one
-- session for everything) a large file never holds every other query up for long.
CREATE TABLE file_chunks (
  file_id text NOT NULL REFERENCES files (id) ON DELETE CASCADE,
  n       integer NOT NULL,
  data    bytea NOT NULL,
  PRIMARY KEY (file_id, n)
);
