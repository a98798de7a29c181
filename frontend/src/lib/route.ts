// Routes of the app, parsed from the location's path.

export type Route =
  | { page: 'upload' }
  | { page: 'watch'; id: string }
  | { page: 'library' }
  | { page: 'notfound' }

export function parseRoute(path: string): Route {
  if (path === '/' || path === '') return { page: 'upload' }
  if (path === '/library') return { page: 'library' }
  const m = path.match(/^\/watch\/([^/]+)\/?$/)
  if (m) return { page: 'watch', id: decodeURIComponent(m[1]) }
  return { page: 'notfound' }
}
