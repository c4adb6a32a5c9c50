import { useEffect, useState } from 'preact/hooks';

/** History-API navigation under /ui/: pages are real URLs, so they can be bookmarked and shared. */
export function navigate(href: string, replace = false): void {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  window.dispatchEvent(new Event('peregrine:navigate'));
}

export function useLocation(): { path: string; search: string } {
  const read = () => ({ path: location.pathname, search: location.search });
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const on = () => setLoc(read());
    window.addEventListener('popstate', on);
    window.addEventListener('peregrine:navigate', on);
    return () => {
      window.removeEventListener('popstate', on);
      window.removeEventListener('peregrine:navigate', on);
    };
  }, []);
  return loc;
}

/** Follows same-page links without a reload (plain clicks only; ctrl/middle-click open a tab). */
export function onLinkClick(e: MouseEvent): void {
  const a = (e.target as HTMLElement).closest('a');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target || a.hasAttribute('download')) return;
  const href = a.getAttribute('href');
  if (!href || !href.startsWith('/ui/')) return;
  e.preventDefault();
  navigate(href);
  window.scrollTo(0, 0);
}
