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
  const id = hash.replace(/^#\/?/, '');
  return ROUTES.find((route) => route.id === id)?.id ?? 'upload';
}

export class Router {
  #current = $state<RouteId>(fromHash(location.hash));

  constructor() {
    window.addEventListener('hashchange', () => {
      this.#current = fromHash(location.hash);
    });
  }

  get current(): RouteId {
    return this.#current;
  }

  href(id: RouteId): string {
    return `#/${id}`;
  }
}
