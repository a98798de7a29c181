// A small history-API router: the app has four pages.
import { parseRoute, type Route } from './route'

class Router {
  route = $state<Route>(parseRoute(location.pathname))

  constructor() {
    window.addEventListener('popstate', () => (this.route = parseRoute(location.pathname)))
  }

  go(path: string) {
    if (path !== location.pathname) history.pushState(null, '', path)
    this.route = parseRoute(path)
    window.scrollTo(0, 0)
  }
}

export const router = new Router()

/** onclick for in-app links: navigates without reloading the page. */
export function link(e: MouseEvent) {
  const a = e.currentTarget as HTMLAnchorElement
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || a.target) return
  e.preventDefault()
  router.go(a.pathname)
}
