/**
 * Hash routing: a static site on S3 has no server rewrites, so views live at `#/upload` etc.
 */
export const ROUTES = [
  { id: 'upload', label: 'Upload' },
  { id: 'files', label: 'Files' },
  { id: 'keys', label: 'Keys' },
  { id: 'learn', label: 'Learn' },
  { id: 'settings', label: 'Settings' },
] as const;

export type RouteId = (typeof ROUTES)[number]['id'];

function fromHash(hash: string): RouteId {
  const id = hash.replace(/^#\/?/, '').split('/')[0];
  return ROUTES.find((route) => route.id === id)?.id ?? 'upload';
}

/** What follows the route id in the hash (`#/files/photos/2026/` → `photos/2026/`), or ''. */
function subPathOf(hash: string): string {
  const rest = hash.replace(/^#\/?/, '');
  const slash = rest.indexOf('/');
  return slash < 0 ? '' : rest.slice(slash + 1);
}

export class Router {
  #current = $state<RouteId>(fromHash(location.hash));
  #subPath = $state(subPathOf(location.hash));

  constructor() {
    window.addEventListener('hashchange', () => {
      this.#current = fromHash(location.hash);
      this.#subPath = subPathOf(location.hash);
    });
  }

  get current(): RouteId {
    return this.#current;
  }

  /** The part of the hash after the route id (e.g. the folder in `#/files/<folder>`), or ''. */
  get subPath(): string {
    return this.#subPath;
  }

  /** The link to a view, optionally with a sub-path (already URI-encoded). */
  href(id: RouteId, subPath = ''): string {
    return subPath ? `#/${id}/${subPath}` : `#/${id}`;
  }
}
