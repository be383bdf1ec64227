// The products table (see migrations/000001_products.sql): its queries, and
// the mapping from raw rows to what the API answers.
import type { Database } from '../../history/database.js';
import { schemaIdent } from '../../history/database.js';

/** A raw row of `products`. */
interface ProductRow {
  id: number;
  sku: string;
  name: string;
  category: string;
  price_cents: number;
  stock: number;
  updated_at: Date | string;
}

/** A product as the API shows it. */
export interface Product {
  id: number;
  sku: string;
  name: string;
  category: string;
  priceCents: number;
  stock: number;
  updatedAt: string;
}

export interface ProductQuery {
  limit: number;
  offset: number;
  category?: string | undefined;
}

/** The fields `PUT /products/:id` may change; absent ones are kept. */
export interface ProductPatch {
  name?: string | undefined;
  category?: string | undefined;
  priceCents?: number | undefined;
  stock?: number | undefined;
}

export interface ProductStore {
  list(query: ProductQuery): Promise<Product[]>;
  /** The updated product, or undefined when no product has this id. */
  update(id: number, patch: ProductPatch): Promise<Product | undefined>;
  count(): Promise<number>;
}

function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    category: row.category,
    priceCents: row.price_cents,
    stock: row.stock,
    updatedAt: row.updated_at instanceof Date ? row.updated_at.toISOString() : new Date(row.updated_at).toISOString(),
  };
}

const COLUMNS = 'id, sku, name, category, price_cents, stock, updated_at';

export function productStore(db: Database, schema: string): ProductStore {
  const products = `${schemaIdent(schema)}.products`;
  return {
    async list({ limit, offset, category }) {
      const { rows } = await db.query<ProductRow>(
        `SELECT ${COLUMNS} FROM ${products}
          WHERE $3::text IS NULL OR category = $3
          ORDER BY id
          LIMIT $1 OFFSET $2`,
        [limit, offset, category ?? null],
      );
      return rows.map(toProduct);
    },
    async update(id, patch) {
      const { rows } = await db.query<ProductRow>(
        `UPDATE ${products}
            SET name = coalesce($2, name),
                category = coalesce($3, category),
                price_cents = coalesce($4, price_cents),
                stock = coalesce($5, stock),
                updated_at = now()
          WHERE id = $1
          RETURNING ${COLUMNS}`,
        [id, patch.name ?? null, patch.category ?? null, patch.priceCents ?? null, patch.stock ?? null],
      );
      return rows[0] && toProduct(rows[0]);
    },
    async count() {
      const { rows } = await db.query<{ count: number | string }>(`SELECT count(*) AS count FROM ${products}`);
      return Number(rows[0]?.count ?? 0);
    },
  };
}
