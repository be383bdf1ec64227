// The names of the recipes shipped with Taskyard, apart from their code: the CLI
// lists them in its help without loading any recipe (or the server).
export const RECIPE_NAMES = ['catalog', 'streaming', 'pricing', 'ingestion', 'library'] as const;

export type RecipeName = (typeof RECIPE_NAMES)[number];
