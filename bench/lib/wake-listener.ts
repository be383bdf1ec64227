// A bare process that LISTENs on one PostgreSQL channel and parses each
// notification's JSON, nothing else: the `wake-up` scenario measures its CPU.
// Asked over IPC ('cpu'), it answers with its process.cpuUsage() and the count.
import pg from 'pg';

const [url, channel] = process.argv.slice(2) as [string, string];
const client = new pg.Client({ connectionString: url });
await client.connect();
await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
let received = 0;
client.on('notification', (message) => {
  JSON.parse(message.payload ?? 'null');
  received++;
});
process.on('message', (message) => {
  if (message === 'cpu') process.send?.({ cpu: process.cpuUsage(), received });
  else if (message === 'stop') void client.end().then(() => process.exit(0));
});
process.send?.({ ready: true });
