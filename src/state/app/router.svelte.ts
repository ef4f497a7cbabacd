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

/**
 * The payload of a share link's page (`#/share/<payload>`), or undefined for any other hash. The
 * share page sits outside the navigation: it needs no credentials ([Note: share links]).
 */
export function sharePayloadOf(hash: string): string | undefined {
  return hash.startsWith('#/share/') ? hash.slice('#/share/'.length) : undefined;
}

export class Router {
  #current = $state<RouteId>(fromHash(location.hash));
  #subPath = $state(subPathOf(location.hash));
  #share = $state(sharePayloadOf(location.hash));

  constructor() {
    window.addEventListener('hashchange', () => {
      this.#current = fromHash(location.hash);
      this.#subPath = subPathOf(location.hash);
      this.#share = sharePayloadOf(location.hash);
    });
  }

  /** The share link payload when the page shows a link (`#/share/...`), else undefined. */
  get share(): string | undefined {
    return this.#share;
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
