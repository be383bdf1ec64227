import { defineRecipe } from '../recipe.js';

/** Work in progress: its tasks and routes land in the next commits. */
export const catalog = defineRecipe({
  name: 'catalog',
  description: '(in progress)',
});
