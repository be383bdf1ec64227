-- The projector's write, without deadlocks. Two API instances project the same
-- partition (a consumer group hands a job's entries to either), so their writes
-- often touch the same jobs. project_events (000003) inserted the events first,
-- the foreign key taking a KEY SHARE lock on each job row, and then locked the
-- rows FOR UPDATE one by one, which waits for the other's KEY SHARE: each waited
-- for the other, and PostgreSQL aborted one of them. The loser read its entries
-- again, and an entry trimmed from Redis meanwhile was lost to history.
--
-- Now the job rows are locked up front, in id order, FOR NO KEY UPDATE (which
-- a foreign key check does not wait for), and the events go in sorted by
-- (job, seq), so two writes of the same entries take their locks in one order.

CREATE OR REPLACE FUNCTION project_events(p_events jsonb)
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
  -- Every job row first, in id order: projectors then queue on the rows, and
  -- none holds what another waits for.
  PERFORM 1 FROM jobs j
   WHERE j.id IN (SELECT DISTINCT e->>'jobId' FROM jsonb_array_elements(p_events) AS e)
   ORDER BY j.id
     FOR NO KEY UPDATE;

  INSERT INTO job_events (job_id, seq, type, data, created_at)
  SELECT e->>'jobId', (e->>'seq')::integer, e->>'type', e->'data', (e->>'at')::timestamptz
    FROM jsonb_array_elements(p_events) AS e
   WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.id = e->>'jobId')
   ORDER BY 1, 2
  ON CONFLICT (job_id, seq) DO NOTHING;
  GET DIAGNOSTICS v_inserted = ROW_COUNT;

  FOR v_job_id IN SELECT DISTINCT e->>'jobId' FROM jsonb_array_elements(p_events) AS e ORDER BY 1 LOOP
    SELECT j.last_seq, j.fence INTO v_seq, v_fence FROM jobs j WHERE j.id = v_job_id;
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
