-- The library recipe's data. Unqualified names: the migrator sets search_path to the recipe's schema.

-- Tags already computed, reused by any later job for the same artist + title
-- (normalised: case, accents' composition, spacing), level and tagger.
CREATE TABLE tag_cache (
  artist_norm text NOT NULL,
  title_norm text NOT NULL,
  level text NOT NULL CHECK (level IN ('quick', 'detailed')),
  tagger text NOT NULL,
  tags jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (artist_norm, title_norm, level, tagger)
);

-- What a running job has tagged so far, one row per track, written as it goes:
-- a run that replaces a crashed one starts after these. `fence` is the run's
-- fencing token: a stale run never overwrites a newer run's rows.
CREATE TABLE job_tracks (
  job_id text NOT NULL,
  track_index integer NOT NULL CHECK (track_index >= 0),
  fence integer NOT NULL,
  tags jsonb,            -- null: the tagger gave up on the track (it is left untagged)
  cached boolean NOT NULL DEFAULT false,
  reason text,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, track_index)
);
