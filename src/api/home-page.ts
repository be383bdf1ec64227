// A small page that lets a newcomer submit a job and watch it stream, with no
// build step. The full dashboard comes separately.
export const homePage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Taskyard</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 52rem; padding: 1.5rem; color: #1d2330; }
  h1 { margin: 0 0 .25rem; } .muted { color: #5b6475; }
  label { display: block; margin: .75rem 0 .25rem; font-weight: 600; }
  select, textarea, button { font: inherit; }
  textarea { width: 100%; min-height: 8rem; font-family: ui-monospace, monospace; box-sizing: border-box; }
  button { padding: .4rem 1rem; margin: .75rem .5rem 0 0; cursor: pointer; }
  progress { width: 100%; height: 1.2rem; }
  #partials { font-family: ui-monospace, monospace; word-break: break-all; max-height: 10rem; overflow: auto; background: #f4f6fa; padding: .5rem; }
  #log { font-family: ui-monospace, monospace; font-size: 13px; max-height: 16rem; overflow: auto; background: #0f1522; color: #d8e0f0; padding: .5rem; white-space: pre-wrap; word-break: break-all; }
  .error { color: #b00020; }
</style>
</head>
<body>
<h1>Taskyard</h1>
<p class="muted">Submit a job, watch its events stream live. API docs: <a href="/docs">/docs</a> · health: <a href="/ready">/ready</a></p>
<form id="form">
  <label for="task">Task</label>
  <select id="task" required></select>
  <p id="description" class="muted"></p>
  <label for="input">Input (JSON)</label>
  <textarea id="input" spellcheck="false"></textarea>
  <button type="submit">Run</button><button type="button" id="cancel" disabled>Cancel</button>
  <p id="formError" class="error" role="alert"></p>
</form>
<section aria-live="polite">
  <p><strong>Job</strong> <code id="jobId">–</code> · status <strong id="status">–</strong> <span id="message" class="muted"></span></p>
  <progress id="bar" max="100" value="0"></progress>
  <label>Partial results</label><div id="partials"></div>
  <label>Events</label><div id="log"></div>
</section>
<script>
const $ = (id) => document.getElementById(id);
const examples = { 'compute-pi': { digits: 200, delayMs: 20 }, sleep: { ms: 5000, steps: 10 } };
let tasks = [], source, job;
async function loadTasks() {
  const res = await fetch('/v1/tasks');
  tasks = (await res.json()).tasks;
  $('task').innerHTML = tasks.map((t) => '<option>' + t.name + '</option>').join('');
  pick();
}
function pick() {
  const t = tasks.find((t) => t.name === $('task').value);
  if (!t) return;
  $('description').textContent = t.description || '';
  $('input').value = JSON.stringify(examples[t.name] || {}, null, 2);
}
function line(text) { const log = $('log'); log.textContent += text + '\\n'; log.scrollTop = log.scrollHeight; }
$('task').addEventListener('change', pick);
$('form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('formError').textContent = '';
  let input;
  try { input = JSON.parse($('input').value || '{}'); } catch { $('formError').textContent = 'Input is not valid JSON'; return; }
  const res = await fetch('/v1/tasks/' + encodeURIComponent($('task').value) + '/jobs', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input }) });
  const body = await res.json();
  if (!res.ok) {
    const d = (body.error.details || []).map((f) => f.path + ': ' + f.message).join('; ');
    $('formError').textContent = body.error.message + (d ? ' (' + d + ')' : '');
    return;
  }
  watch(body);
});
$('cancel').addEventListener('click', async () => {
  if (!job) return;
  const res = await fetch(job.links.cancel, { method: 'POST' });
  if (!res.ok) line('cancel: ' + (await res.json()).error.message);
});
function watch(j) {
  job = j;
  if (source) source.close();
  $('jobId').textContent = j.id; $('status').textContent = j.status; $('message').textContent = '';
  $('bar').value = 0; $('partials').textContent = ''; $('log').textContent = ''; $('cancel').disabled = false;
  history.replaceState(null, '', '/?job=' + encodeURIComponent(j.id));
  source = new EventSource(j.links.events);
  const on = (type, fn) => source.addEventListener(type, (e) => { const data = JSON.parse(e.data); line('#' + e.lastEventId + ' ' + type + ' ' + e.data); fn && fn(data); });
  on('status', (d) => {
    $('status').textContent = d.status;
    if (['completed', 'failed', 'cancelled'].includes(d.status)) { $('cancel').disabled = true; source.close(); if (d.status === 'completed') $('bar').value = 100; }
  });
  on('progress', (d) => { if (d.percent != null) $('bar').value = d.percent; $('message').textContent = d.message || ''; });
  on('partial', (d) => { $('partials').textContent += (d && d.digit !== undefined) ? d.digit : JSON.stringify(d) + ' '; });
  on('log'); on('result'); on('job-error', (d) => { $('message').textContent = d.code + ': ' + d.message; });
}
loadTasks().catch((e) => { $('formError').textContent = 'Could not load tasks: ' + e.message; });
// A link to a job (/?job=<id>) opens its stream: events are replayed from the start.
const linked = new URLSearchParams(location.search).get('job');
if (linked) fetch('/v1/jobs/' + encodeURIComponent(linked)).then((r) => r.json()).then((j) => j.error ? ($('formError').textContent = j.error.message) : watch(j));
</script>
</body>
</html>
`;
