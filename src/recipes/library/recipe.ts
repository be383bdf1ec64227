import { defineRecipe } from '../recipe.js';

/** Work in progress: its tasks and routes land in the next commits. */
export const library = defineRecipe({
  name: 'library',
  description: '(in progress)',
});
