-- Enqueue in one statement (it was BEGIN, INSERT, append_events, COMMIT): on
-- the embedded database every round trip counts.
-- Returns the job row (as jsonb), whether it was created, and — for a repeated
-- idempotency key — whether the input is the same (jsonb equality ignores key order).
CREATE FUNCTION enqueue_job(
  p_id           text,
  p_task         text,
  p_queue        text,
  p_input        jsonb,
  p_priority     integer,
  p_max_attempts integer,
  p_key          text,
  p_run_at       timestamptz
)
RETURNS TABLE (job jsonb, created boolean, same_input boolean)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  v_row jobs;
BEGIN
  INSERT INTO jobs (id, task, queue, status, input, priority, max_attempts, idempotency_key, run_at)
  VALUES (p_id, p_task, p_queue, 'queued', p_input, p_priority, p_max_attempts, p_key, p_run_at)
  ON CONFLICT (idempotency_key) DO NOTHING;

  IF FOUND THEN
    PERFORM append_events(p_id, '[{"type": "status", "data": {"status": "queued"}}]'::jsonb);
    SELECT * INTO v_row FROM jobs WHERE id = p_id;
    RETURN QUERY SELECT to_jsonb(v_row), true, true;
  ELSE
    -- Each statement sees what committed before it: a concurrent insert of this key is visible here.
    SELECT * INTO v_row FROM jobs WHERE idempotency_key = p_key;
    RETURN QUERY SELECT to_jsonb(v_row), false, v_row.input = p_input;
  END IF;
END;
$$;
