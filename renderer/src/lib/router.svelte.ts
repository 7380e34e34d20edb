// Hash routing (#/library, #/machines/3, ...): works the same under file:// in Electron and
// http:// in web mode, and survives a reload.

export const pages = ['library', 'templates', 'machines', 'settings'] as const;
export type Page = (typeof pages)[number];

function parse(hash: string): { page: Page; rest: string[] } {
  const [first, ...rest] = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const page = (pages as readonly string[]).includes(first ?? '') ? (first as Page) : 'library';
  return { page, rest };
}

class Router {
  current = $state(parse(typeof location === 'undefined' ? '' : location.hash));

  constructor() {
    if (typeof window !== 'undefined') {
      window.addEventListener('hashchange', () => (this.current = parse(location.hash)));
    }
  }

  go(page: Page, ...rest: (string | number)[]): void {
    location.hash = `#/${[page, ...rest].join('/')}`;
  }
}

export const router = new Router();
