import { PermanentError } from '../../errors.js';
import type { RecipeContext } from '../recipe.js';
import { LibraryStore } from './library-store.js';
import type { LibrarySettings } from './settings.js';
import type { LibraryHost } from './types.js';

/** The functions `library-tag` calls from its sandbox thread; they run where the database is. */
export function libraryHost(ctx: RecipeContext, settings: LibrarySettings): LibraryHost {
  const store = new LibraryStore(ctx.db, ctx.schema);
  return {
    async open(uploadId, jobId) {
      const upload = await ctx.files.upload(uploadId);
      // An upload belongs to the job it was claimed by: a job submitted by hand cannot read another's.
      if (!upload || (upload.jobId !== null && upload.jobId !== jobId)) throw new PermanentError(`No upload ${uploadId} for job ${jobId}`);
      return { data: upload.data, llm: settings.llm };
    },
    doneTracks: (jobId) => store.doneTracks(jobId),
    cachedTags: (level, tagger, keys) => store.cachedTags(level, tagger, keys),
    recordTracks: (jobId, fence, level, tagger, rows) => store.recordTracks(jobId, fence, level, tagger, rows),
    forgetJob: (jobId) => store.forgetJob(jobId),
  };
}
