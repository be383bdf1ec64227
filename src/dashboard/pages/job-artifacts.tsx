import type { Artifact } from '../api/types';
import { bytes } from '../format';

export function JobArtifacts({ artifacts }: { artifacts: Artifact[] | undefined }) {
  if (!artifacts) return <p class="muted">Loading…</p>;
  if (artifacts.length === 0) return <p class="muted" data-testid="job-artifacts">No artifacts.</p>;
  return (
    <ul class="artifacts" data-testid="job-artifacts">
      {artifacts.map((artifact) => (
        <li key={artifact.name}>
          <a data-testid="job-artifact" href={artifact.url} download={artifact.name}>
            {artifact.name}
          </a>{' '}
          <span class="muted">
            {artifact.contentType}, {bytes(artifact.size)}
          </span>
        </li>
      ))}
    </ul>
  );
}
