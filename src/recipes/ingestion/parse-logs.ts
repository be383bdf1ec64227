// The bodies `POST /api/logs/{appId}` accepts, turned into events. A body
// that is not well-formed is refused whole (400, naming where), so a client
// never has to work out which half of its request was taken.
import { TaskyardError } from '../../errors.js';
import { MAX_JSON_DEPTH, storableProblem } from '../../history/storable.js';

/** More than this in one request is a 413: split the batch. */
export const MAX_EVENTS_PER_REQUEST = 1000;

const PREFIX = 'event payload:';

export interface IncomingEvent {
  eventName: string;
  /** The event without its `eventName`: what the app's JSON Schema checks. */
  payload: Record<string, unknown>;
}

/** `application/json`: one event object, or an array of them. */
export function eventsFromJson(body: unknown): IncomingEvent[] {
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0) throw malformed('The array holds no events', 'body');
  tooMany(items.length);
  return items.map((item, i) => toEvent(item, Array.isArray(body) ? `body[${i}]` : 'body'));
}

/** `text/plain`: one `Event Payload: {…}` per line; blank lines are skipped. */
export function eventsFromText(body: string): IncomingEvent[] {
  const events: IncomingEvent[] = [];
  const lines = body.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const where = `line ${index + 1}`;
    if (line.slice(0, PREFIX.length).toLowerCase() !== PREFIX) throw malformed(`Line ${index + 1} is not of the form "Event Payload: {…}"`, where);
    let value: unknown;
    try {
      value = JSON.parse(line.slice(PREFIX.length));
    } catch (error) {
      throw malformed(`Line ${index + 1}: the payload is not valid JSON (${error instanceof Error ? error.message : String(error)})`, where);
    }
    events.push(toEvent(value, where));
    tooMany(events.length);
  }
  if (events.length === 0) throw malformed('The body holds no "Event Payload: {…}" lines', 'body');
  return events;
}

function toEvent(value: unknown, where: string): IncomingEvent {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw malformed(`${capitalise(where)}: an event must be a JSON object`, where);
  const { eventName, ...payload } = value as Record<string, unknown>;
  if (typeof eventName !== 'string' || eventName.length === 0 || eventName.length > 200) {
    throw malformed(`${capitalise(where)}: "eventName" must be a string of 1 to 200 characters`, `${where}.eventName`);
  }
  // Checked here, before anything is enqueued: the job input nests the payload two levels down.
  const problem = storableProblem(payload, MAX_JSON_DEPTH - 2);
  if (problem) throw malformed(`${capitalise(where)}: the event ${problem}`, where);
  return { eventName, payload };
}

function tooMany(count: number): void {
  if (count > MAX_EVENTS_PER_REQUEST) {
    throw new TaskyardError('TASKYARD_ERR_BODY_TOO_LARGE', `At most ${MAX_EVENTS_PER_REQUEST} events per request; split the batch`);
  }
}

const malformed = (message: string, path: string): TaskyardError => new TaskyardError('TASKYARD_ERR_VALIDATION', message, [{ path, message }]);

const capitalise = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
