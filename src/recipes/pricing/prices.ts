import type { Database } from '../../history/database.js';
import { schemaIdent } from '../../history/database.js';
import type { BatchResult } from './types.js';

export interface ProductPrice {
  basePriceCents: number;
}

/** The pricing tables, in the recipe's schema. */
export class PriceStore {
  private readonly s: string;

  constructor(
    private readonly db: Database,
    schema: string,
  ) {
    this.s = schemaIdent(schema);
  }

  async product(id: string): Promise<ProductPrice | undefined> {
    const { rows } = await this.db.query<{ base: number }>(`SELECT base_price_cents AS base FROM ${this.s}.products WHERE id = $1`, [id]);
    return rows[0] && { basePriceCents: Number(rows[0].base) };
  }

  /** The region's rule, else the default ('*') one. */
  async discountRate(region: string, prime: boolean): Promise<number> {
    const { rows } = await this.db.query<{ rate: string }>(
      `SELECT rate::text AS rate FROM ${this.s}.discount_rules WHERE prime = $2 AND region IN ($1, '*') ORDER BY region = '*' LIMIT 1`,
      [region, prime],
    );
    return Number(rows[0]?.rate ?? 0);
  }

  async generation(): Promise<number> {
    const { rows } = await this.db.query<{ generation: string }>(`SELECT generation::text AS generation FROM ${this.s}.price_state`);
    return Number(rows[0]?.generation ?? 1);
  }

  async bumpGeneration(): Promise<number> {
    const { rows } = await this.db.query<{ generation: string }>(
      `UPDATE ${this.s}.price_state SET generation = generation + 1 RETURNING generation::text AS generation`,
    );
    return Number(rows[0]?.generation ?? 1);
  }

  async countProducts(category: string | null): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${this.s}.products WHERE $1::text IS NULL OR category = $1`,
      [category],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async setFactor(category: string | null, factor: number): Promise<void> {
    await this.db.query(`UPDATE ${this.s}.market_factors SET factor = $2 WHERE $1::text IS NULL OR category = $1`, [category, factor]);
  }

  /**
   * Recomputes the base price of the next `size` products after `afterId`
   * (list price × market factor). Idempotent, so a retried run may redo a batch.
   */
  async recalculateBatch(afterId: string, size: number, category: string | null): Promise<BatchResult> {
    const { rows } = await this.db.query<{ id: string }>(
      `WITH batch AS (
         SELECT id FROM ${this.s}.products
         WHERE id > $1 AND ($3::text IS NULL OR category = $3)
         ORDER BY id LIMIT $2
       )
       UPDATE ${this.s}.products p
       SET base_price_cents = greatest(1, round(p.list_price_cents * f.factor)::integer), recalculated_at = now()
       FROM batch, ${this.s}.market_factors f
       WHERE p.id = batch.id AND f.category = p.category
       RETURNING p.id`,
      [afterId, size, category],
    );
    const ids = rows.map((row) => row.id).sort();
    return { processed: ids.length, lastId: ids.at(-1) ?? null };
  }
}
