import { defineRecipe } from '../recipe.js';

/** Work in progress: its tasks and routes land in the next commits. */
export const ingestion = defineRecipe({
  name: 'ingestion',
  description: '(in progress)',
});
