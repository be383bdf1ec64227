// Queues, throughput and workers, refreshed every 2 s while the tab is visible.
import { listQueues, listWorkers, throughput } from '../api/endpoints';
import { usePoll } from '../use-poll';
import { QueuesTable } from './queues-table';
import { ThroughputChart } from './throughput-chart';
import { WorkersTable } from './workers-table';

const EVERY_MS = 2000;

export function OverviewPage() {
  const queues = usePoll(listQueues, EVERY_MS);
  const workers = usePoll(listWorkers, EVERY_MS);
  const stats = usePoll(() => throughput(15), EVERY_MS);
  return (
    <>
      <h1>Overview</h1>
      <section aria-labelledby="queues-heading">
        <h2 id="queues-heading">Queues</h2>
        <QueuesTable queues={queues.data} onChange={queues.reload} />
      </section>
      <section aria-labelledby="throughput-heading">
        <h2 id="throughput-heading">Jobs per second, last 15 minutes</h2>
        <ThroughputChart stats={stats.data} />
      </section>
      <section aria-labelledby="workers-heading">
        <h2 id="workers-heading">Workers</h2>
        <WorkersTable workers={workers.data} />
      </section>
    </>
  );
}
