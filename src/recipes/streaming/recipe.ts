import { defineRecipe } from '../recipe.js';

/** Work in progress: its tasks and routes land in the next commits. */
export const streaming = defineRecipe({
  name: 'streaming',
  description: '(in progress)',
});
