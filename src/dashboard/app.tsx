// The shell: skip link, navigation, the error banner, and the page the hash names.
import { ErrorBanners, ErrorProvider } from './errors';
import { JobDetailPage } from './pages/job-detail';
import { JobsPage } from './pages/jobs';
import { OverviewPage } from './pages/overview';
import { TaskPage, TasksPage } from './pages/tasks';
import { useRoute, type Route } from './router';

function Page({ route }: { route: Route }) {
  const [section, id] = route.parts;
  if (section === 'jobs' && id) return <JobDetailPage id={id} key={id} />;
  if (section === 'jobs') return <JobsPage query={route.query} />;
  if (section === 'tasks' && id) return <TaskPage name={id} key={id} />;
  if (section === 'tasks') return <TasksPage />;
  if (section === undefined) return <OverviewPage />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        No page at <code>#{route.parts.join('/')}</code>. <a href="#/">Back to the overview</a>.
      </p>
    </section>
  );
}

const links = [
  { id: 'overview', label: 'Overview', hash: '#/', active: (s: string | undefined) => s === undefined },
  { id: 'jobs', label: 'Jobs', hash: '#/jobs', active: (s: string | undefined) => s === 'jobs' },
  { id: 'tasks', label: 'Tasks', hash: '#/tasks', active: (s: string | undefined) => s === 'tasks' },
];

export function App() {
  const route = useRoute();
  const section = route.parts[0];
  return (
    <ErrorProvider>
      <a class="skip-link" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">
          Taskyard
        </a>
        <nav aria-label="Main">
          {links.map((link) => (
            <a
              key={link.id}
              href={link.hash}
              data-testid={`nav-${link.id}`}
              aria-current={link.active(section) ? 'page' : undefined}
            >
              {link.label}
            </a>
          ))}
        </nav>
        <a class="docs-link" href="/docs">
          API docs
        </a>
      </header>
      <ErrorBanners />
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </ErrorProvider>
  );
}

// With hash routing, "#main" would be read as a route: move focus instead of following it.
function skipToMain(event: MouseEvent): void {
  event.preventDefault();
  document.getElementById('main')?.focus();
}
