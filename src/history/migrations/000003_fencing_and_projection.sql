-- Fencing: every run of a job (a retry, or a re-run after its worker stalled)
-- takes the next fence; writes that carry an older fence are refused, so a run
-- that lost its job can never add to the log of the run that replaced it.
ALTER TABLE jobs ADD COLUMN fence integer NOT NULL DEFAULT 0;

-- Starts a run: takes the next fence and appends `status: active` with it as
-- the attempt number, in one statement. Returns the fence, or NULL when the job
-- is not in history or has already finished (its worker died after writing the
-- ending but before telling the queue: the job must not run a second time).
CREATE FUNCTION begin_attempt(p_job_id text)
RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  v_fence integer;
BEGIN
  UPDATE jobs SET fence = fence + 1
   WHERE id = p_job_id AND status NOT IN ('completed', 'failed', 'cancelled')
  RETURNING fence INTO v_fence;
  IF v_fence IS NOT NULL THEN
    PERFORM append_events(p_job_id, jsonb_build_array(jsonb_build_object(
      'type', 'status', 'data', jsonb_build_object('status', 'active', 'attempt', v_fence))));
  END IF;
  RETURN v_fence;
END;
$$;

-- append_events for a run that holds fence `p_fence`: refused (SQLSTATE TY409)
-- when a newer run has begun.
CREATE FUNCTION append_fenced_events(p_job_id text, p_events jsonb, p_fence integer)
RETURNS TABLE (seq integer, type text, data jsonb, created_at timestamptz)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  v_fence integer;
BEGIN
  -- The same row lock append_events takes: a begin_attempt cannot slip in between.
  SELECT j.fence INTO v_fence FROM jobs j WHERE j.id = p_job_id FOR UPDATE;
  IF v_fence IS DISTINCT FROM p_fence THEN
    RAISE EXCEPTION 'job % is fenced: run % was replaced by run %', p_job_id, p_fence, v_fence USING ERRCODE = 'TY409';
  END IF;
  RETURN QUERY SELECT * FROM append_events(p_job_id, p_events);
END;
$$;

-- The projector's write (Redis Streams event log): events that already carry
-- their seq, from any number of jobs. Idempotent on (job_id, seq), so an entry
-- delivered twice is stored once. Several projectors may commit a job's events
-- out of order, so each job row advances only over the gap-free run of events
-- after its last_seq; the rest waits in job_events for the missing one.
CREATE FUNCTION project_events(p_events jsonb)
RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  v_job_id      text;
  v_event       record;
  v_seq         integer;
  v_fence       integer;
  v_status      text;
  v_attempt     integer;
  v_progress    jsonb;
  v_result      jsonb;
  v_has_result  boolean;
  v_error       jsonb;
  v_has_error   boolean;
  v_started     timestamptz;
  v_finished    timestamptz;
  v_clear_end   boolean;
  v_at          timestamptz;
  v_inserted    integer;
BEGIN
  INSERT INTO job_events (job_id, seq, type, data, created_at)
  SELECT e->>'jobId', (e->>'seq')::integer, e->>'type', e->'data', (e->>'at')::timestamptz
    FROM jsonb_array_elements(p_events) AS e
   WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.id = e->>'jobId')
  ON CONFLICT (job_id, seq) DO NOTHING;
  GET DIAGNOSTICS v_inserted = ROW_COUNT;

  FOR v_job_id IN SELECT DISTINCT e->>'jobId' FROM jsonb_array_elements(p_events) AS e ORDER BY 1 LOOP
    SELECT j.last_seq, j.fence INTO v_seq, v_fence FROM jobs j WHERE j.id = v_job_id FOR UPDATE;
    CONTINUE WHEN NOT FOUND;
    v_status := NULL; v_attempt := NULL; v_progress := NULL; v_result := NULL; v_has_result := false;
    v_error := NULL; v_has_error := false; v_started := NULL; v_finished := NULL; v_clear_end := false; v_at := NULL;

    FOR v_event IN
      SELECT ev.seq, ev.type, ev.data, ev.created_at FROM job_events ev
       WHERE ev.job_id = v_job_id AND ev.seq > v_seq ORDER BY ev.seq
    LOOP
      EXIT WHEN v_event.seq <> v_seq + 1;
      v_seq := v_event.seq;
      v_at := v_event.created_at;
      CASE v_event.type
        WHEN 'status' THEN
          v_status := v_event.data->>'status';
          v_attempt := COALESCE((v_event.data->>'attempt')::integer, v_attempt);
          IF v_status = 'active' THEN v_started := COALESCE(v_started, v_at); END IF;
          IF v_status IN ('completed', 'failed', 'cancelled') THEN v_finished := v_at; v_clear_end := false;
          ELSE v_finished := NULL; v_clear_end := true; END IF;
          IF v_status = 'completed' AND NOT v_has_error THEN v_error := NULL; v_has_error := true; END IF;
        WHEN 'progress' THEN v_progress := v_event.data;
        WHEN 'result' THEN v_result := v_event.data; v_has_result := true;
        WHEN 'error' THEN v_error := v_event.data; v_has_error := true;
        ELSE NULL;
      END CASE;
    END LOOP;
    CONTINUE WHEN v_at IS NULL;

    UPDATE jobs j
       SET last_seq    = v_seq,
           status      = COALESCE(v_status, j.status),
           attempts    = COALESCE(v_attempt, j.attempts),
           -- The fence a Redis run took is its attempt number; keep history's in step.
           fence       = GREATEST(j.fence, COALESCE(v_attempt, 0)),
           progress    = COALESCE(v_progress, j.progress),
           result      = CASE WHEN v_has_result THEN v_result ELSE j.result END,
           error       = CASE WHEN v_has_error THEN v_error ELSE j.error END,
           started_at  = COALESCE(j.started_at, v_started),
           finished_at = CASE WHEN v_finished IS NOT NULL THEN v_finished
                              WHEN v_clear_end THEN NULL
                              ELSE j.finished_at END,
           updated_at  = clock_timestamp()
     WHERE j.id = v_job_id;
  END LOOP;
  RETURN v_inserted;
END;
$$;
