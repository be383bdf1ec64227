-- The pricing engine's data. Unqualified names: the migrator sets search_path to the recipe's schema.

-- A product's list price is fixed; its base price is the list price times its
-- category's market factor, recomputed by `recalculate-all-prices`.
CREATE TABLE products (
  id text PRIMARY KEY,
  name text NOT NULL,
  category text NOT NULL,
  list_price_cents integer NOT NULL CHECK (list_price_cents > 0),
  base_price_cents integer NOT NULL CHECK (base_price_cents > 0),
  recalculated_at timestamptz
);

-- Discounts by the buyer's region and membership; '*' is the default region.
CREATE TABLE discount_rules (
  region text NOT NULL,
  prime boolean NOT NULL,
  rate numeric(4, 3) NOT NULL CHECK (rate >= 0 AND rate < 1),
  PRIMARY KEY (region, prime)
);

-- Market factors per category, set by market events through recalculations.
CREATE TABLE market_factors (
  category text PRIMARY KEY,
  factor numeric(6, 4) NOT NULL CHECK (factor > 0)
);

-- Bumped after every recalculation: cached prices carry the generation they were computed in.
CREATE TABLE price_state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  generation bigint NOT NULL DEFAULT 1
);
INSERT INTO price_state DEFAULT VALUES;

-- 300 products over 6 categories, deterministic prices.
INSERT INTO products (id, name, category, list_price_cents, base_price_cents)
SELECT format('P%s', lpad(n::text, 4, '0')),
       format('%s item %s', initcap(c.category), n),
       c.category,
       499 + (n * 7919) % 50000,
       499 + (n * 7919) % 50000
FROM generate_series(1, 300) AS n
JOIN (VALUES (0, 'books'), (1, 'electronics'), (2, 'garden'), (3, 'kitchen'), (4, 'toys'), (5, 'sports')) AS c(k, category)
  ON c.k = n % 6;

INSERT INTO market_factors (category, factor)
SELECT DISTINCT category, 1 FROM products;

INSERT INTO discount_rules (region, prime, rate) VALUES
  ('*', false, 0.000), ('*', true, 0.050),
  ('US', false, 0.000), ('US', true, 0.100),
  ('EU', false, 0.020), ('EU', true, 0.080),
  ('GB', false, 0.010), ('GB', true, 0.090),
  ('IN', false, 0.050), ('IN', true, 0.150),
  ('JP', false, 0.000), ('JP', true, 0.070),
  ('BR', false, 0.040), ('BR', true, 0.120);
