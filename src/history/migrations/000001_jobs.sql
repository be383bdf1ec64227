-- Durable job history: one row per job, one row per event of its log.
-- Unqualified names: the migrator sets search_path to the history schema.

CREATE TABLE jobs (
  id                  text PRIMARY KEY,
  task                text NOT NULL,
  queue               text NOT NULL,
  status              text NOT NULL,
  input               jsonb NOT NULL,
  result              jsonb,
  error               jsonb,
  progress            jsonb,
  priority            integer NOT NULL DEFAULT 0,
  max_attempts        integer NOT NULL,
  attempts            integer NOT NULL DEFAULT 0,
  idempotency_key     text UNIQUE,
  cancel_requested_at timestamptz,
  last_seq            integer NOT NULL DEFAULT 0,
  created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
  run_at              timestamptz,
  started_at          timestamptz,
  finished_at         timestamptz,
  updated_at          timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Ids are UUIDv7 (time-ordered): "newest first" pages walk the primary key backwards.
CREATE INDEX jobs_task_id_idx ON jobs (task, id DESC);
CREATE INDEX jobs_status_id_idx ON jobs (status, id DESC);

CREATE TABLE job_events (
  job_id     text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  seq        integer NOT NULL,
  type       text NOT NULL,
  data       jsonb,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (job_id, seq)
);

-- Appends events to a job's log with the next seqs, projects them onto the job
-- row and announces each on NOTIFY channel '<schema>:events', all in one
-- statement. The row lock on the job serialises writers, so seqs have no gaps and
-- commit order equals seq order.
CREATE FUNCTION append_events(p_job_id text, p_events jsonb)
RETURNS TABLE (seq integer, type text, data jsonb, created_at timestamptz)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  v_seq         integer;
  v_event       jsonb;
  v_status      text;
  v_attempt     integer;
  v_progress    jsonb;
  v_result      jsonb;
  v_has_result  boolean := false;
  v_error       jsonb;
  v_has_error   boolean := false;
  v_now         timestamptz := clock_timestamp();
  v_channel     text := current_schema() || ':events';
  v_payload     text;
BEGIN
  SELECT j.last_seq INTO v_seq FROM jobs j WHERE j.id = p_job_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;

  FOR v_event IN SELECT e.value FROM jsonb_array_elements(p_events) AS e LOOP
    v_seq := v_seq + 1;
    CASE v_event->>'type'
      WHEN 'status' THEN
        v_status := v_event->'data'->>'status';
        v_attempt := COALESCE((v_event->'data'->>'attempt')::integer, v_attempt);
      WHEN 'progress' THEN
        v_progress := v_event->'data';
      WHEN 'result' THEN
        v_result := v_event->'data';
        v_has_result := true;
      WHEN 'error' THEN
        v_error := v_event->'data';
        v_has_error := true;
      ELSE
        NULL;
    END CASE;

    INSERT INTO job_events (job_id, seq, type, data, created_at)
    VALUES (p_job_id, v_seq, v_event->>'type', v_event->'data', v_now);

    seq := v_seq;
    type := v_event->>'type';
    data := v_event->'data';
    created_at := v_now;

    -- NOTIFY payloads are limited to 8000 bytes: big events announce only their seq.
    v_payload := jsonb_build_object('j', p_job_id, 's', v_seq, 't', type, 'd', data, 'a', v_now)::text;
    IF octet_length(v_payload) > 7900 THEN
      v_payload := jsonb_build_object('j', p_job_id, 's', v_seq)::text;
    END IF;
    PERFORM pg_notify(v_channel, v_payload);
    RETURN NEXT;
  END LOOP;

  UPDATE jobs j
     SET last_seq    = v_seq,
         status      = COALESCE(v_status, j.status),
         attempts    = COALESCE(v_attempt, j.attempts),
         progress    = COALESCE(v_progress, j.progress),
         result      = CASE WHEN v_has_result THEN v_result ELSE j.result END,
         error       = CASE WHEN v_has_error THEN v_error
                            WHEN v_status = 'completed' THEN NULL
                            ELSE j.error END,
         started_at  = CASE WHEN v_status = 'active' THEN COALESCE(j.started_at, v_now) ELSE j.started_at END,
         finished_at = CASE WHEN v_status IN ('completed', 'failed', 'cancelled') THEN v_now
                            WHEN v_status IS NOT NULL THEN NULL
                            ELSE j.finished_at END,
         updated_at  = v_now
   WHERE j.id = p_job_id;
END;
$$;
