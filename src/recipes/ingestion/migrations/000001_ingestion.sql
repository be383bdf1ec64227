-- The ingestion service's data. Unqualified names: the migrator sets search_path to the recipe's schema.

-- An app that sends events; `notify` says which events are mailed to whom
-- ({ "email", "when": "invalid" | "valid" | "always", "events"?: [names] }).
CREATE TABLE apps (
  id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
  name text NOT NULL,
  notify jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The events an app accepts, each with the JSON Schema its payload must match.
CREATE TABLE app_events (
  app_id text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
  event_name text NOT NULL,
  schema jsonb NOT NULL,
  PRIMARY KEY (app_id, event_name)
);

-- Every stored event with its validation result. A payload seen again for the
-- same app and event within the dedup window is not stored a second time.
CREATE TABLE events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  app_id text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
  event_name text NOT NULL,
  payload jsonb NOT NULL,
  -- SHA-256 (hex) of the payload's canonical JSON (keys sorted).
  payload_hash text NOT NULL,
  status text NOT NULL CHECK (status IN ('valid', 'invalid')),
  errors jsonb,
  -- The process-event job that stored it (null for seeded rows).
  job_id text,
  received_at timestamptz NOT NULL,
  stored_at timestamptz NOT NULL DEFAULT now()
);

-- The dedup check: the same key within the window, newest first.
CREATE INDEX events_dedup ON events (app_id, event_name, payload_hash, received_at DESC);
-- Listing an app's events and counting them per status over the last hours.
CREATE INDEX events_recent ON events (app_id, received_at DESC);

-- Demo apps.
INSERT INTO apps (id, name, notify) VALUES
  ('shop', 'Web shop', '{"email": "ops@example.com", "when": "invalid"}'),
  ('iot', 'Sensor fleet', NULL),
  ('auth', 'Sign-in service', '{"email": "security@example.com", "when": "always", "events": ["login.failed"]}');

INSERT INTO app_events (app_id, event_name, schema) VALUES
  ('shop', 'order.created', '{
     "type": "object",
     "required": ["orderId", "amount", "currency"],
     "properties": {
       "orderId": {"type": "string", "pattern": "^O-[0-9]{1,10}$"},
       "amount": {"type": "number", "minimum": 0},
       "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"]},
       "items": {"type": "integer", "minimum": 1}
     },
     "additionalProperties": false
   }'),
  ('shop', 'user.signup', '{
     "type": "object",
     "required": ["userId", "email"],
     "properties": {
       "userId": {"type": "string", "minLength": 1, "maxLength": 64},
       "email": {"type": "string", "format": "email", "maxLength": 254},
       "plan": {"type": "string", "enum": ["free", "pro"]}
     },
     "additionalProperties": false
   }'),
  ('iot', 'reading', '{
     "type": "object",
     "required": ["deviceId", "metric", "value"],
     "properties": {
       "deviceId": {"type": "string", "maxLength": 64},
       "metric": {"type": "string", "enum": ["temperature", "humidity"]},
       "value": {"type": "number", "minimum": -100, "maximum": 1000},
       "at": {"type": "string", "format": "date-time"}
     },
     "additionalProperties": false
   }'),
  ('auth', 'login.failed', '{
     "type": "object",
     "required": ["userId", "ip"],
     "properties": {
       "userId": {"type": "string", "maxLength": 64},
       "ip": {"type": "string", "maxLength": 45},
       "attempts": {"type": "integer", "minimum": 1}
     }
   }');

-- 300 seeded events over the last 48 hours, about one in eight invalid, so that
-- batch-stats and the events list have something to show. Every seeded payload
-- is distinct (its ids carry n); seeded rows have no job, and their hash is of
-- jsonb's text rather than the canonical JSON (no live event repeats one).
INSERT INTO events (app_id, event_name, payload, payload_hash, status, errors, received_at)
SELECT app_id, event_name, payload, encode(sha256(convert_to(payload::text, 'UTF8')), 'hex'),
       CASE WHEN error IS NULL THEN 'valid' ELSE 'invalid' END,
       CASE WHEN error IS NULL THEN NULL ELSE jsonb_build_array(error) END,
       now() - ((n * 97) % 2880) * interval '1 minute'
FROM (
  SELECT n, 'shop' AS app_id, 'order.created' AS event_name,
         jsonb_build_object('orderId', 'O-' || n, 'amount', CASE WHEN n % 8 = 0 THEN -5 ELSE (n * 13) % 500 + 0.99 END,
                            'currency', (ARRAY['EUR', 'USD', 'GBP'])[1 + n % 3], 'items', 1 + n % 4) AS payload,
         CASE WHEN n % 8 = 0 THEN '{"path": "/amount", "message": "must be >= 0"}'::jsonb END AS error
  FROM generate_series(1, 120) AS n
  UNION ALL
  SELECT n, 'shop', 'user.signup',
         jsonb_build_object('userId', 'u' || n, 'email', CASE WHEN n % 8 = 0 THEN 'user' || n ELSE 'user' || n || '@example.com' END, 'plan', 'free'),
         CASE WHEN n % 8 = 0 THEN '{"path": "/email", "message": "must match format \"email\""}'::jsonb END
  FROM generate_series(121, 180) AS n
  UNION ALL
  SELECT n, 'iot', 'reading',
         jsonb_build_object('deviceId', 'sensor-' || n % 10, 'metric', 'temperature', 'value', CASE WHEN n % 8 = 0 THEN 5000 ELSE 15 + n % 20 END,
                            'at', to_char(timestamptz '2026-11-01 00:00:00+00' + n * interval '1 minute', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
         CASE WHEN n % 8 = 0 THEN '{"path": "/value", "message": "must be <= 1000"}'::jsonb END
  FROM generate_series(181, 280) AS n
  UNION ALL
  SELECT n, 'auth', 'login.failed', jsonb_build_object('userId', 'u' || n, 'ip', '203.0.113.' || n % 250, 'attempts', 1 + n % 5), NULL
  FROM generate_series(281, 300) AS n
) AS seed;
