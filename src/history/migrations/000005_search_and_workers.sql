-- Searching history (the dashboard's Jobs page), throughput over time, retries
-- as new jobs, and the workers' heartbeats.

-- What a text search looks at: the start of the input, and the error's code and
-- message (not its stack). Bounded, so a job with a huge input costs the index
-- no more than a small one.
CREATE FUNCTION job_search_text(p_input jsonb, p_error jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT left(p_input::text, 4096) || ' ' || coalesce(p_error->>'code', '') || ' ' || coalesce(p_error->>'message', '')
$$;

-- Substring search (ILIKE '%…%') is indexed by trigrams. pg_trgm is one per
-- database (other deployments' schemas share it), so it goes into `public`, under
-- a lock so that concurrent first starts do not race to create it. Where it
-- cannot be created (no privilege, not installed), search still works, unindexed.
DO $$
DECLARE
  v_schema text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    PERFORM pg_advisory_xact_lock(hashtext('taskyard:pg_trgm'));
    BEGIN
      CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE 'pg_trgm unavailable (%): job search runs without its index', SQLERRM;
    END;
  END IF;
  SELECT n.nspname INTO v_schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname = 'pg_trgm';
  IF v_schema IS NOT NULL THEN
    EXECUTE format('CREATE INDEX jobs_search_idx ON jobs USING gin (job_search_text(input, error) %I.gin_trgm_ops)', v_schema);
  END IF;
END
$$;

CREATE INDEX jobs_queue_id_idx ON jobs (queue, id DESC);
CREATE INDEX jobs_created_at_idx ON jobs (created_at);
-- Throughput per bucket of time reads only recent endings.
CREATE INDEX jobs_finished_at_idx ON jobs (finished_at) WHERE finished_at IS NOT NULL;

-- A retry is a new job; it remembers the one it retries (whose history stays as it was).
ALTER TABLE jobs ADD COLUMN retry_of text;

-- One row per worker process, refreshed by its heartbeat, removed when it stops.
CREATE TABLE workers (
  id           text PRIMARY KEY,
  info         jsonb NOT NULL,
  heartbeat_at timestamptz NOT NULL
);
