-- The catalog's products. The migrator sets search_path to the recipe's schema.
CREATE TABLE products (
  id integer PRIMARY KEY,
  sku text NOT NULL UNIQUE,
  name text NOT NULL,
  category text NOT NULL,
  price_cents integer NOT NULL CHECK (price_cents >= 0),
  stock integer NOT NULL CHECK (stock >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- GET /products?category=… pages through one category in id order.
CREATE INDEX products_category_id ON products (category, id);

-- 300 deterministic products: every fresh database holds the same catalog.
INSERT INTO products (id, sku, name, category, price_cents, stock, updated_at)
SELECT
  n,
  'SKU-' || lpad(n::text, 5, '0'),
  (ARRAY['Compact', 'Sturdy', 'Classic', 'Deluxe', 'Portable', 'Quiet', 'Smart', 'Vintage'])[1 + n % 8]
    || ' '
    || (ARRAY['Lamp', 'Kettle', 'Backpack', 'Chair', 'Blender', 'Notebook', 'Speaker', 'Tent', 'Mug', 'Drone'])[1 + (n / 8) % 10]
    || ' ' || n,
  (ARRAY['books', 'electronics', 'garden', 'kitchen', 'outdoor', 'toys'])[1 + n % 6],
  499 + (n * 7919) % 20000,
  (n * 37) % 250,
  timestamptz '2026-01-01 00:00:00+00'
FROM generate_series(1, 300) AS n;
